#!/usr/bin/env bash
# synwave with no argument at all runs its default: the loopback mode (client and server in one
# process over an in-memory net_ring pair) for 10 s, with default EAL options. It must exit 0 and
# print a summary line with a non-zero rate. Then a short loopback run with an HTTP workload must
# write a report with cps > 0 and no failed connection. A run under the file prefix synwave picks
# itself leaves no DPDK runtime directory behind.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sw_begin 90
LOG="$SW_WORKDIR/no-args.log"

sw_check "'synwave' with no arguments exits 0 after about 10 s with a non-zero connections/s"
started=$SECONDS
# Started in the background only so that the trap can end it if it hangs; no argument given.
"$SYNWAVE" >"$LOG" 2>&1 &
SW_PID=$!
sw_track "$SW_PID"
sw_track_dpdk_prefix
sw_wait_exit "$SW_PID" "$LOG" 40
elapsed=$((SECONDS - started))
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "exit status $SW_STOP_STATUS"; }
SUMMARY="$(grep '^synwave loopback: ' "$LOG" || true)"
[[ -n "$SUMMARY" ]] || { sw_tail "$LOG"; sw_fail "no summary line"; }
sw_log "summary: $SUMMARY"
# "synwave loopback: N connections completed, M failed in S s = R connections/s"
read -r completed failed seconds rate < <(sed -n \
  's/^synwave loopback: \([0-9]*\) connections completed, \([0-9]*\) failed in \([0-9.]*\) s = \([0-9]*\) connections\/s$/\1 \2 \3 \4/p' \
  <<<"$SUMMARY")
[[ -n "${rate:-}" ]] || sw_fail "summary line not in the expected form: $SUMMARY"
((rate > 0)) || sw_fail "rate is $rate connections/s"
((completed > 0)) || sw_fail "no connection completed"
((failed == 0)) || sw_fail "$failed connections failed in a clean loopback run"
"$PYTHON" -c "import sys; d=float(sys.argv[1]); sys.exit(0 if 9.5 <= d <= 12 else 1)" "$seconds" ||
  sw_fail "the default run lasted $seconds s, expected 10"
sw_ok "exit 0, $completed completed, $rate connections/s over $seconds s (wall $elapsed s)"

sw_check "the run left no DPDK runtime directory behind (/var/run/dpdk/synwave$SW_PID, named by synwave)"
[[ ! -e "/var/run/dpdk/synwave$SW_PID" ]] || sw_fail "/var/run/dpdk/synwave$SW_PID is still there after exit"
sw_ok "removed at exit"

sw_check "'synwave -- loopback --duration 2 --http-get / --report FILE' writes a report with cps > 0, no failure"
REPORT="$SW_WORKDIR/r.json"
LOG2="$SW_WORKDIR/loopback-http.log"
"$SYNWAVE" -- loopback --duration 2 --http-get / --report "$REPORT" >"$LOG2" 2>&1 &
SW_PID=$!
sw_track "$SW_PID"
sw_track_dpdk_prefix
sw_wait_exit "$SW_PID" "$LOG2" 30
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG2"; sw_fail "exit status $SW_STOP_STATUS"; }
[[ -s "$REPORT" ]] || { sw_tail "$LOG2"; sw_fail "no report written"; }
sw_assert_json "$REPORT" "report: mode loopback, cps > 0, connections_completed > 0, connections_failed == 0" \
  "r['mode'] == 'loopback' and r['cps'] > 0 and r['connections_completed'] > 0 and r['connections_failed'] == 0"
sw_assert_json "$REPORT" "report: about 2 s long, HTTP workload (bytes flowed both ways)" \
  "1.5 <= r['duration_s'] <= 4 and r['roles']['client']['counters']['tx_bytes'] > 0 and r['roles']['server']['counters']['tx_bytes'] > 0"
sw_assert_json "$REPORT" "report: has every top-level section" \
  "all(k in r for k in ('mode', 'duration_s', 'connections_completed', 'connections_failed', 'cps', 'counters', 'failures', 'roles', 'data_plane', 'lcores', 'dispatch', 'ports', 'config'))"
sw_assert_json "$REPORT" "report: cps is completed over the active period, which starts after start-up and ends with the run" \
  "abs(r['cps'] * r['active_s'] - r['connections_completed']) < 1 and 0 <= r['startup_s'] < 1 and abs(r['startup_s'] + r['active_s'] - r['duration_s']) < 1e-6"
sw_assert_json "$REPORT" "report: busy share of each lcore and role, within 0-100 %, and each role's ns per connection" \
  "all(0 < l['busy_pct'] <= 100 for l in r['lcores']) and all(0 < v['busy_pct'] <= 100 and v['busy_s'] > 0 and v['ns_per_connection'] > 0 for v in r['roles'].values())"
sw_log "loopback with HTTP: $(sw_json "$REPORT" '"%d completed, %.0f connections/s, ns per connection: client %.0f, server %.0f" % (r["connections_completed"], r["cps"], r["roles"]["client"]["ns_per_connection"], r["roles"]["server"]["ns_per_connection"])')"
