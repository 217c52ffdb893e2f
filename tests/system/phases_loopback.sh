#!/usr/bin/env bash
# A run in phases, scripted in a TOML file the way load tests are (ramp up, hold, ramp down), on
# the loopback: each phase opens what its rate integrates to (within 10 %), none fails, and the
# report keeps each phase's figures; the hold phase has a workload of its own (five keep-alive
# requests per connection, another path), and the others keep the run's (one request). The same
# phases given as --phase on the command line parse the same way. Bad phases are refused with one
# line naming them.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sw_begin 90

PROFILE="$SW_WORKDIR/profile.toml"
cat >"$PROFILE" <<'TOML'
# 2 s climbing to 2000 connections/s, 2 s at 2000/s, 2 s back down to 0
http_get = "/"
http = 64
[[phase]]
name = "ramp-up"
duration = 2
rate = [0, 2000]
concurrency = 500
[[phase]]
name = "hold"
duration = 2
rate = 2000
concurrency = 500
http_get = "/hold"
requests_per_connection = 5
[[phase]]
name = "ramp-down"
duration = 2
rate = [2000, 0]
concurrency = 500
TOML

LOG="$SW_WORKDIR/run.log"
REPORT="$SW_WORKDIR/report.json"
sw_check "loopback with three phases from $PROFILE"
sw_start_synwave "$LOG" --no-huge -m 512 --no-pci -l 0-1 --file-prefix="$(sw_file_prefix run)" -- loopback \
  --config "$PROFILE" --report "$REPORT" --stats-interval 1
sw_wait_exit "$SW_PID" "$LOG" 60
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "synwave exited with $SW_STOP_STATUS"; }
sw_ok "$(grep '^synwave loopback:' "$LOG")"
grep '\] phase ' "$LOG" | while read -r line; do sw_log "  $line"; done

sw_assert_json "$REPORT" "three phases reported, by name, 2 s each, back to back" \
  "[p['name'] for p in r['phases']] == ['ramp-up', 'hold', 'ramp-down'] and all(abs(p['end_s'] - p['start_s'] - 2) < 0.01 for p in r['phases']) and abs(r['phases'][1]['start_s'] - r['phases'][0]['end_s']) < 1e-6"
sw_assert_json "$REPORT" "each phase opened what its rate integrates to (2000, 4000, 2000, within 10 %)" \
  "all(abs(p['opened'] - want) <= 0.1 * want for p, want in zip(r['phases'], [2000, 4000, 2000]))"
sw_assert_json "$REPORT" "no connection failed in any phase, and each reports its rates and connect latency" \
  "all(p['failed'] == 0 and p['completed_per_s'] > 0 and p['connect_p99_us'] > 0 for p in r['phases']) and r['connections_failed'] == 0"
sw_assert_json "$REPORT" "the run lasted the phases' 6 s, and the config keeps the phases and their workloads" \
  "abs(r['duration_s'] - 6) < 0.5 and [(p['http_get'], p['requests_per_connection']) for p in r['config']['phases']] == [('/', 1), ('/hold', 5), ('/', 1)]"
sw_assert_json "$REPORT" "the hold phase's connections each made 5 requests (within 10 %), the others 1" \
  "all(abs(p['http_requests_per_s'] - k * p['completed_per_s']) <= 0.1 * k * p['completed_per_s'] for p, k in zip(r['phases'], [1, 5, 1]))"

sw_check "bad phases are refused with one line naming them"
sw_refuse "--phase 'hold:x:100'.*duration" -- loopback --phase hold:x:100
sw_refuse "--phase 'hold:2:fast'.*rate" -- loopback --phase hold:2:fast
sw_refuse "--phase gives each phase.*--rate" -- loopback --phase hold:2:100 --rate 5
sw_refuse "unknown option --phase for mode server" -- server --ip 198.18.0.2/24 --listen 80 --phase hold:2:100
sw_refuse "--phase 'hold:2:100:pipeline=0'.*pipeline='0' is not a depth" -- loopback --http-get / --phase hold:2:100:pipeline=0
sw_refuse "--phase 'hold:2:100::colour=red'.*not KEY=VALUE" -- loopback --http-get / --phase hold:2:100::colour=red
sw_refuse "--phase 'hold:2:100:requests-per-connection=3'.*keep HTTP connections" -- loopback --phase hold:2:100:requests-per-connection=3
