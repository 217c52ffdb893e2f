#!/usr/bin/env bash
# Throughput over the loopback (a client lcore and a server lcore over net_ring): one connection
# downloads 200 MB (raw workload), another run downloads it as an HTTP body; every byte is counted
# once on each side, nothing is resent on this lossless link, and the report gives the rates in
# Gbit/s per role, per lcore and in total. The rates themselves are not checked: figures belong
# to benchmarks (scripts/bench-throughput.sh). The HTTP run verifies every received checksum
# (--verify-checksums), which a memory link otherwise skips.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly BYTES=200000000

sw_begin 120

# run NAME WORKLOAD_OPTIONS...: one loopback run of one connection; the report is NAME.json.
run() {
  local name="$1"
  shift
  local log="$SW_WORKDIR/$name.log"
  sw_start_synwave "$log" --no-huge -m 512 --no-pci -l 0-1 --file-prefix="$(sw_file_prefix "$name")" -- loopback \
    --connections 1 --stats-interval 0 --report "$SW_WORKDIR/$name.json" "$@"
  sw_wait_exit "$SW_PID" "$log" 90
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$log"; sw_fail "$name: synwave exited with $SW_STOP_STATUS"; }
  sw_ok "$name: $(grep '^synwave loopback:' "$log")"
  grep -q 'Gbit/s of payload' "$log" || sw_fail "$name: the summary line gives no Gbit/s"
}

sw_check "raw: the client sends 100 bytes, the server answers $BYTES"
run raw --request-bytes 100 --response-bytes "$BYTES"
sw_assert_json "$SW_WORKDIR/raw.json" "raw: one connection completed, every byte counted once each way" \
  "r['connections_completed'] == 1 and r['throughput']['client']['rx_bytes'] == $BYTES and r['throughput']['server']['tx_bytes'] == $BYTES and r['throughput']['server']['rx_bytes'] == 100"
sw_assert_json "$SW_WORKDIR/raw.json" "raw: nothing resent on a lossless link; rates per role, per lcore and in total" \
  "r['throughput']['server']['tx_retransmitted_bytes'] == 0 and r['throughput']['client']['rx_gbit_per_s'] > 0 and r['payload_gbit_per_s'] > 0 and all('rx_gbit_per_s' in l for l in r['lcores'])"

sw_assert_json "$SW_WORKDIR/raw.json" "raw: net_ring is a memory link: its received checksums are trusted, not verified" \
  "all(p['driver'] == 'net_ring' and p['rx_checksum_trusted'] for p in r['ports'])"

sw_check "HTTP: GET / answered with a $BYTES-byte body, every received checksum verified (--verify-checksums)"
run http --http "$BYTES" --verify-checksums
sw_assert_json "$SW_WORKDIR/http.json" "http: --verify-checksums: no port trusts received checksums, none was wrong" \
  "not any(p['rx_checksum_trusted'] for p in r['ports']) and r['counters']['drop_tcp_bad_checksum'] == 0"
sw_assert_json "$SW_WORKDIR/http.json" "http: one response read whole; the body's bytes and its header counted" \
  "r['connections_completed'] == 1 and r['counters']['http_responses_read'] == 1 and r['throughput']['client']['rx_bytes'] > $BYTES and r['throughput']['server']['tx_retransmitted_bytes'] == 0"
