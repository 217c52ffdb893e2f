#!/usr/bin/env bash
# Bad input is refused with exit code 2 and one line on stderr that names the problem (no
# backtrace, no PANIC, no usage dump). When the error is the EAL's (an unknown device), DPDK prints
# its own lines first: the last line is synwave's and must name the problem.
# Then the valid side: a config file with `http = 512` and `listen = [80, 8080]` is accepted and
# takes effect (server mode over net_tap: both ports answer 512-byte bodies), and the command
# line wins over the config file (loopback: --duration 1 against `duration = 5`).
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sw_begin 90
sw_require curl

# refuse NAME PATTERN SCOPE ARGS...: runs synwave ARGS, expects exit 2, nothing on stdout, and on
# stderr one line (SCOPE=one) or a last line (SCOPE=last) matching the extended regex PATTERN.
refuse() {
  local name="$1" pattern="$2" scope="$3"
  shift 3
  sw_check "refused with exit 2 and one line naming it: $name"
  local out="$SW_WORKDIR/out" err="$SW_WORKDIR/err" status=0
  timeout 30 "$SYNWAVE" "$@" >"$out" 2>"$err" || status=$?
  local lines line
  lines="$(grep -c . "$err" || true)"
  line="$(grep . "$err" | tail -n 1 || true)"
  [[ $status -eq 2 ]] || { cat "$err" >&2; sw_fail "$name: exit status $status, expected 2"; }
  [[ ! -s "$out" ]] || { cat "$out" >&2; sw_fail "$name: printed on stdout"; }
  if grep -Eiq 'panic|backtrace|terminate called|what\(\)|segmentation|abort|Usage:' "$err"; then
    cat "$err" >&2
    sw_fail "$name: stderr has a crash report or a usage dump"
  fi
  if [[ "$scope" == one && "$lines" -ne 1 ]]; then
    cat "$err" >&2
    sw_fail "$name: $lines lines on stderr, expected 1"
  fi
  [[ "$line" == synwave:* ]] || sw_fail "$name: the last line is not synwave's: $line"
  [[ "$line" =~ $pattern ]] || sw_fail "$name: '$line' does not name the problem (/$pattern/)"
  sw_ok "$line"
}

CONFIG_UNKNOWN="$SW_WORKDIR/unknown-key.toml"
printf 'ip = "198.18.0.2/24"\nlisten = [80]\nbogus_key = 1\n' >"$CONFIG_UNKNOWN"
CONFIG_WRONG_TYPE="$SW_WORKDIR/wrong-type.toml"
printf 'rate = "fast"\n' >"$CONFIG_WRONG_TYPE"
CONFIG_NEGATIVE="$SW_WORKDIR/negative.toml"
printf 'rate = -5\n' >"$CONFIG_NEGATIVE"
CONFIG_BROKEN="$SW_WORKDIR/broken.toml"
printf 'listen = [80\n' >"$CONFIG_BROKEN"

refuse "an unknown mode (not the loopback)" "unknown mode 'bogus' \\(modes: server, client, loopback, flood, pair; or 'merge REPORT\\.json\\.\\.\\.' to merge the reports of several instances\\)$" one \
  -- bogus
refuse "a misspelled mode, with what was meant" "unknown mode 'severr' \\(modes: server, client, loopback, flood, pair; .*\\); did you mean 'server'\\?$" one \
  -- severr --ip 198.18.0.2/24 --listen 80
refuse "merge: a report file that is not there" "merge: .*/missing\\.json: cannot open it" one \
  merge "$SW_WORKDIR/missing.json"
refuse "merge: a file that is not JSON" "merge: .*broken\\.toml: not valid JSON" one \
  merge "$CONFIG_BROKEN"
refuse "a misspelled mode as the first argument, no EAL options" "unknown mode 'clinet'.*did you mean 'client'" one \
  clinet --ip 198.18.0.2/24 --dst 198.18.0.1:80
refuse "unknown flag" '--bogus-flag' one \
  -- server --ip 198.18.0.2/24 --listen 80 --bogus-flag
refuse "unknown flag, even with required options missing" '--bogus-flag' one \
  -- server --bogus-flag
refuse "malformed --ip (octet 300)" "--ip.*198\.18\.0\.300" one \
  -- server --ip 198.18.0.300/24 --listen 80
refuse "malformed --ip (prefix 33)" "--ip.*/33" one \
  -- server --ip 198.18.0.2/33 --listen 80
refuse "--listen 0" '--listen.*0' one \
  -- server --ip 198.18.0.2/24 --listen 0
refuse "--dst without a port" '--dst.*198\.18\.0\.1' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1
refuse "--dst range backwards" '--dst.*198\.18\.0\.9-198\.18\.0\.3' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.9-198.18.0.3:80
refuse "--src-ip not an address range" '--src-ip.*198\.18\.1' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --src-ip 198.18.1
refuse "--dst one of our --src-ip addresses" '--dst 198\.18\.0\.5 is one of the client.s own' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.5:80 --src-ip 198.18.0.4-198.18.0.6
refuse "raw and HTTP workloads together" '--request-bytes.*--http' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --http-get / --request-bytes 10
refuse "--connections together with --duration" '--connections.*--duration|--duration.*--connections' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --connections 10 --duration 1
refuse "negative --rate" '--rate.*-5' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --rate -5
refuse "config file with an unknown key" "unknown key 'bogus_key'" one \
  -- server --config "$CONFIG_UNKNOWN"
refuse "config file with a wrong type (rate = \"fast\")" 'rate.*fast' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --config "$CONFIG_WRONG_TYPE"
refuse "config file with a negative rate" 'rate.*-5' one \
  -- client --ip 198.18.0.2/24 --dst 198.18.0.1:80 --config "$CONFIG_NEGATIVE"
