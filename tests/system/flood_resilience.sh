#!/usr/bin/env bash
# A SYN flood against a synwave server while the Linux kernel opens legitimate connections to it.
#
# One namespace, one Ethernet segment: a Linux bridge (198.18.0.1, the kernel's address, where
# the legitimate clients live) with two net_tap ports on it, each a synwave process:
#   - the server (198.18.0.2:80, lcore 0): --syn-cookies on-overflow with a SYN backlog of 64,
#     so the flood fills the backlog at once and every SYN after that is answered with a cookie;
#   - the flood (198.18.0.3, lcore 1): SYNs with Linux's options from spoofed sources
#     198.19.0.1-198.19.255.254 (the upper half of 198.18.0.0/15), at a rate net_tap carries;
#     it finds the server's MAC by ARP over the bridge first.
# While the flood runs, Python opens 500 kernel TCP connections (100 per second) to the server,
# each with GET / and the whole response. With cookies, at least 99 % must succeed; the server's
# report must show cookies sent and validated, the flood's its segments and its ARP.
# First, bad flood input is refused with exit 2 and one line naming the problem.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly FLOOD_PPS="${FLOOD_PPS:-10000}"
readonly LEGIT_CONNECTIONS=500
readonly LEGIT_RATE=100
readonly SYN_BACKLOG=64
readonly SERVER_IP=198.18.0.2
readonly FLOOD_IP=198.18.0.3
readonly SPOOFED=198.19.0.1-198.19.255.254
readonly SERVER_TAP=swsrv0
readonly FLOOD_TAP=swfld0

sw_begin 240
sw_require ip

# --- bad input ---------------------------------------------------------------------------------
# refuse NAME PATTERN ARGS...: exit 2, nothing on stdout, one line on stderr matching PATTERN.
refuse() {
  local name="$1" pattern="$2"
  shift 2
  sw_check "refused with exit 2 and one line naming it: $name"
  local out="$SW_WORKDIR/out" err="$SW_WORKDIR/err" status=0
  timeout 30 "$SYNWAVE" -- flood "$@" >"$out" 2>"$err" || status=$?
  [[ $status -eq 2 ]] || { cat "$err" >&2; sw_fail "$name: exit status $status, expected 2"; }
  [[ ! -s "$out" ]] || { cat "$out" >&2; sw_fail "$name: printed on stdout"; }
  [[ "$(grep -c . "$err")" -eq 1 ]] || { cat "$err" >&2; sw_fail "$name: not one line on stderr"; }
  local line
  line="$(cat "$err")"
  [[ "$line" =~ $pattern ]] || sw_fail "$name: '$line' does not name the problem (/$pattern/)"
  sw_ok "$line"
}
GOOD=(--ip "$FLOOD_IP/24" --dst "$SERVER_IP:80")
refuse "a source range whose first address is above its last" "--src-ip.*first address is above the last" \
  "${GOOD[@]}" --src-ip 198.19.0.9-198.19.0.1 --pps 100
refuse "a rate of 0" "--pps 0" "${GOOD[@]}" --src-ip "$SPOOFED" --pps 0
refuse "a malformed source range" "--src-ip '198.19.0.x'" "${GOOD[@]}" --src-ip 198.19.0.x --pps 100
refuse "a source range holding the target" "holds the target's own address $SERVER_IP" \
  "${GOOD[@]}" --src-ip 198.18.0.1-198.18.0.9 --pps 100
refuse "a source port range backwards" "--src-ports '5000-4000'" "${GOOD[@]}" --src-ip "$SPOOFED" --pps 100 --src-ports 5000-4000
refuse "an unknown kind" "--kind.*synack" "${GOOD[@]}" --src-ip "$SPOOFED" --pps 100 --kind synack
refuse "an off-link target without a gateway" "no --gateway" --ip "$FLOOD_IP/24" --dst 198.19.0.2:80 \
  --src-ip 198.19.1.1-198.19.1.9 --pps 100
refuse "two targets" "one --dst" "${GOOD[@]}" --dst 198.18.0.9:80 --src-ip "$SPOOFED" --pps 100
refuse "a TCP option flood mode does not have" "unknown option --syn-backlog" "${GOOD[@]}" --src-ip "$SPOOFED" \
  --pps 100 --syn-backlog 5
refuse "probes from inside the spoofed range" "--probe-src 198.19.0.7 is inside the spoofed range" "${GOOD[@]}" \
  --src-ip "$SPOOFED" --pps 100 --probe-rate 10 --probe-src 198.19.0.7
refuse "probes from outside our subnet" "--probe-src 198.20.0.1 is outside --ip" "${GOOD[@]}" --src-ip "$SPOOFED" \
  --pps 100 --probe-rate 10 --probe-src 198.20.0.1

# --- the segment ---------------------------------------------------------------------------------
sw_netns
sw_bridge kernel


SERVER_LOG="$SW_WORKDIR/server.log"
SERVER_REPORT="$SW_WORKDIR/server.json"
sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
  --file-prefix="$(sw_file_prefix srv)" -- server --ip "$SERVER_IP/24" --listen 80 --http 64 \
  --syn-backlog "$SYN_BACKLOG" --syn-cookies on-overflow --report "$SERVER_REPORT" --stats-interval 2
