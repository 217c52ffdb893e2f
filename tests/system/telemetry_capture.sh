#!/usr/bin/env bash
# Observability of a running synwave: a 4 s loopback run with a known --file-prefix is queried
# through DPDK's telemetry socket (/synwave/stats, /synwave/config) by telemetry_client.py while
# it runs; it also writes the first packets of each lcore to a pcapng file (--capture), which
# tshark must then read without error and find TCP SYNs in, with valid checksums.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CAPTURE_PACKETS=200
readonly LCORES=2

sw_begin 60
sw_require tshark capinfos

PREFIX="$(sw_file_prefix tel)"
CAPTURE="$SW_WORKDIR/x.pcapng"
LOG="$SW_WORKDIR/synwave.log"
REPORT="$SW_WORKDIR/report.json"
sw_start_synwave "$LOG" --no-huge -m 512 --no-pci -l "0-$((LCORES - 1))" --file-prefix="$PREFIX" \
  -- loopback --duration 4 --http-get / --capture "$CAPTURE" --capture-packets "$CAPTURE_PACKETS" \
  --report "$REPORT" --stats-interval 1

sw_check "telemetry answers while the run goes on: stats grow, config describes the run"
"$PYTHON" "$SW_LIB_DIR/telemetry_client.py" "$PREFIX" check-loopback 10 ||
  { sw_tail "$LOG"; sw_fail "telemetry checks failed"; }
sw_ok "telemetry checks passed"
sw_check "/synwave/stats is a flat object of integers named like the report's counters"
STATS="$SW_WORKDIR/stats.json"
"$PYTHON" "$SW_LIB_DIR/telemetry_client.py" "$PREFIX" query /synwave/stats >"$STATS" ||
  sw_fail "query /synwave/stats failed"
sw_assert_json "$STATS" "stats: syn_sent, synack_sent, rst_received, rx_packets present as integers" \
  "all(isinstance(r.get(k), int) for k in ('syn_sent', 'synack_sent', 'rst_received', 'rx_packets', 'tx_packets'))"
sw_assert_json "$STATS" "stats: busy share per lcore and role, and each role's ns per connection, above zero" \
  "all(r.get(k, 0) > 0 for k in ('busy_pct_server', 'busy_pct_client', 'ns_per_connection_server', 'ns_per_connection_client', 'busy_cycles_client', 'loop_cycles')) and any(k.startswith('lcore') and k.endswith('_busy_pct') for k in r)"

sw_wait_exit "$SW_PID" "$LOG" 30
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "synwave exited with $SW_STOP_STATUS"; }
[[ ! -e "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" ]] || sw_log "note: the telemetry socket outlives the process"

sw_check "tshark reads $CAPTURE without error"
[[ -s "$CAPTURE" ]] || sw_fail "no capture written"
capinfos "$CAPTURE" >"$SW_WORKDIR/capinfos.txt" 2>&1 || { cat "$SW_WORKDIR/capinfos.txt" >&2; sw_fail "capinfos cannot read it"; }
FRAMES="$(tshark -r "$CAPTURE" -T fields -e frame.number 2>"$SW_WORKDIR/tshark.err" | wc -l)"
if awk '!/^Running as user "root"/ && NF {found = 1} END {exit !found}' "$SW_WORKDIR/tshark.err"; then
  cat "$SW_WORKDIR/tshark.err" >&2
  sw_fail "tshark complained reading the capture"
fi
sw_ok "$FRAMES frames, format: $(grep 'File type' "$SW_WORKDIR/capinfos.txt" | sed 's/.*: *//')"

sw_check "the capture holds at most $CAPTURE_PACKETS packets per lcore, as many as the report says"
((FRAMES > 0 && FRAMES <= CAPTURE_PACKETS * LCORES)) ||
  sw_fail "$FRAMES frames, expected 1..$((CAPTURE_PACKETS * LCORES))"
sw_assert_json "$REPORT" "report: data_plane.captured == $FRAMES" "r['data_plane']['captured'] == $FRAMES"

sw_check "the capture shows TCP SYNs and SYN-ACKs"
SYNS="$(tshark -r "$CAPTURE" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e frame.number 2>/dev/null | wc -l)"
SYNACKS="$(tshark -r "$CAPTURE" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1' -T fields -e frame.number 2>/dev/null | wc -l)"
GETS="$(tshark -r "$CAPTURE" -Y 'http.request.method == "GET"' -T fields -e frame.number 2>/dev/null | wc -l)"
((SYNS > 0)) || sw_fail "no SYN in the capture"
((SYNACKS > 0)) || sw_fail "no SYN-ACK in the capture"
# (GETs are not required: with 4096 connections opening at once, a lcore's first 200 packets can
# all be handshakes.)
sw_ok "$SYNS SYNs, $SYNACKS SYN-ACKs, $GETS GETs"

# The net_ring ports offer no checksum offload: every checksum here is synwave's own.
WIRE="$SW_WORKDIR/wire.tsv"
sw_scan_capture "$CAPTURE" "$WIRE"
sw_check_checksums "$WIRE"

# The independent judge, once per port: each lcore captured its own port's frames both ways, so
# the file holds every frame twice (leaving one port, arriving at the other), which tshark would
# take for retransmissions. Each port's share is one complete view of the link from the first SYN.
for interface in $(tshark -r "$CAPTURE" -T fields -e frame.interface_id 2>/dev/null | sort -u); do
  tshark -r "$CAPTURE" -Y "frame.interface_id == $interface" -w "$SW_WORKDIR/port$interface.pcapng" 2>/dev/null ||
    sw_fail "tshark cannot split $CAPTURE by interface"
  judge_capture "$SW_WORKDIR/port$interface.pcapng"
done
