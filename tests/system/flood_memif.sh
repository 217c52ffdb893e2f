#!/usr/bin/env bash
# Floods over net_memif into a synwave server answering with cookies (issue 15), flood on lcore 0,
# server on lcore 1, a fresh pair for each run:
#
# 1. Honest figures: 20M SYN/s asked for, far more than the link carries. The flood's `sent` must
#    equal what the server received (every frame the memif device accepted reaches the other
#    process, but for those still in the ring when the flood exits), its `pps` be `sent` over the duration, every frame the rate called for be sent,
#    refused by the full tx queue or without a buffer, and, under 95 % of the target, the last
#    line and the report must say so and where the rest went. (Before, the flood reported every
#    frame it built as sent, and its pps as the target's.)
# 2. Probes inside the flood: 200K SYN/s, which the server keeps up with, and `--probe-rate 500`
#    legitimate connections (handshake, HTTP GET, close) from an address outside the spoofed
#    range: they must get through, and the report's probe figures must add up.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DURATION=3
readonly PROBE_RATE=500

sw_begin 180
sw_netns

# flood_run NAME FLOOD_ARGS...: a fresh server and a flood of DURATION seconds; logs and reports
# in $SW_WORKDIR/NAME-{server,flood}.{log,json}.
flood_run() {
  local name="$1"
  shift
  local memif="socket=$SW_WORKDIR/$name.sock,socket-abstract=no,id=0,rsize=12"
  sw_start_synwave "$SW_WORKDIR/$name-server.log" --no-huge -m 512 --no-pci -l 1 --file-prefix="$(sw_file_prefix "s$name")" \
    --vdev "net_memif0,role=server,$memif,mac=02:00:00:00:00:02" -- \
    server --ip 198.18.2.1/16 --listen 80 --http 14 --syn-cookies always --report "$SW_WORKDIR/$name-server.json" \
    --stats-interval 1
  local server_pid=$SW_PID
  sw_wait_ready "$SW_WORKDIR/$name-server.log"
  sw_start_synwave "$SW_WORKDIR/$name-flood.log" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix "f$name")" \
    --vdev "net_memif0,role=client,$memif,mac=02:00:00:00:00:01" -- \
    flood --ip 198.18.1.1/16 --src-ip 198.18.128.0-198.18.255.255 --dst 198.18.2.1:80 --kind syn \
    --duration "$DURATION" --report "$SW_WORKDIR/$name-flood.json" --stats-interval 1 "$@"
  local flood_pid=$SW_PID
  # The server stops once the flood's run is over, before the flood closes its memif port.
  sw_wait_summary "$flood_pid" "$SW_WORKDIR/$name-flood.log" 60
  sleep 0.5  # the server drains what is left in the ring
  sw_stop "$server_pid" "$SW_WORKDIR/$name-server.log" 15
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SW_WORKDIR/$name-server.log"; sw_fail "$name: the server exited with $SW_STOP_STATUS"; }
  sw_wait_exit "$flood_pid" "$SW_WORKDIR/$name-flood.log" 15
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SW_WORKDIR/$name-flood.log"; sw_fail "$name: the flood exited with $SW_STOP_STATUS"; }
  sw_log "$name: $(tail -n 1 "$SW_WORKDIR/$name-flood.log")"
}

# --- 1. honest figures --------------------------------------------------------------------------
flood_run honest --pps 20000000
FLOOD_REPORT="$SW_WORKDIR/honest-flood.json"
SERVER_RX="$(sw_json "$SW_WORKDIR/honest-server.json" "r['data_plane']['rx_packets']")"
# Frames still in the ring when the flood's process exits go with the link (rsize=12: 4096 slots).
sw_assert_json "$FLOOD_REPORT" \
  "the flood's sent SYNs plus its ARP packets are what the server received ($SERVER_RX frames), less at most the 4096 the ring holds" \
  "0 <= r['sent_total'] + r['arp']['requests_sent'] + r['arp']['replies_sent'] - $SERVER_RX <= 4096 and r['sent_total'] > 0"
sw_assert_json "$FLOOD_REPORT" "the reported pps is the sent frames over the duration" \
  "abs(r['pps'] * r['duration_s'] - r['sent_total']) <= 1 + 1e-9 * r['sent_total']"
sw_assert_json "$FLOOD_REPORT" "every frame the rate called for is sent, refused by the full tx queue, or without a buffer" \
  "r['attempted'] == r['sent_total'] + r['tx_queue_full'] + r['no_buffer'] and r['tx_queue_full'] + r['no_buffer'] > 0"
sw_assert_json "$FLOOD_REPORT" "a segment the full queue did not take waits for the next pass: the data plane threw away none (an ARP reply alone may meet a full queue)" \
  "r['tx_ring_full_drops'] <= r['arp']['replies_sent']"
sw_assert_json "$FLOOD_REPORT" "below 95 % of the target, the report says where the rest went" \
  "r['pps'] < 0.95 * r['target_pps'] and 'of the target' in r['shortfall'] and 'full tx queue' in r['shortfall']"
sw_check "the flood's last line gives the transmitted rate and the shortfall"
tail -n 1 "$SW_WORKDIR/honest-flood.log" | grep -q 'of the target: [0-9]* frames refused by a full tx queue' ||
  { sw_tail "$SW_WORKDIR/honest-flood.log"; sw_fail "no shortfall on the last line"; }
sw_ok "said"

# --- 2. probes inside the flood -----------------------------------------------------------------
flood_run probes --pps 200000 --probe-rate "$PROBE_RATE" --probe-src 198.18.1.2
FLOOD_REPORT="$SW_WORKDIR/probes-flood.json"
SERVER_ACCEPTED="$(sw_json "$SW_WORKDIR/probes-server.json" "r['counters']['conn_accepted']")"
sw_assert_json "$FLOOD_REPORT" "the probes opened their rate for the duration (within 10 %)" \
  "abs(r['probes']['opened'] - $PROBE_RATE * $DURATION) <= 0.1 * $PROBE_RATE * $DURATION"
sw_assert_json "$FLOOD_REPORT" "at least 99 % of the probes that ended succeeded, and every one the server accepted" \
  "r['probes']['success_pct'] >= 99 and r['probes']['completed'] <= $SERVER_ACCEPTED"
sw_assert_json "$FLOOD_REPORT" "the report gives connect and transaction latency, and per second success and connect p99" \
  "r['probes']['latency']['connect']['count'] == r['probes']['counters']['conn_established'] > 0 and \
r['probes']['latency']['transaction']['count'] > 0 and \
len(r['probes']['timeline']) >= $DURATION - 1 and all('connect_p99_us' in t and 'failed_per_s' in t for t in r['probes']['timeline'])"
sw_assert_json "$FLOOD_REPORT" "the flood itself ran beside them" \
  "r['sent_total'] > 0.5 * 200000 * $DURATION and r['config']['probe_rate'] == $PROBE_RATE"
sw_check "the last line and the progress lines give the probes"
tail -n 1 "$SW_WORKDIR/probes-flood.log" | grep -q 'probes: [0-9]* of [0-9]* succeeded' ||
  { sw_tail "$SW_WORKDIR/probes-flood.log"; sw_fail "no probes on the last line"; }
grep -q '| probes ok .* connect p50' "$SW_WORKDIR/probes-flood.log" ||
  { sw_tail "$SW_WORKDIR/probes-flood.log"; sw_fail "no probes on the progress lines"; }
sw_ok "given"
