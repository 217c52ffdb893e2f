#!/usr/bin/env bash
# One synwave process drives two ports (`pair`): its client on one net_tap, its server on the
# other, and the test's namespace is the device under test between them, as a firewall, NAT or
# balancer would be. Three runs, each with the two sides' reports checked against each other:
#   1. the device routes (198.18.1.0/24 on the client's side, 198.18.2.0/24 on the server's), with
#      one lcore per side, then with two per side (each port's two queues, the software
#      dispatcher on each side);
#   2. the device DNATs: the client targets a virtual address, 198.18.3.1, that nftables rewrites
#      to the server's;
#   3. the device's connection tracking is limited (nftables `ct count`, since this kernel keeps
#      nf_conntrack_max read-only inside a namespace): the client tries to hold more connections
#      than the limit, the device tracks as many as it allows, and the test reports the figures.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CLIENT_TAP=swpairc
readonly SERVER_TAP=swpairs
readonly CONNECTIONS=3000
readonly CT_LIMIT=200
readonly HOLD=400

sw_begin 240
sw_require nft
sw_netns
sw_in_ns sysctl -qw net.ipv4.ip_forward=1

# device_side TAP MAC ADDRESS: the device's interface toward one side of the pair.
device_side() {
  ip -n "$SW_NS" link set "$1" address "$2"
  ip -n "$SW_NS" addr add "$3" dev "$1"
  ip -n "$SW_NS" link set "$1" up
}

# run_pair NAME PAIR_OPTIONS...: one synwave pair run, client on port 0 (198.18.1.2, through the
# device at 198.18.1.1), server on port 1 (198.18.2.2, HTTP with 100-byte bodies); waits until it
# ends by itself. The report is $SW_WORKDIR/NAME.json. PAIR_LCORES: the EAL's lcore option.
run_pair() {
  local name="$1"
  shift
  local log="$SW_WORKDIR/$name.log"
  sw_start_synwave "$log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$CLIENT_TAP" \
    --vdev "net_tap1,iface=$SERVER_TAP" ${PAIR_LCORES:--l 0-1} --file-prefix="$(sw_file_prefix "$name")" -- pair \
    --client-port 0 --server-port 1 --client-ip 198.18.1.2/24 --gateway 198.18.1.1 --server-ip 198.18.2.2/24 \
    --listen 80 --http 100 --report "$SW_WORKDIR/$name.json" --stats-interval 1 "$@"
  local pid=$SW_PID
  sw_wait_tap "$CLIENT_TAP"
  sw_wait_tap "$SERVER_TAP"
  sw_wait_ready "$log"
  # After the ports started (starting one copies its MAC onto the kernel side).
  device_side "$CLIENT_TAP" 02:00:00:00:01:01 198.18.1.1/24
  device_side "$SERVER_TAP" 02:00:00:00:02:01 198.18.2.1/24
  sw_wait_exit "$pid" "$log" 90
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$log" 30; sw_fail "synwave pair ($name) exited with $SW_STOP_STATUS"; }
  sw_ok "$name: $(grep '^synwave pair:' "$log" || echo 'no summary line')"
}

# check_agree NAME: every connection completed, none failed, each request answered, on both sides.
check_agree() {
  local report="$SW_WORKDIR/$1.json"
  sw_assert_json "$report" "$1: the client completed $CONNECTIONS connections, 0 failed" \
    "r['pair']['client_completed'] == $CONNECTIONS and r['pair']['client_failed'] == 0"
  sw_assert_json "$report" "$1: the server accepted each one, 0 failed, and the sides agree" \
    "r['pair']['server_accepted'] == $CONNECTIONS and r['pair']['server_failed'] == 0 and r['pair']['agree']"
  sw_assert_json "$report" "$1: $CONNECTIONS requests read by the server, $CONNECTIONS whole responses by the client" \
    "r['pair']['server_http_requests'] == $CONNECTIONS and r['pair']['client_http_responses'] == $CONNECTIONS"
  sw_assert_json "$report" "$1: no RST, no failure of any reason" \
    "r['counters']['rst_sent'] == 0 and all(v == 0 for v in r['failures'].values())"
}

sw_check "routing device: $CONNECTIONS connections from 198.18.1.2 to 198.18.2.2:80 through it"
run_pair forward --dst 198.18.2.2:80 --connections "$CONNECTIONS" --rate 1000 --connect-timeout 10
check_agree forward
sw_assert_json "$SW_WORKDIR/forward.json" "forward: the report names both ports and both addresses" \
  "r['config']['client_port'] == 0 and r['config']['server_port'] == 1 and r['config']['server_ip'] == '198.18.2.2/24' and len(r['ports']) == 2"

