#!/usr/bin/env bash
# Concurrent connections over net_memif, one lcore each (client on lcore 0, server on lcore 1):
# the client opens HELD connections at RATE per second and keeps every one for the run, each
# sending a GET every INTERVAL seconds (--requests-per-connection 0 --request-interval); one line
# says how many each side held at the end, the requests per second once all were open, the busy
# share of each lcore, and what the engine tables cost per connection record.
#
#   scripts/bench-concurrency.sh [HELD] [INTERVAL] [RATE] [SECONDS]     # as root
#     defaults: 1000000 connections, a request every 10 s, opened at 200000/s, 40 s in all
#
# Runs inside a network namespace it creates and deletes; addresses are 198.18.0.0/15 only (the
# client's tuples: 32 source addresses x 64,512 ports). Environment: SYNWAVE (default
# build/src/app/synwave).
set -euo pipefail
HELD=${1:-1000000}
INTERVAL=${2:-10}
RATE=${3:-200000}
SECONDS_RUN=${4:-40}
SYNWAVE=${SYNWAVE:-build/src/app/synwave}
[[ -x "$SYNWAVE" ]] || { echo "bench-concurrency: $SYNWAVE not found: build first (scripts/build.sh)" >&2; exit 2; }
# Room above what is held, so the pool never reaches the shed watermark (--shed-watermark's
# default is a fraction of it) while SYNs lost to a full ring are retried.
RECORDS=$((HELD + HELD / 4 + 1024))

# shellcheck source=scripts/scratch-netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch-netns.sh"
scratch_netns bench-concurrency "bc$$"

MEMIF="socket=$DIR/memif.sock,socket-abstract=no,id=0,rsize=12"
ip netns exec "$NS" "$SYNWAVE" --no-huge -m 1024 --no-pci -l 1 --file-prefix "bc$$s" \
  --vdev "net_memif0,role=server,$MEMIF,mac=02:00:00:00:00:02" -- \
  server --ip 198.18.2.1/16 --listen 80 --http 100 --max-connections "$RECORDS" --idle-timeout 600 \
  --report "$DIR/server.json" --stats-interval 1 >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
wait_server_ready "$DIR/server.log" 300
ip netns exec "$NS" "$SYNWAVE" --no-huge -m 1024 --no-pci -l 0 --file-prefix "bc$$c" \
  --vdev "net_memif0,role=client,$MEMIF,mac=02:00:00:00:00:01" -- \
  client --ip 198.18.1.1/16 --src-ip 198.18.1.1-198.18.1.32 --src-ports 1024-65535 --dst 198.18.2.1:80 \
  --http-get / --rate "$RATE" --concurrency "$HELD" --max-connections "$RECORDS" --idle-timeout 600 \
  --requests-per-connection 0 --request-interval "$INTERVAL" --duration "$SECONDS_RUN" \
  --report "$DIR/client.json" --stats-interval 1 >"$DIR/client.log" 2>&1 &
stop_server_after_run $! "$DIR/client.log"

/usr/bin/python3 - "$DIR" "$HELD" "$INTERVAL" <<'PY'
import json, statistics, sys
d, held, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
client = json.load(open(f"{d}/client.json"))
server = json.load(open(f"{d}/server.json"))
timeline = client["timeline"]
full = [t for t in timeline if t["client_established"] == held]
# Requests per second once every connection was open and had sent its first request: the mean of
# the samples from one interval after the first full one (the requests come in waves that follow
# the ramp, so single seconds differ; a window of whole intervals does not).
steady = [t for t in full if full and t["t_s"] > full[0]["t_s"] + interval]
steady = steady[len(steady) - len(steady) // round(interval) * round(interval):] if interval >= 1 else steady
rps = statistics.mean(t["http_requests_per_s"] for t in steady) if steady else 0
def busy(r, role):  # the mean over the side's last whole intervals with every connection held
    samples = [t[f"{role}_busy_pct"] for t in r["timeline"] if t[f"{role}_established"] == held][-len(steady):]
    return statistics.mean(samples) if samples and steady else 0
print(f"held {timeline[-1]['client_established']:,} (client) / {server['timeline'][-1]['server_established']:,} (server) "
      f"of {held:,}, all open after {full[0]['t_s']:.0f} s; " if full else f"never held all {held:,}; ", end="")
print(f"{rps:,.0f} requests/s over the last {len(steady)} s (a request every {interval:g} s each: {held / interval:,.0f}); "
      f"busy client {busy(client, 'client'):.0f} % server {busy(server, 'server'):.0f} %; "
      f"failed {client['connections_failed']} / {server['connections_failed']}; "
      f"engine tables {client['memory']['bytes_per_record']} (client) / {server['memory']['bytes_per_record']} (server) "
      f"bytes per connection record")
PY