refuse "config file that is not TOML" "config file.*broken\.toml" one \
  -- server --config "$CONFIG_BROKEN"
refuse "config file that does not exist" "config file.*does-not-exist\.toml" one \
  -- server --config "$SW_WORKDIR/does-not-exist.toml"
BAD_DEVICE_PREFIX="$(sw_file_prefix baddev)"
SW_DPDK_PREFIXES+=("$BAD_DEVICE_PREFIX")
refuse "unknown device (--vdev net_nonexistent0)" 'device|vdev' last \
  --no-huge -m 256 --no-pci --vdev net_nonexistent0 -l 0 --file-prefix="$BAD_DEVICE_PREFIX" \
  -- server --ip 198.18.0.2/24 --listen 80
grep -q 'net_nonexistent0' "$SW_WORKDIR/err" || sw_fail "unknown device: nothing on stderr names net_nonexistent0"
POOL_PREFIX="$(sw_file_prefix pool)"
SW_DPDK_PREFIXES+=("$POOL_PREFIX")
refuse "--mbufs fewer than an lcore's cache" '--mbufs 300 is too few.*at least' last \
  --no-huge -m 256 --no-pci -l 0 --file-prefix="$POOL_PREFIX" -- loopback --mbufs 300 --duration 1
PAIR="pair --client-ip 198.18.1.2/24 --server-ip 198.18.2.2/24 --listen 80 --dst 198.18.2.2:80"
refuse "pair: one port for both sides" '--client-port and --server-port are both 0' one \
  -- $PAIR --server-port 0
refuse "pair: one address for both sides" '--client-ip and --server-ip are both 198\.18\.1\.2' one \
  -- pair --client-ip 198.18.1.2/24 --server-ip 198.18.1.2/24 --listen 80 --dst 198.18.2.2:80
refuse "pair: the server's address among the client's sources" '--server-ip 198\.18\.2\.2 is inside the client' one \
  -- pair --client-ip 198.18.1.2/24 --server-ip 198.18.2.2/24 --listen 80 --dst 198.18.3.1:80 --src-ip 198.18.2.1-198.18.2.9
PAIR_DEVICE_PREFIX="$(sw_file_prefix pairdev)"
SW_DPDK_PREFIXES+=("$PAIR_DEVICE_PREFIX")
refuse "pair with one device: the server's port does not exist" '--server-port 1 does not exist.*two devices' last \
  --no-huge -m 256 --no-pci --vdev net_null0 -l 0 --file-prefix="$PAIR_DEVICE_PREFIX" -- $PAIR

# --- a valid config file: accepted, and in effect ------------------------------------------------
# listen is a server option (loopback always listens on 80), so this part runs a server on net_tap.
sw_check "server config with http = 512 and listen = [80, 8080] is accepted and in effect"
sw_netns
CONFIG_SERVER="$SW_WORKDIR/server.toml"
printf '# a valid server configuration\nhttp = 512\nlisten = [80, 8080]\n' >"$CONFIG_SERVER"
LOG="$SW_WORKDIR/server.log"
REPORT="$SW_WORKDIR/server-report.json"
sw_start_tap_synwave "$LOG" 0 "" server --config "$CONFIG_SERVER" --report "$REPORT" --stats-interval 0
for port in 80 8080; do
  size="$(sw_in_ns timeout 15 curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{size_download}' "http://$SW_SYNWAVE_IP:$port/")" ||
    sw_fail "curl to port $port failed"
  [[ "$size" == "200 512" ]] || sw_fail "port $port: got '$size', expected '200 512'"
  sw_ok "port $port answers 200 with a 512-byte body"
done
sw_stop "$SW_PID" "$LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "server exited with $SW_STOP_STATUS"; }
sw_assert_json "$REPORT" "report config: listen [80, 8080], http 512, the config file named" \
  "r['config']['listen'] == [80, 8080] and r['config']['http_bytes'] == 512 and r['config']['config_file'].endswith('server.toml')"

sw_check "the command line wins: loopback --duration 1 with a config file saying duration = 5"
CONFIG_LOOPBACK="$SW_WORKDIR/loopback.toml"
printf 'duration = 5\nhttp = 512\n' >"$CONFIG_LOOPBACK"
LOG="$SW_WORKDIR/loopback.log"
REPORT="$SW_WORKDIR/loopback-report.json"
sw_start_synwave "$LOG" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix loop)" \
  -- loopback --config "$CONFIG_LOOPBACK" --duration 1 --report "$REPORT" --stats-interval 0
sw_wait_exit "$SW_PID" "$LOG" 30
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "loopback exited with $SW_STOP_STATUS"; }
sw_assert_json "$REPORT" "report: ran about 1 s (not 5), the config's http = 512 applied, no failure" \
  "r['config']['duration_s'] == 1 and r['duration_s'] < 3 and r['config']['http_bytes'] == 512 and r['connections_completed'] > 0 and r['connections_failed'] == 0"

sw_check "settings that make a collapse likely are said once at start, and the run goes on"
LOG="$SW_WORKDIR/warn.log"
sw_start_synwave "$LOG" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix warn)" \
  -- loopback --duration 0.5 --concurrency 5000 --max-connections 4000 --stats-interval 0
sw_wait_exit "$SW_PID" "$LOG" 30
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "loopback exited with $SW_STOP_STATUS"; }
[[ "$(grep -c -- '--concurrency 5000 is above the 4000 connection records' "$LOG")" -eq 1 ]] ||
  { sw_tail "$LOG"; sw_fail "no single warning about --concurrency above --max-connections"; }
sw_ok "$(grep -o -- '--concurrency 5000 is above.*' "$LOG")"
