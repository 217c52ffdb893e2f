#!/usr/bin/env bash
# A fleet watched by Prometheus, the way several generator hosts test one device (issue 14): three
# synwave clients, each in a namespace of its own (a host), against one synwave server in the
# hub namespace, all started at one instant (--start-at) on disjoint source ports (--shard I/3),
# each serving --metrics on its host's management address. A real Prometheus (Debian's, with its
# own configuration and data directory in the scratch directory) scrapes the four every second.
#
# Layout: the hub holds a bridge (management address 198.18.1.1) with the server's net_tap and
# one veth per host; each host bridges its end of the veth with its client's net_tap and has its
# management address 198.18.1.1I there. The data plane (synwave's own addresses, 198.18.0.0/24)
# and the scrapes share that segment.
#
# Checked: Prometheus finds the four targets up and parses every family (a histogram quantile
# evaluates); after the run, the PromQL sum of the clients' completed connections equals the
# server's accepted count within one scrape interval of the clients' rate; `synwave merge` of the
# clients' reports agrees with the server's report; a bad --metrics address and a port in use are
# refused with one line.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly HOSTS=3
readonly RATE=400           # per client, connections per second
readonly DURATION=4
readonly SCRAPE_S=1
readonly HUB_IP=198.18.1.1
readonly SERVER_METRICS="$HUB_IP:9104"
readonly SERVER_TAP=swflsrv

sw_begin 180
sw_require prometheus curl
sw_netns
sw_bridge
ip -n "$SW_NS" addr add "$HUB_IP/24" dev "$SW_BRIDGE"

# promql QUERY: the query's value at this instant (a scalar: the sum of what it returns), or
# "none" when it returns nothing.
promql() {
  ip netns exec "$SW_NS" curl -sS --max-time 5 --get "http://$HUB_IP:9090/api/v1/query" --data-urlencode "query=$1" |
    "$PYTHON" -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(sum(float(x["value"][1]) for x in r) if r else "none")'
}

sw_check "refused with one line: a --metrics that is not A.B.C.D:PORT, and a port already in use"
sw_refuse "--metrics '198.18.1.1' is not A.B.C.D:PORT" -- loopback --metrics 198.18.1.1
ip netns exec "$SW_NS" "$PYTHON" -c 'import socket, sys, time
s = socket.socket(); s.bind((sys.argv[1], 9199)); s.listen(); print("listening", flush=True); time.sleep(60)' "$HUB_IP" \
  >"$SW_WORKDIR/squatter.log" 2>&1 &
SQUATTER=$!
sw_track "$SQUATTER"
sw_wait_for 10 "squatter" grep -q listening "$SW_WORKDIR/squatter.log" || sw_fail "the port squatter did not start"
sw_refuse_in "$SW_NS" "--metrics $HUB_IP:9199: cannot listen there" --no-huge -m 256 --no-pci -l 0 \
  --file-prefix="$(sw_file_prefix busy)" -- loopback --metrics "$HUB_IP:9199"
sw_kill_pid "$SQUATTER"

sw_start_synwave "$SW_WORKDIR/server.log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
  --file-prefix="$(sw_file_prefix server)" -- server --ip 198.18.0.2/24 --listen 80 --http 64 \
  --metrics "$SERVER_METRICS" --run-id fleet --report "$SW_WORKDIR/server.json" --stats-interval 0
SERVER_PID=$SW_PID
sw_wait_tap "$SERVER_TAP"
sw_wait_ready "$SW_WORKDIR/server.log"
sw_bridge_attach "$SERVER_TAP" 02:00:00:00:04:01

