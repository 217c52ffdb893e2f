#!/usr/bin/env bash
# A client run right after another, on the same source ports, against the Linux kernel: the kernel
# (the server closes first) still holds every tuple of the first run in TIME-WAIT, and accepts a
# new SYN on one only when its timestamp is newer than the last one it saw there (RFC 6191, as
# Linux does). synwave's TSval clock counts from boot (EngineConfig::timestamp_base_ms), so the
# second run's SYNs are accepted at once; with a clock restarting at 0 for each run, every one
# was answered with the old connection's ACK, reset by synwave, and retried a whole RTO later.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CONNECTIONS=400
readonly SERVER_PORT=8080
readonly PORTS=30000-30399  # one port per connection: each tuple of the second run is one the first used

sw_begin 120
sw_netns

LISTENER_STATS="$SW_WORKDIR/listener.json"
LISTENER_LOG="$SW_WORKDIR/listener.log"
sw_start_kernel_listener "$SERVER_PORT" "$LISTENER_STATS" "$LISTENER_LOG"

# client_run NAME [OPTIONS]: CONNECTIONS connections, 50 at a time, from PORTS; report in
# $SW_WORKDIR/NAME.json.
client_run() {
  local name="$1"
  shift
  sw_start_tap_synwave "$SW_WORKDIR/$name.log" 0 "" client --dst "$SW_KERNEL_IP:$SERVER_PORT" \
    --connections "$CONNECTIONS" --concurrency 50 --src-ports "$PORTS" --http-get / \
    --report "$SW_WORKDIR/$name.json" --stats-interval 1 "$@"
  sw_wait_exit "$SW_PID" "$SW_WORKDIR/$name.log" 60
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SW_WORKDIR/$name.log"; sw_fail "$name: the client exited with $SW_STOP_STATUS"; }
  sw_wait_for 10 "tap gone" sh -c "! ip -n '$SW_NS' link show '$SW_TAP'" || sw_fail "$SW_TAP still exists"
  sw_log "$name: $(sw_json "$SW_WORKDIR/$name.json" "'%d completed, %d failed, connect p99 %.0f us, %d RSTs sent' % (r['connections_completed'], r['connections_failed'], r['latency']['connect']['p99'], r['counters']['rst_sent'])")"
}

# The first run takes 2 s, the second a fraction of that: a clock that restarts at 0 would give
# almost every tuple of the second run an older TSval than the first run's last one.
client_run first --rate 200
sw_check "the kernel holds the first run's tuples in TIME-WAIT"
TW="$(sw_in_ns ss -Htan state time-wait "( sport = :$SERVER_PORT )" | wc -l)"
[[ "$TW" -ge $((CONNECTIONS * 9 / 10)) ]] || sw_fail "only $TW connections in TIME-WAIT on the kernel side"
sw_ok "$TW in TIME-WAIT"
client_run second
for name in first second; do
  sw_assert_json "$SW_WORKDIR/$name.json" "$name run: every connection completed at once (no RST, connect p99 under 200 ms)" \
    "r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0 and r['counters']['rst_sent'] == 0 and \
r['latency']['connect']['p99'] < 200000"
done
