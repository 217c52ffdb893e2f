#!/usr/bin/env bash
# The data plane's own resources, exhausted on purpose in the real binary: the loopback mode (a
# client lcore and a server lcore over an in-memory net_ring pair in one process: no namespace,
# no network) with
#   - an mbuf pool far smaller than the connections it is asked to open at once
#     (--mbufs 1100 --concurrency 20000): data_plane.mbuf_alloc_failures rises, the opens that
#     find the pool empty are refused and made later (generator.no_memory), and
#   - a tx ring of 64 slots (--ring-size 64): data_plane.tx_ring_full_drops rises, and the SYN
#     retransmissions bring the lost SYNs back.
# Each run must exit 0 with no crash and no failed connection, and keep completing connections in
# every interval of its timeline, the last one included: service goes on through the overload
# and after it. Only "> 0" and "goes on" are asserted: the figures vary with the machine's load.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sw_begin 90

sw_check "'loopback --ring-size 100' (not a power of two) is refused with exit 2 and a message naming --ring-size"
status=0
msg="$("$SYNWAVE" -- loopback --ring-size 100 2>&1)" || status=$?
((status == 2)) || sw_fail "exit status $status, expected 2: $msg"
grep -q -- '--ring-size 100 is not a power of two' <<<"$msg" || sw_fail "unexpected message: $msg"
sw_ok "exit 2: $msg"

# run_loopback NAME SYNWAVE_OPTIONS...: a 3 s loopback run with a report and a timeline.
run_loopback() {
  local name="$1"
  shift
  REPORT="$SW_WORKDIR/$name.json"
  LOG="$SW_WORKDIR/$name.log"
  sw_start_synwave "$LOG" --no-huge -m 512 --no-pci --file-prefix="$(sw_file_prefix "$name")" -- \
    loopback --duration 3 --stats-interval 0.5 --report "$REPORT" "$@"
  sw_wait_exit "$SW_PID" "$LOG" 40
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "$name: exit status $SW_STOP_STATUS"; }
  [[ -s "$REPORT" ]] || { sw_tail "$LOG"; sw_fail "$name: no report written"; }
  if grep -qiE 'segmentation fault|panic|assert' "$LOG"; then
    sw_tail "$LOG"
    sw_fail "$name: the log reports a crash"
  fi
}

# Completions in every interval of the timeline, the last one included.
assert_service_goes_on() {
  sw_assert_json "$REPORT" "$1: connections completed, none failed" \
    "r['connections_completed'] > 0 and r['connections_failed'] == 0"
  sw_assert_json "$REPORT" "$1: completions in every interval of the timeline, the last one included" \
    "len(r['timeline']) >= 4 and all(t['completed_per_s'] > 0 for t in r['timeline'])"
}

sw_check "mbuf pool exhausted: loopback --mbufs 1100 --concurrency 20000"
run_loopback mbufs --mbufs 1100 --concurrency 20000
sw_assert_json "$REPORT" "mbufs: data_plane.mbuf_alloc_failures > 0 (the pool ran dry)" \
  "r['data_plane']['mbuf_alloc_failures'] > 0"
sw_assert_json "$REPORT" "mbufs: opens that found no buffer were refused and counted (generator.no_memory > 0)" \
  "r['generator']['no_memory'] > 0"
assert_service_goes_on mbufs
sw_log "mbufs: $(sw_json "$REPORT" '"%d completed, %d mbuf allocation failures, %d opens refused, %d SYNs retransmitted" % (r["connections_completed"], r["data_plane"]["mbuf_alloc_failures"], r["generator"]["no_memory"], r["counters"]["syn_retransmitted"])')"

sw_check "tx ring full: loopback --ring-size 64"
run_loopback ring --ring-size 64
sw_assert_json "$REPORT" "ring: the report's config has ring_size 64" "r['config']['ring_size'] == 64"
sw_assert_json "$REPORT" "ring: data_plane.tx_ring_full_drops > 0 (the ring was full)" \
  "r['data_plane']['tx_ring_full_drops'] > 0"
sw_assert_json "$REPORT" "ring: the frames lost were sent again (retransmits > 0)" "r['counters']['retransmits'] > 0"
assert_service_goes_on ring
sw_log "ring: $(sw_json "$REPORT" '"%d completed, %d tx ring full drops, %d retransmits" % (r["connections_completed"], r["data_plane"]["tx_ring_full_drops"], r["counters"]["retransmits"])')"