# The hosts: a namespace each, joined to the hub by a veth.
declare -a HOST_NS
targets="'$SERVER_METRICS'"
for ((i = 0; i < HOSTS; i++)); do
  ns="$(sw_new_netns)" || sw_fail "cannot create host $i's namespace"
  sw_track_netns "$ns"
  HOST_NS[i]="$ns"
  ip -n "$SW_NS" link add "swflv$i" type veth peer name uplink netns "$ns"
  ip -n "$SW_NS" link set "swflv$i" master "$SW_BRIDGE" up
  ip -n "$ns" link add br0 type bridge
  ip -n "$ns" link set uplink master br0 up
  ip -n "$ns" addr add "198.18.1.1$i/24" dev br0
  ip -n "$ns" link set br0 up
  targets+=", '198.18.1.1$i:9100'"
done
sw_log "hosts: ${HOST_NS[*]}"

cat >"$SW_WORKDIR/prometheus.yml" <<EOF
global:
  scrape_interval: ${SCRAPE_S}s
  scrape_timeout: ${SCRAPE_S}s
scrape_configs:
  - job_name: synwave
    static_configs:
      - targets: [$targets]
EOF
ip netns exec "$SW_NS" prometheus --config.file="$SW_WORKDIR/prometheus.yml" --storage.tsdb.path="$SW_WORKDIR/tsdb" \
  --web.listen-address="$HUB_IP:9090" --log.level=warn >"$SW_WORKDIR/prometheus.log" 2>&1 &
PROMETHEUS_PID=$!
sw_track "$PROMETHEUS_PID"
sw_wait_for 30 "prometheus" ip netns exec "$SW_NS" curl -sf "http://$HUB_IP:9090/-/ready" ||
  { sw_tail "$SW_WORKDIR/prometheus.log"; sw_fail "Prometheus not ready after 30 s"; }
sw_log "Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3) scrapes $targets every ${SCRAPE_S}s"

START=$("$PYTHON" -c 'import time; print(f"{time.time() + 10:.3f}")')
sw_log "the clients start at $START"
declare -a CLIENT_PID
for ((i = 0; i < HOSTS; i++)); do
  sw_start_synwave_in "${HOST_NS[i]}" "$SW_WORKDIR/client$i.log" --no-huge -m 512 --no-pci \
    --vdev "net_tap0,iface=swflc" -l 1 --file-prefix="$(sw_file_prefix "c$i")" -- \
    client --ip "198.18.0.1$i/24" --dst 198.18.0.2:80 --http-get / --src-ports 20000-49999 --shard "$i/$HOSTS" \
    --start-at "$START" --duration "$DURATION" --rate "$RATE" --concurrency 64 --connect-timeout 5 \
    --metrics "198.18.1.1$i:9100" --run-id fleet --report "$SW_WORKDIR/client$i.json" --stats-interval 1
  CLIENT_PID[i]=$SW_PID
  sw_wait_ready "$SW_WORKDIR/client$i.log"  # its port started: the tap has its MAC (sw_bridge_attach)
  ip -n "${HOST_NS[i]}" link set swflc address "02:00:00:00:04:1$i"
  ip -n "${HOST_NS[i]}" link set swflc master br0 up
done

# While they run: every target up, and a histogram quantile over the clients' buckets.
sw_wait_for 30 "the run" "$PYTHON" -c 'import sys, time; sys.exit(0 if time.time() > float(sys.argv[1]) + 2 else 1)' "$START"
sw_check "mid-run: Prometheus has the four targets up and evaluates p99 connect latency over the clients"
# A scrape may time out now and then (four busy-polling processes on two cores): the targets
# must all be up at once within a few scrapes.
all_up() { [[ "$(promql 'sum(up{job="synwave"})')" == 4.0 ]]; }
sw_wait_for 5 "all up" all_up || true
up="$(promql 'sum(up{job="synwave"})')"
p99="$(promql 'histogram_quantile(0.99, sum(rate(synwave_connect_latency_seconds_bucket{run="fleet"}[3s])) by (le))')"
sw_log "up: $up; p99 connect latency: $p99 s"
[[ "$up" == 4.0 ]] || { ip netns exec "$SW_NS" curl -sS "http://$HUB_IP:9090/api/v1/targets" >&2; sw_fail "up = $up, not 4"; }
"$PYTHON" -c 'import sys; v = sys.argv[1]; sys.exit(0 if v != "none" and 0 < float(v) < 5 else 1)' "$p99" ||
  sw_fail "p99 connect latency from Prometheus is $p99"
