#!/usr/bin/env bash
# synwave client -> synwave server, 100,000 connections, none may fail. Two synwave processes,
# each on its own net_tap, the two kernel interfaces bridged inside the test's namespace (the
# kernel only forwards: it has no address there). The client walks a tuple space of 4 source
# addresses x 64,512 ports x 2 destinations (ports 80 and 81 on the server), sends GET / on each
# connection and reads a 64-byte body; the server closes first (synwave's default).
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CONNECTIONS=100000
readonly SERVER_TAP=swtaps
readonly CLIENT_TAP=swtapc

sw_begin 300
sw_netns

SERVER_LOG="$SW_WORKDIR/server.log"
CLIENT_LOG="$SW_WORKDIR/client.log"
SERVER_REPORT="$SW_WORKDIR/server.json"
CLIENT_REPORT="$SW_WORKDIR/client.json"

sw_bridge

# attach TAP MAC LOG: on the bridge once its synwave's port has started.
attach() {
  sw_wait_tap "$1"
  sw_wait_ready "$3"
  sw_bridge_attach "$1" "$2"
}

sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
  --file-prefix="$(sw_file_prefix server)" -- server --ip 198.18.0.2/24 --listen 80 --listen 81 --http 64 \
  --report "$SERVER_REPORT" --stats-interval 5
SERVER_PID=$SW_PID
attach "$SERVER_TAP" 02:00:00:00:01:01 "$SERVER_LOG"

sw_start_synwave "$CLIENT_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$CLIENT_TAP" -l 1 \
  --file-prefix="$(sw_file_prefix client)" -- client --ip 198.18.0.10/24 --src-ip 198.18.0.100-198.18.0.103 \
  --dst 198.18.0.2:80-81 --connections "$CONNECTIONS" --concurrency 256 --http-get / --connect-timeout 30 \
  --report "$CLIENT_REPORT" --stats-interval 5
CLIENT_PID=$SW_PID
attach "$CLIENT_TAP" 02:00:00:00:01:02 "$CLIENT_LOG"

sw_check "synwave client finishes $CONNECTIONS connections by itself"
run_start=$SECONDS
sw_wait_exit "$CLIENT_PID" "$CLIENT_LOG" 240
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$CLIENT_LOG"; sw_fail "synwave client exited with $SW_STOP_STATUS"; }
sw_ok "after $((SECONDS - run_start)) s: $(grep '^synwave client:' "$CLIENT_LOG" || echo 'no summary line')"
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "synwave server exited with $SW_STOP_STATUS"; }

sw_assert_json "$CLIENT_REPORT" "client: $CONNECTIONS completed, 0 failed" \
  "r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0"
sw_assert_json "$CLIENT_REPORT" "client: no failure of any reason, no tuple exhaustion" \
  "all(v == 0 for v in r['failures'].values())"
sw_assert_json "$CLIENT_REPORT" "client: the tuple space is 4 addresses x 64512 ports x 2 destinations" \
  "r['generator']['tuple_space'] == 4 * 64512 * 2 and r['config']['destinations'] == 2"
sw_assert_json "$CLIENT_REPORT" "client: every response read whole (64-byte bodies)" \
  "r['counters']['rx_bytes'] >= $CONNECTIONS * 64"
sw_assert_json "$SERVER_REPORT" "server: $CONNECTIONS accepted and completed, 0 failed" \
  "r['counters']['conn_accepted'] == $CONNECTIONS and r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0"
sw_assert_json "$SERVER_REPORT" "server: no RST either way" \
  "r['counters']['rst_sent'] == 0 and r['counters']['rst_received'] == 0"
