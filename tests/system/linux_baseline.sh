#!/usr/bin/env bash
# bench/linux_baseline, the Linux side of scripts/bench.sh, is correct before it is fast: in a
# namespace of its own (lo up, kernel defaults), each workload runs for 1 s, completes connections
# with none failed, and writes the JSON report bench.sh reads (cps, completed, failed, duration_s,
# a per-second timeline). The rate itself is not checked: figures belong to benchmarks.
# Bad options get exit 2 and one line naming the problem.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LINUX_BASELINE="$SW_BUILD_DIR/bench/linux_baseline"

sw_begin 60
if [[ ! -x "$LINUX_BASELINE" ]]; then
  sw_log "SKIP: $LINUX_BASELINE not built (the build has -Dbenchmarks=false)"
  exit 0
fi
sw_netns

for mode in none http; do
  report="$SW_WORKDIR/$mode.json"
  log="$SW_WORKDIR/$mode.log"
  sw_check "linux_baseline --mode $mode --duration 1: exits 0 and writes its report"
  status=0
  timeout 30 ip netns exec "$SW_NS" "$LINUX_BASELINE" --mode "$mode" --duration 1 --server-cpu 0 --client-cpu 1 \
    --sources 64 --concurrency 64 --response-bytes 100 --json "$report" --timeline >"$log" 2>&1 || status=$?
  [[ $status -eq 0 ]] || { sw_tail "$log"; sw_fail "exit status $status"; }
  sw_ok "$(grep '^linux_baseline ' "$log")"
  sw_assert_json "$report" "$mode: connections completed, none failed" \
    "r['mode'] == '$mode' and r['completed'] > 0 and r['failed'] == 0 and r['server']['failed'] == 0"
  sw_assert_json "$report" "$mode: cps is completed / duration_s, and the timeline has a sample per second" \
    "abs(r['cps'] * r['duration_s'] - r['completed']) < 1 and len(r['timeline']) == 1 and r['timeline'][0]['completed_per_s'] > 0"
done

for mss in 0 1460; do
  report="$SW_WORKDIR/stream-$mss.json"
  log="$SW_WORKDIR/stream-$mss.log"
  sw_check "linux_baseline --mode stream --bytes 100000000 --mss $mss: every byte arrives, the report says so"
  status=0
  timeout 30 ip netns exec "$SW_NS" "$LINUX_BASELINE" --mode stream --bytes 100000000 --mss "$mss" --server-cpu 0 \
    --client-cpu 1 --json "$report" >"$log" 2>&1 || status=$?
  [[ $status -eq 0 ]] || { sw_tail "$log"; sw_fail "exit status $status"; }
  sw_ok "$(grep '^linux_baseline ' "$log")"
  sw_assert_json "$report" "stream, mss option $mss: 100000000 bytes, a rate, the segment size the kernel used" \
    "r['mode'] == 'stream' and r['bytes'] == 100000000 and r['gbit_per_s'] > 0 and ($mss == 0 or r['mss'] <= $mss)"
done

sw_check "a bad option is refused with exit 2 and one line naming it"
status=0
"$LINUX_BASELINE" --mode ftp >"$SW_WORKDIR/out" 2>"$SW_WORKDIR/err" || status=$?
if [[ $status -ne 2 || "$(grep -c . "$SW_WORKDIR/err")" -ne 1 ]] || ! grep -q "mode 'ftp'" "$SW_WORKDIR/err"; then
  cat "$SW_WORKDIR/err" >&2
  sw_fail "exit $status for --mode ftp, expected 2 and one line naming --mode 'ftp'"
fi
sw_ok "$(cat "$SW_WORKDIR/err")"
