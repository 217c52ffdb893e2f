#!/usr/bin/env bash
# Honest flood figures (issue 15): a SYN flood asked for far more than a net_memif link carries
# (20M pps from one lcore) into a synwave server answering with cookies. Before, the flood
# reported every frame it built as sent, and its pps as the target's.
#
# What must hold: the flood's `sent` equals what the server received (every frame the memif
# device accepted reaches the other process), its `pps` is `sent` over the duration, every frame
# the rate called for is sent, refused by the full tx queue, or without a buffer (attempted is
# their sum), and a flood that falls under 95 % of its target says so on its last line and in
# the report, naming where the rest went.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly TARGET_PPS=20000000
readonly DURATION=3

sw_begin 120
sw_netns

SOCK="$SW_WORKDIR/memif.sock"
MEMIF="socket=$SOCK,socket-abstract=no,id=0,rsize=12"
SERVER_LOG="$SW_WORKDIR/server.log"
SERVER_REPORT="$SW_WORKDIR/server.json"
FLOOD_LOG="$SW_WORKDIR/flood.log"
FLOOD_REPORT="$SW_WORKDIR/flood.json"

sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci -l 1 --file-prefix="$(sw_file_prefix srv)" \
  --vdev "net_memif0,role=server,$MEMIF,mac=02:00:00:00:00:02" -- \
  server --ip 198.18.2.1/16 --listen 80 --syn-cookies always --report "$SERVER_REPORT" --stats-interval 1
SERVER_PID=$SW_PID
sw_wait_ready "$SERVER_LOG"

sw_start_synwave "$FLOOD_LOG" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix fld)" \
  --vdev "net_memif0,role=client,$MEMIF,mac=02:00:00:00:00:01" -- \
  flood --ip 198.18.1.1/16 --src-ip 198.18.128.0-198.18.255.255 --dst 198.18.2.1:80 --kind syn \
  --pps "$TARGET_PPS" --duration "$DURATION" --report "$FLOOD_REPORT" --stats-interval 1
FLOOD_PID=$SW_PID
sw_wait_exit "$FLOOD_PID" "$FLOOD_LOG" 60
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$FLOOD_LOG"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
sleep 1  # the server drains what is left in the ring
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "the server exited with $SW_STOP_STATUS"; }

sw_log "flood: $(tail -n 1 "$FLOOD_LOG")"
SERVER_RX="$(sw_json "$SERVER_REPORT" "r['data_plane']['rx_packets']")"
sw_assert_json "$FLOOD_REPORT" \
  "the flood's sent SYNs plus its ARP packets are exactly what the server received ($SERVER_RX frames)" \
  "r['sent_total'] + r['arp']['requests_sent'] + r['arp']['replies_sent'] == $SERVER_RX and r['sent_total'] > 0"
sw_assert_json "$FLOOD_REPORT" "the reported pps is the sent frames over the duration" \
  "abs(r['pps'] * r['duration_s'] - r['sent_total']) <= 1 + 1e-9 * r['sent_total']"
sw_assert_json "$FLOOD_REPORT" "every frame the rate called for is sent, refused by the full tx queue, or without a buffer" \
  "r['attempted'] == r['sent_total'] + r['tx_queue_full'] + r['no_buffer'] and r['tx_queue_full'] + r['no_buffer'] > 0"
sw_assert_json "$FLOOD_REPORT" "the device's own count of refused frames matches the flood's" \
  "r['tx_queue_full'] == r['tx_ring_full_drops']"
sw_assert_json "$FLOOD_REPORT" "below 95 % of the target, the report says where the rest went" \
  "r['pps'] < 0.95 * r['target_pps'] and 'of the target' in r['shortfall'] and 'full tx queue' in r['shortfall']"
sw_check "the flood's last line gives the transmitted rate and the shortfall"
tail -n 1 "$FLOOD_LOG" | grep -q 'of the target: [0-9]* frames refused by a full tx queue' ||
  { sw_tail "$FLOOD_LOG"; sw_fail "no shortfall on the last line"; }
sw_ok "said"