sw_check "routing device, two lcores per side: four lcores on this machine's two CPUs (lcores 0 and 2 on CPU 0)"
PAIR_LCORES="--lcores 0@0,1@1,2@0,3@1" run_pair forward4 --dst 198.18.2.2:80 --connections "$CONNECTIONS" --rate 1000 \
  --connect-timeout 10
check_agree forward4
sw_assert_json "$SW_WORKDIR/forward4.json" "forward4: the client's two lcores opened connections, the server's two accepted them" \
  "sorted(l['counters']['conn_opened'] > 0 for l in r['lcores']) == [False, False, True, True] and sorted(l['counters']['conn_accepted'] > 0 for l in r['lcores']) == [False, False, True, True] and all(l['counters']['conn_opened'] == 0 or l['counters']['conn_accepted'] == 0 for l in r['lcores'])"
sw_assert_json "$SW_WORKDIR/forward4.json" "forward4: each side's dispatcher brought every segment to its flow's lcore" \
  "r['config']['dispatch'] == 'two ports: client software, server software' and r['counters']['drop_no_connection'] == 0"

sw_check "DNAT device: the client targets 198.18.3.1:80, the device rewrites it to 198.18.2.2:80"
sw_in_ns nft -f - <<'EOF'
table ip dut {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    ip daddr 198.18.3.1 tcp dport 80 counter dnat to 198.18.2.2
  }
}
EOF
run_pair dnat --dst 198.18.3.1:80 --connections "$CONNECTIONS" --rate 1000 --connect-timeout 10
check_agree dnat
dnat_packets=$(sw_in_ns nft list chain ip dut prerouting | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
sw_log "the DNAT rule translated $dnat_packets connections (a NAT chain sees each connection's first packet)"
[[ "$dnat_packets" -ge "$CONNECTIONS" ]] || sw_fail "the DNAT rule saw $dnat_packets connections, fewer than $CONNECTIONS"
sw_ok "every connection went through the DNAT rule"

sw_check "conntrack limit: the device tracks at most $CT_LIMIT connections; the client tries to hold $HOLD"
sw_in_ns nft -f - <<EOF
table ip dut {
  chain forward {
    type filter hook forward priority filter;
    ct state new ct count over $CT_LIMIT counter drop
  }
}
EOF
tracked_before=$(sw_in_ns cat /proc/sys/net/netfilter/nf_conntrack_count)
run_pair ctlimit --dst 198.18.3.1:80 --concurrency "$HOLD" --requests-per-connection 0 --request-interval 0.5 \
  --rate 2000 --connect-timeout 1 --duration 6
tracked=$(sw_in_ns cat /proc/sys/net/netfilter/nf_conntrack_count)
dropped=$(sw_in_ns nft list chain ip dut forward | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
report="$SW_WORKDIR/ctlimit.json"
held=$(sw_json "$report" "r['roles']['client']['gauges']['ESTABLISHED']")
timeouts=$(sw_json "$report" "r['failures']['connect_timeout']")
sw_log "device: $dropped new-connection packets dropped at the limit; conntrack entries $tracked_before before the run (the first two runs' closed connections), $tracked after"
sw_log "client: $held connections held at the end, $timeouts attempts timed out at the device"
sw_assert_json "$report" "ctlimit: the client held exactly the device's $CT_LIMIT, the rest of its $HOLD timed out" \
  "r['roles']['client']['gauges']['ESTABLISHED'] == $CT_LIMIT and r['failures']['connect_timeout'] > 0"
sw_assert_json "$report" "ctlimit: the server holds the same $CT_LIMIT, and the sides agree" \
  "r['roles']['server']['gauges']['ESTABLISHED'] == $CT_LIMIT and r['pair']['agree'] and r['pair']['server_accepted'] == $CT_LIMIT"
sw_assert_json "$report" "ctlimit: each held connection's requests answered (one a half-second each for 6 s)" \
  "r['pair']['server_http_requests'] >= $CT_LIMIT * 8 and r['pair']['client_http_responses'] >= $CT_LIMIT * 8"
[[ "$dropped" -gt 0 ]] || sw_fail "the device dropped no packet at its limit"
sw_ok "the device's limit filled: $dropped packets dropped, the client saw it as $timeouts connect timeouts"