sw_ok "4 targets up, p99 connect $p99 s"

for ((i = 0; i < HOSTS; i++)); do
  sw_wait_exit "${CLIENT_PID[i]}" "$SW_WORKDIR/client$i.log" 60
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SW_WORKDIR/client$i.log"; sw_fail "client $i exited with $SW_STOP_STATUS"; }
  sw_ok "client $i: $(grep '^synwave client:' "$SW_WORKDIR/client$i.log")"
done
sleep $((2 * SCRAPE_S + 1))  # the server's last figures scraped
sw_check "after the run: the PromQL sum of the clients' completions equals the server's accepted count within one scrape interval"
clients="$(promql 'sum(last_over_time(synwave_conn_completed_total{run="fleet",role="client"}[2m]))')"
server="$(promql 'sum(last_over_time(synwave_conn_accepted_total{run="fleet",role="server"}[2m]))')"
sw_log "Prometheus: clients completed $clients, server accepted $server"
"$PYTHON" -c 'import sys; c, s, slack = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
sys.exit(0 if 0 < c <= s <= c + slack else 1)' "$clients" "$server" $((HOSTS * RATE * SCRAPE_S)) ||
  sw_fail "clients $clients vs server $server: more than $((HOSTS * RATE * SCRAPE_S)) apart (${SCRAPE_S}s at ${HOSTS}x$RATE/s)"
sw_ok "within $((HOSTS * RATE * SCRAPE_S)) (one scrape interval of the clients' rate)"
sw_stop "$SERVER_PID" "$SW_WORKDIR/server.log" 15
sw_assert_json "$SW_WORKDIR/server.json" "server's report: the Prometheus figure is its accepted count" \
  "r['counters']['conn_accepted'] == $server"

sw_check "synwave merge of the three clients' reports agrees with the server's report"
"$SYNWAVE" merge "$SW_WORKDIR"/client{0,1,2}.json >"$SW_WORKDIR/merged.json" 2>"$SW_WORKDIR/merge.err" ||
  { cat "$SW_WORKDIR/merge.err" >&2; sw_fail "synwave merge failed"; }
"$PYTHON" - "$SW_WORKDIR/merged.json" "$SW_WORKDIR/server.json" "$SW_WORKDIR"/client{0,1,2}.json <<'PY' ||
import json, sys
merged, server, *clients = (json.load(open(f)) for f in sys.argv[1:])
completed = sum(c["connections_completed"] for c in clients)
opened = sum(c["counters"]["conn_opened"] for c in clients)
accepted = server["counters"]["conn_accepted"]
print(f"merged: {merged['connections_completed']} completed of {merged['counters']['conn_opened']} opened, "
      f"cps {merged['cps']:.0f}; the server accepted {accepted}")
assert merged["connections_completed"] == completed, "completions are not the sum"
assert merged["counters"]["conn_opened"] == opened, "opens are not the sum"
assert merged["connections_completed"] <= accepted <= merged["counters"]["conn_opened"], "the server disagrees"
assert merged["latency"]["connect"]["count"] == sum(c["latency"]["connect"]["count"] for c in clients)
assert merged["connections_failed"] == 0 and server["counters"]["rst_sent"] == 0
# The timelines on one wall clock: the three started at one instant, so their seconds line up.
full = [t for t in merged["timeline"] if t["instances"] == 3]
assert len(full) >= 3, f"only {len(full)} merged timeline samples hold all three instances"
PY
  sw_fail "the merged report disagrees (above)"
sw_ok "merged report agrees"