SERVER_PID=$SW_PID
sw_wait_tap "$SERVER_TAP"
sw_wait_ready "$SERVER_LOG"
sw_bridge_attach "$SERVER_TAP" 02:00:00:00:01:02

FLOOD_LOG="$SW_WORKDIR/flood.log"
FLOOD_REPORT="$SW_WORKDIR/flood.json"
sw_start_synwave "$FLOOD_LOG" --no-huge -m 512 --no-pci --vdev "net_tap1,iface=$FLOOD_TAP" -l 1 \
  --file-prefix="$(sw_file_prefix fld)" -- flood --ip "$FLOOD_IP/24" --src-ip "$SPOOFED" --dst "$SERVER_IP:80" \
  --pps "$FLOOD_PPS" --kind syn --report "$FLOOD_REPORT" --stats-interval 2
FLOOD_PID=$SW_PID
sw_wait_tap "$FLOOD_TAP"
# The port copies its MAC onto the kernel side when it starts, which is before it asks for the
# next hop: attach it then, and the flood's ARP requests reach the server.
sw_wait_for 20 "flood port started" grep -q 'flood: resolving' "$FLOOD_LOG" ||
  { sw_tail "$FLOOD_LOG"; sw_fail "the flood did not start resolving its next hop"; }
sw_bridge_attach "$FLOOD_TAP" 02:00:00:00:01:03
sw_check "the flood finds the server's MAC by ARP across the bridge and starts"
sw_wait_ready "$FLOOD_LOG" 20
sw_ok "$(grep 'flood: next hop' "$FLOOD_LOG" | sed 's/.*flood: //')"

# Let the flood fill the backlog before the first legitimate SYN.
sleep 1

sw_check "$LEGIT_CONNECTIONS legitimate kernel connections at $LEGIT_RATE/s during a $FLOOD_PPS pps SYN flood: >= 99 % succeed"
LEGIT="$SW_WORKDIR/legit.json"
sw_in_ns timeout 120 "$PYTHON" "$SW_LIB_DIR/legit_clients.py" "$SERVER_IP" 80 "$LEGIT_CONNECTIONS" "$LEGIT_RATE" 10 \
  >"$LEGIT" 2>"$SW_WORKDIR/legit.err" || { sw_tail "$SW_WORKDIR/legit.err"; sw_fail "the legitimate clients did not run"; }
sw_log "legitimate clients: $(cat "$LEGIT")"
sw_assert_json "$LEGIT" "legitimate: ok >= 99 % of $LEGIT_CONNECTIONS" \
  "r['attempted'] == $LEGIT_CONNECTIONS and r['ok'] * 100 >= 99 * r['attempted']"

kill -0 "$FLOOD_PID" 2>/dev/null || { sw_tail "$FLOOD_LOG"; sw_fail "the flood exited during the run"; }
sw_stop "$FLOOD_PID" "$FLOOD_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$FLOOD_LOG"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
sw_log "$(grep '^synwave flood:' "$FLOOD_LOG" || echo 'no flood summary line')"
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "the server exited with $SW_STOP_STATUS"; }

sw_assert_json "$FLOOD_REPORT" "flood report: SYNs only, per-lcore counts add up, ARP request sent" \
  "r['mode'] == 'flood' and r['kind'] == 'syn' and r['sent']['syn'] > 0 and r['sent']['ack'] + r['sent']['rst'] + r['sent']['fin'] == 0 and sum(l['sent']['syn'] for l in r['lcores']) == r['sent_total'] == r['sent']['syn'] and r['arp']['requests_sent'] >= 1 and r['target_pps'] == $FLOOD_PPS"
sw_log "flood: $(sw_json "$FLOOD_REPORT" "'%d SYNs in %.1f s = %.0f pps (target %d), no buffer %d, tx queue full %d' % (r['sent']['syn'], r['duration_s'], r['pps'], r['target_pps'], r['no_buffer'], r['tx_ring_full_drops'])")"
sw_log "server: $(sw_json "$SERVER_REPORT" "', '.join('%s %d' % (k, r['counters'][k]) for k in ('syn_received', 'synack_sent', 'cookies_sent', 'cookies_valid', 'cookies_invalid', 'cookies_stale', 'half_open_evicted', 'syn_rcvd_timeout', 'conn_accepted'))")"
sw_assert_json "$SERVER_REPORT" "server: the flood reached it (more SYNs than the legitimate clients sent)" \
  "r['counters']['syn_received'] > 10 * $LEGIT_CONNECTIONS"
sw_assert_json "$SERVER_REPORT" "server: cookies sent (the backlog overflowed) and validated (legitimate final ACKs)" \
  "r['counters']['cookies_sent'] > 0 and r['counters']['cookies_valid'] > 0"
sw_assert_json "$SERVER_REPORT" "server: every legitimate success was accepted" \
  "r['counters']['conn_accepted'] >= $(sw_json "$LEGIT" "r['ok']")"
