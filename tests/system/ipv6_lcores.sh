#!/usr/bin/env bash
# An IPv6 synwave client on two lcores against a dual-stack synwave server on two lcores: two
# processes, each on its own net_tap with two queues, the two kernel interfaces bridged inside the
# test's namespace (the kernel only forwards, as in synwave_pair.sh). net_tap has no RSS here, so
# each side runs the software dispatcher: IPv6 segments go to the lcore that owns their flow (the
# server: by a hash of the remote end; the client: by the source port's share), and Neighbor
# Solicitations and Advertisements are copied to every lcore, each engine resolving its own next
# hops. Every connection must complete, and every lcore of both sides must have done its share.
# Addresses: 2001:db8::/32 for the run, 198.18.0.0/15 for the server's IPv4 address.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CONNECTIONS=10000
readonly SERVER_TAP=swtap6s
readonly CLIENT_TAP=swtap6c
readonly SERVER_IP6=2001:db8::2
readonly CLIENT_IP6=2001:db8::10

sw_begin 240
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

sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0-1 \
  --file-prefix="$(sw_file_prefix server)" -- server --ip 198.18.0.2/24 --ip "$SERVER_IP6/64" --listen 80 --listen 81 \
  --http 64 --report "$SERVER_REPORT" --stats-interval 5
SERVER_PID=$SW_PID
attach "$SERVER_TAP" 02:00:00:00:06:01 "$SERVER_LOG"

sw_start_synwave "$CLIENT_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$CLIENT_TAP" -l 0-1 \
  --file-prefix="$(sw_file_prefix client)" -- client --ip "$CLIENT_IP6/64" --src-ip 2001:db8::100-2001:db8::103 \
  --dst "[$SERVER_IP6]:80-81" --connections "$CONNECTIONS" --concurrency 128 --http-get / --connect-timeout 30 \
  --report "$CLIENT_REPORT" --stats-interval 5
CLIENT_PID=$SW_PID
attach "$CLIENT_TAP" 02:00:00:00:06:02 "$CLIENT_LOG"

sw_check "the IPv6 client on two lcores finishes $CONNECTIONS connections by itself"
run_start=$SECONDS
sw_wait_exit "$CLIENT_PID" "$CLIENT_LOG" 200
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$CLIENT_LOG"; sw_fail "synwave client exited with $SW_STOP_STATUS"; }
sw_ok "after $((SECONDS - run_start)) s: $(grep '^synwave client:' "$CLIENT_LOG" || echo 'no summary line')"
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "synwave server exited with $SW_STOP_STATUS"; }

for side in client server; do
  report="$SW_WORKDIR/$side.json"
  sw_assert_json "$report" "$side: two lcores on a port with two queues, dispatched in software" \
    "r['dispatch'] == 'software' and len(r['lcores']) == 2 and r['ports'][0]['queues'] == 2 and not r['ports'][0]['rss']"
  sw_assert_json "$report" "$side: nothing lost between lcores or for lack of buffers" \
    "r['data_plane']['steer_ring_full_drops'] == 0 and r['data_plane']['steered_in'] == r['data_plane']['steered_out'] and r['data_plane']['mbuf_alloc_failures'] == 0 and r['data_plane']['tx_ring_full_drops'] == 0"
  sw_log "$side per lcore: $(sw_json "$report" "'; '.join('lcore %d: %d completed, %d IPv6 segments, %d rx, %d steered out' % (l['lcore'], l['counters']['conn_completed'], l['counters']['rx_ipv6_segments'], l['data_plane']['rx_packets'], l['data_plane']['steered_out']) for l in r['lcores'])")"
done

sw_assert_json "$CLIENT_REPORT" "client: $CONNECTIONS completed over IPv6, 0 failed, no failure of any reason" \
  "r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0 and all(v == 0 for v in r['failures'].values())"
sw_assert_json "$CLIENT_REPORT" "client: both lcores opened and completed connections, each over IPv6" \
  "all(l['counters']['conn_opened'] > 0 and l['counters']['conn_completed'] > 0 and l['counters']['rx_ipv6_segments'] > 0 for l in r['lcores'])"
sw_assert_json "$CLIENT_REPORT" "client: every response read whole (64-byte bodies)" \
  "r['counters']['rx_bytes'] >= $CONNECTIONS * 64"
sw_assert_json "$SERVER_REPORT" "server: $CONNECTIONS accepted and completed, 0 failed, no RST either way" \
  "r['counters']['conn_accepted'] == $CONNECTIONS and r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0 and r['counters']['rst_sent'] == 0 and r['counters']['rst_received'] == 0"
sw_assert_json "$SERVER_REPORT" "server: both lcores accepted and completed connections, each over IPv6" \
  "all(l['counters']['conn_accepted'] > 0 and l['counters']['conn_completed'] > 0 and l['counters']['rx_ipv6_segments'] > 0 for l in r['lcores'])"
# The kernel picks the queue of a flow the server did not open by its own hash: some SYNs reach
# the lcore that does not own their flow, and the dispatcher hands them over.
sw_assert_json "$SERVER_REPORT" "server: IPv6 segments crossed lcores (steered_out > 0)" \
  "r['data_plane']['steered_out'] > 0"
