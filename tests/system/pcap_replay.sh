#!/usr/bin/env bash
# synwave fed from a pcap through net_pcap: every reply it writes is checked field by field.
# IN.pcap (Scapy): an ARP request, a SYN to a closed port, a SYN to the listening port, a bare ACK
# with no connection, an IP fragment, a SYN with a bad TCP checksum and one with a bad IP
# checksum. OUT.pcap must hold exactly: the ARP reply, the RST/ACK for the closed port, the
# SYN-ACK, the RST for the bare ACK, and nothing for the last three. Why not a whole connection
# (SYN, ACK, request, FIN): see tests/system/pcap_replay.py (the ISN cannot be known in advance).
# No network namespace: net_pcap reads and writes files only.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# net_pcap's MAC for its first port: 02:70:63:61:70:00 ("\x02pcap\x00", DPDK 22.11 rte_eth_pcap.c).
readonly NET_PCAP_MAC=02:70:63:61:70:00

sw_begin 60
IN="$SW_WORKDIR/in.pcap"
OUT="$SW_WORKDIR/out.pcap"
LOG="$SW_WORKDIR/synwave.log"
REPORT="$SW_WORKDIR/report.json"

sw_check "Scapy writes the input frames"
"$PYTHON" "$SW_LIB_DIR/pcap_replay.py" write "$IN" "$NET_PCAP_MAC" || sw_fail "cannot write $IN"

PREFIX="$(sw_file_prefix pcap)"
# PCAP_LCORES=0-1 runs two lcores on net_pcap's single queue: the second has no queue of its own
# and works through the software dispatcher (pcap_replay_two_lcores.sh); the replies must not change.
LCORES="${PCAP_LCORES:-0}"
sw_start_synwave "$LOG" --no-huge -m 256 --no-pci --vdev "net_pcap0,rx_pcap=$IN,tx_pcap=$OUT" -l "$LCORES" \
  --file-prefix="$PREFIX" -- server --ip "$SW_SYNWAVE_IP/24" --listen 80 --mbufs 8191 \
  --neighbor "$SW_KERNEL_IP,$SW_KERNEL_MAC" --report "$REPORT" --stats-interval 0
sw_wait_ready "$LOG"

# net_pcap delivers the whole file at once and then returns nothing (end of file); the server
# mode has no --duration, so stop it once all 7 frames were taken in (bounded), well before the
# SYN-ACK's 1 s retransmission timer.
sw_check "synwave reads all 7 input frames"
"$PYTHON" "$SW_LIB_DIR/telemetry_client.py" "$PREFIX" wait-until "s['rx_packets'] >= 7" 10 >/dev/null ||
  { sw_tail "$LOG"; sw_fail "synwave did not receive the 7 frames"; }
sw_ok "7 frames received"
sw_stop "$SW_PID" "$LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "synwave exited with $SW_STOP_STATUS"; }
[[ -s "$OUT" ]] || sw_fail "no $OUT written (net_pcap writes it when the port closes)"

sw_check "OUT holds exactly the expected replies, field by field"
"$PYTHON" "$SW_LIB_DIR/pcap_replay.py" check "$OUT" || sw_fail "the replies differ from what RFC 9293/826 require"
sw_ok "replies as expected"

# The independent judge on both files. OUT must be flawless. IN holds three frames that are bad
# on purpose, each allowed only on its own source port (pcap_replay.py): the SYN with a wrong TCP
# checksum (40005), the one with a wrong IP checksum (40006), and the first fragment (40004),
# whose TCP header tshark does not decode (no reassembly of a lone fragment): nothing to allow.
judge_capture "$OUT"
judge_capture "$IN" "tcp.checksum_bad.expert,tcp.srcport=40005" "ip.checksum_bad.expert,tcp.srcport=40006"

sw_assert_json "$REPORT" "report: the fragment and the two bad checksums were counted as drops" \
  "r['counters']['drop_ip_fragment'] == 1 and r['counters']['drop_tcp_bad_checksum'] == 1 and r['counters']['drop_ip_bad_checksum'] == 1"
sw_assert_json "$REPORT" "report: 1 SYN to a listener, 1 SYN-ACK, 2 RSTs sent, 1 ARP reply, 7 frames in, 4 out" \
  "r['counters']['syn_received'] == 1 and r['counters']['synack_sent'] == 1 and r['counters']['rst_sent'] == 2 and r['counters']['arp_replies_sent'] == 1 and r['data_plane']['rx_packets'] == 7 and r['data_plane']['tx_packets'] >= 4"
if [[ "$LCORES" != "0" ]]; then
  sw_assert_json "$REPORT" "report: two lcores on one queue, software dispatch, frames crossed lcores both ways" \
    "r['dispatch'] == 'software' and len(r['lcores']) == 2 and r['ports'][0]['queues'] == 1 and r['data_plane']['steered_out'] > 0 and r['data_plane']['steered_in'] == r['data_plane']['steered_out']"
fi
