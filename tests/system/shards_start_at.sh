#!/usr/bin/env bash
# Several client instances started at one instant on disjoint tuples, the way N generator hosts
# are run against one device (--start-at, --shard): two synwave clients and a synwave server,
# each on its own net_tap, bridged inside the test's namespace. Both clients take the same
# --src-ports and --start-at; --shard 0/2 and 1/2 give each half of the ports. Checked: each
# client's SYNs use only its half, none leaves before the instant, the first within 0.2 s of it
# (the next hop was resolved while waiting: startup_s is small), the reports carry the instant,
# and the server accepted what the two completed. Bad values are refused with one line.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly SERVER_TAP=swshs
readonly TAP_A=swsha
readonly TAP_B=swshb

sw_begin 120
sw_require tshark
sw_netns
sw_bridge

# attach TAP MAC LOG: on the bridge once its synwave's port has started.
attach() {
  sw_wait_tap "$1"
  sw_wait_ready "$3"
  sw_bridge_attach "$1" "$2"
}

sw_start_synwave "$SW_WORKDIR/server.log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
  --file-prefix="$(sw_file_prefix server)" -- server --ip 198.18.0.2/24 --listen 80 --http 64 \
  --report "$SW_WORKDIR/server.json" --stats-interval 0
SERVER_PID=$SW_PID
attach "$SERVER_TAP" 02:00:00:00:03:01 "$SW_WORKDIR/server.log"
# The kernel's capture of the server's segment, for wall-clock timestamps (the program's own
# capture, rte_pcapng, stamped frames in the year 2305 here).
sw_tcpdump_start "$SERVER_TAP" "$SW_WORKDIR/server-side.pcap"

# The instant both start at: far enough ahead for both to come up and resolve the server.
START=$("$PYTHON" -c 'import time; print(f"{time.time() + 8:.3f}")')
START_RFC3339=$("$PYTHON" -c 'import datetime, sys; print(datetime.datetime.fromtimestamp(float(sys.argv[1]), datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"))' "$START")
sw_log "both clients start at $START_RFC3339 ($START)"

# client NAME TAP IP SHARD START: one client instance, its report NAME.json.
client() {
  sw_start_synwave "$SW_WORKDIR/$1.log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$2" -l 1 \
    --file-prefix="$(sw_file_prefix "$1")" -- client --ip "$3/24" --dst 198.18.0.2:80 --http-get / \
    --src-ports 20000-29999 --shard "$4" --start-at "$5" --duration 3 --rate 300 --concurrency 64 \
    --connect-timeout 5 --report "$SW_WORKDIR/$1.json" --stats-interval 0
}
sw_check "two clients, shards 0/2 and 1/2 of ports 20000-29999, both --start-at $START_RFC3339 (one in RFC 3339, one in epoch seconds)"
client a "$TAP_A" 198.18.0.10 0/2 "$START_RFC3339"
PID_A=$SW_PID
attach "$TAP_A" 02:00:00:00:03:02 "$SW_WORKDIR/a.log"
client b "$TAP_B" 198.18.0.11 1/2 "$START"
PID_B=$SW_PID
attach "$TAP_B" 02:00:00:00:03:03 "$SW_WORKDIR/b.log"
for pid_name in "$PID_A a" "$PID_B b"; do
  read -r pid name <<<"$pid_name"
  sw_wait_exit "$pid" "$SW_WORKDIR/$name.log" 60
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SW_WORKDIR/$name.log"; sw_fail "client $name exited with $SW_STOP_STATUS"; }
  sw_ok "client $name: $(grep '^synwave client:' "$SW_WORKDIR/$name.log")"
done
sw_tcpdump_stop "$SW_WORKDIR/server-side.pcap"
sw_stop "$SERVER_PID" "$SW_WORKDIR/server.log" 15

for c in "a 198.18.0.10 0/2 20000 24999" "b 198.18.0.11 1/2 25000 29999"; do
  read -r name ip shard first last <<<"$c"
  report="$SW_WORKDIR/$name.json"
  sw_assert_json "$report" "client $name: shard $shard is ports $first-$last, a tuple space of 5000; none failed" \
    "r['config']['shard'] == '$shard' and r['config']['src_ports_used'] == '$first-$last' and r['generator']['tuple_space'] == 5000 and r['connections_failed'] == 0 and r['connections_completed'] > 500"
  sw_assert_json "$report" "client $name: the run started at the instant given, and its first connection at once (next hop resolved before)" \
    "abs(r['started_at_unix_s'] - $START) < 0.001 and r['startup_s'] < 0.05"
  # The SYNs it sent, as the server's segment saw them: (time, source port).
  syns=$(tshark -r "$SW_WORKDIR/server-side.pcap" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == $ip" \
    -T fields -e frame.time_epoch -e tcp.srcport 2>/dev/null)
  [[ -n "$syns" ]] || sw_fail "client $name: no SYN from $ip in the capture"
  read -r t_first p_min p_max <<<"$(awk 'NR == 1 || $1 < t {t = $1} NR == 1 || $2 < lo {lo = $2} NR == 1 || $2 > hi {hi = $2} END {print t, lo, hi}' <<<"$syns")"
  sw_log "client $name: $(wc -l <<<"$syns") SYNs captured, source ports $p_min-$p_max, the first at $t_first"
  "$PYTHON" -c "import sys; t, s = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if s - 0.005 <= t <= s + 0.2 else 1)" \
    "$t_first" "$START" || sw_fail "client $name: its first SYN left at $t_first, not within [start - 5 ms, start + 200 ms] of $START"
  ((p_min >= first && p_max <= last)) || sw_fail "client $name: source ports $p_min-$p_max outside its shard $first-$last"
  sw_ok "client $name: SYNs only from its shard's ports, the first at the instant"
done
completed=$(($(sw_json "$SW_WORKDIR/a.json" "r['connections_completed']") + $(sw_json "$SW_WORKDIR/b.json" "r['connections_completed']")))
opened=$(($(sw_json "$SW_WORKDIR/a.json" "r['counters']['conn_opened']") + $(sw_json "$SW_WORKDIR/b.json" "r['counters']['conn_opened']")))
sw_assert_json "$SW_WORKDIR/server.json" "server: accepted every connection the two clients completed ($completed; at most the $opened they opened: the last ones were cut by --duration), no RST" \
  "$completed <= r['counters']['conn_accepted'] <= $opened and r['counters']['rst_sent'] == 0 and r['counters']['rst_received'] == 0"

sw_check "bad shards and instants are refused with one line naming them"
sw_refuse "--shard '2/2' is not I/N" -- loopback --shard 2/2
sw_refuse "--shard 3/5: 5 shards of the 4 source ports" -- loopback --shard 3/5 --src-ports 1024-1027
sw_refuse "--start-at 2000-01-01T00:00:00Z is [0-9]+ s in the past" -- loopback --start-at 2000-01-01T00:00:00Z
sw_refuse "--start-at '2026-13-01T00:00:00Z' is neither RFC 3339" -- loopback --start-at 2026-13-01T00:00:00Z
sw_refuse "--start-at '2030-01-01T00:00:00' is neither RFC 3339" -- loopback --start-at 2030-01-01T00:00:00
