#!/usr/bin/env bash
# A SYN flood over IPv6 against a synwave server that answers with cookies (issue 13): synwave's
# flood mode with spoofed sources 2001:db8:1::1-2001:db8:1::ffff (inside 2001:db8:1::/64), while
# legitimate IPv6 clients connect. Two links, a fresh server each:
#
# 1. net_memif (flood on lcore 0, dual-stack server on lcore 1): 200K SYN/s and the flood's own
#    probes over IPv6, 300 legitimate connections per second from 2001:db8::4 (handshake, GET /,
#    the server's close). The flood finds the server's MAC by Neighbor Discovery. Every probe
#    must complete, the server must have sent cookies for the flood and validated every probe's,
#    and its records must stay within their bounds: no half-open entry (cookies always), no SYN
#    shed for want of a record, its record pool the size it was given.
# 2. net_tap on one bridge with the namespace's kernel (2001:db8::1): an IPv6-only server, the
#    flood at 10K SYN/s (what net_tap carries), and 200 kernel TCP connections over IPv6 at 100/s
#    (tests/system/legit_clients.py): every one must succeed, through a cookie.
# First, what the flood refuses over IPv6: one line, exit 2.
# Addresses: 2001:db8::/32 and 198.18.0.0/15 only, inside the test's namespace.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly DURATION=3
readonly FLOOD_PPS=200000
readonly PROBE_RATE=300
readonly SPOOFED=2001:db8:1::1-2001:db8:1::ffff
readonly SERVER_IP6=2001:db8::2
readonly FLOOD_IP6=2001:db8::3
readonly PROBE_IP6=2001:db8::4
readonly KERNEL_IP6=2001:db8::1
readonly MAX_CONNECTIONS=4096
readonly TAP_PPS=10000
readonly LEGIT_CONNECTIONS=200
readonly LEGIT_RATE=100

sw_begin 90
sw_require ip

# --- bad input -----------------------------------------------------------------------------------
GOOD=(-- flood --ip "$FLOOD_IP6/64" --dst "[$SERVER_IP6]:80" --pps 100)
sw_check "IPv6 flood input refused with exit 2 and one line naming the problem"
sw_refuse "--src-ip '2001:db8:1::9-2001:db8:1::1': the first address is above the last" "${GOOD[@]}" \
  --src-ip 2001:db8:1::9-2001:db8:1::1
sw_refuse "only in the last 32 bits" "${GOOD[@]}" --src-ip 2001:db8:1::1-2001:db8:2::1
sw_refuse "holds the target's own address $SERVER_IP6" "${GOOD[@]}" --src-ip 2001:db8::1-2001:db8::9
sw_refuse "is IPv4 and --dst IPv6" "${GOOD[@]}" --src-ip 198.19.0.1-198.19.0.9
sw_refuse "--dst '198.18.0.2:80' is IPv4 and --ip '$FLOOD_IP6/64' IPv6" -- flood --ip "$FLOOD_IP6/64" \
  --dst 198.18.0.2:80 --src-ip "$SPOOFED" --pps 100
sw_refuse "--probe-src 2001:db8:1::7 is inside the spoofed range" "${GOOD[@]}" --src-ip "$SPOOFED" \
  --probe-rate 10 --probe-src 2001:db8:1::7
sw_refuse "outside --ip $FLOOD_IP6/64's subnet and no --gateway" -- flood --ip "$FLOOD_IP6/64" \
  --dst "[2001:db8:9::2]:80" --src-ip "$SPOOFED" --pps 100
sw_ok "refused"

sw_netns

# Server checks shared by both links: cookies for the flood, bounded records, every connection the
# server accepted completed but at most IN_FLIGHT still open when it stopped.
# check_server NAME REPORT LEGIT_COMPLETED IN_FLIGHT
check_server() {
  local name="$1" report="$2" legit="$3" in_flight="$4"
  sw_log "$name server: $(sw_json "$report" "', '.join('%s %d' % (k, r['counters'][k]) for k in ('syn_received', 'rx_ipv6_segments', 'cookies_sent', 'cookies_valid', 'cookies_invalid', 'half_open_evicted', 'drop_syn_shed_pool', 'conn_accepted', 'conn_completed', 'conn_failed'))")"
  sw_assert_json "$report" "$name: the flood reached the server over IPv6 and every SYN got a cookie" \
    "r['counters']['rx_ipv6_segments'] > 10 * $legit and r['counters']['cookies_sent'] > 10 * $legit and \
r['counters']['cookies_sent'] + r['counters']['drop_syn_shed_busy'] == r['counters']['syn_received']"
  sw_assert_json "$report" "$name: every legitimate connection came through a valid cookie, and completed" \
    "r['counters']['cookies_valid'] >= $legit and r['counters']['conn_accepted'] == r['counters']['cookies_valid'] and \
r['counters']['conn_failed'] == 0 and 0 <= r['counters']['conn_accepted'] - r['counters']['conn_completed'] <= $in_flight"
  sw_assert_json "$report" "$name: records within their bounds (no half-open entry, none shed, pool of $MAX_CONNECTIONS)" \
    "r['counters']['half_open_evicted'] == 0 and r['counters']['drop_syn_shed_pool'] == 0 and \
r['counters']['conn_failed_overload'] == 0 and r['memory']['connection_records'] == $MAX_CONNECTIONS and \
all(t.get('server_established', 0) <= $MAX_CONNECTIONS for t in r['timeline'])"
}

# --- 1. net_memif: 200K SYN/s and the flood's probes --------------------------------------------
MEMIF="socket=$SW_WORKDIR/memif.sock,socket-abstract=no,id=0,rsize=12"
SERVER_LOG="$SW_WORKDIR/memif-server.log"
SERVER_REPORT="$SW_WORKDIR/memif-server.json"
sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci -l 1 --file-prefix="$(sw_file_prefix smemif)" \
  --vdev "net_memif0,role=server,$MEMIF,mac=02:00:00:00:00:02" -- \
  server --ip 198.18.2.1/16 --ip "$SERVER_IP6/64" --listen 80 --http 14 --syn-cookies always \
  --max-connections "$MAX_CONNECTIONS" --report "$SERVER_REPORT" --stats-interval 1
SERVER_PID=$SW_PID
sw_wait_ready "$SERVER_LOG"
FLOOD_LOG="$SW_WORKDIR/memif-flood.log"
FLOOD_REPORT="$SW_WORKDIR/memif-flood.json"
sw_start_synwave "$FLOOD_LOG" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix fmemif)" \
  --vdev "net_memif0,role=client,$MEMIF,mac=02:00:00:00:00:01" -- \
  flood --ip "$FLOOD_IP6/64" --src-ip "$SPOOFED" --dst "[$SERVER_IP6]:80" --kind syn --pps "$FLOOD_PPS" \
  --probe-rate "$PROBE_RATE" --probe-src "$PROBE_IP6" --duration "$DURATION" --report "$FLOOD_REPORT" --stats-interval 1
FLOOD_PID=$SW_PID
# The server stops once the flood's run is over, before the flood closes its memif port.
sw_wait_summary "$FLOOD_PID" "$FLOOD_LOG" 40
sleep 0.5  # the server drains what is left in the ring
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "memif: the server exited with $SW_STOP_STATUS"; }
sw_wait_exit "$FLOOD_PID" "$FLOOD_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$FLOOD_LOG"; sw_fail "memif: the flood exited with $SW_STOP_STATUS"; }
sw_log "memif: $(tail -n 1 "$FLOOD_LOG")"

sw_check "the flood resolved the server by Neighbor Discovery"
grep -q "flood: next hop $SERVER_IP6 is at 02:00:00:00:00:02" "$FLOOD_LOG" ||
  { sw_tail "$FLOOD_LOG"; sw_fail "no next hop learnt by Neighbor Discovery"; }
sw_ok "$(grep 'flood: next hop' "$FLOOD_LOG" | sed 's/.*flood: //')"
SERVER_RX="$(sw_json "$SERVER_REPORT" "r['data_plane']['rx_packets']")"
sw_log "memif flood: $(sw_json "$FLOOD_REPORT" "'%d SYNs in %.1f s = %.0f pps (target %d), tx queue full %d, longest pass %.1f ms' % (r['sent']['syn'], r['duration_s'], r['pps'], r['target_pps'], r['tx_queue_full'], r['data_plane']['longest_pass_us'] / 1e3)")"
# The rate itself is not asserted: on a shared machine the flood's lcore may lose its CPU for
# seconds (the log line above gives its longest pass).
sw_assert_json "$FLOOD_REPORT" "flood: IPv6 SYNs, far more than the probes, after one solicitation and no ARP" \
  "r['kind'] == 'syn' and r['sent']['syn'] > 10 * r['probes']['opened'] and r['nd']['solicitations_sent'] >= 1 and \
r['arp']['requests_sent'] == 0 and r['config']['next_hop'] == '$SERVER_IP6'"
sw_assert_json "$FLOOD_REPORT" "flood: what its port sent ($SERVER_RX frames) is what the server received, less at most the 4096 the ring holds" \
  "0 <= r['data_plane']['tx_packets'] - $SERVER_RX <= 4096 and \
r['data_plane']['tx_packets'] >= r['sent_total'] + r['nd']['solicitations_sent']"
# A probe still in its handshake when the run ends is neither: at most the last 100 ms of them
# (the probes' bucket catches up that much after a preempted pass).
sw_assert_json "$FLOOD_REPORT" "probes: opened through the flood, none failed, all completed but those in flight at the end" \
  "r['probes']['opened'] >= $PROBE_RATE and r['probes']['failed'] == 0 and r['probes']['opened'] - r['probes']['completed'] <= $PROBE_RATE / 10 + 5 and \
r['probes']['src'] == '$PROBE_IP6' and r['config']['probe_src'] == '$PROBE_IP6'"
PROBES="$(sw_json "$FLOOD_REPORT" "r['probes']['completed']")"
check_server memif "$SERVER_REPORT" "$PROBES" "$((PROBE_RATE / 10 + 5))"

# --- 2. net_tap with the kernel's clients ---------------------------------------------------------
SERVER_TAP=swsrv6
FLOOD_TAP=swfld6
sw_bridge
# The kernel joins the segment over IPv6 on the bridge alone (the namespace starts with IPv6
# off); without snooping the bridge floods every group, so solicitations reach the synwave ports,
# which join none by MLD.
sw_in_ns sysctl -qw "net.ipv6.conf.$SW_BRIDGE.disable_ipv6=0"
ip -n "$SW_NS" link set "$SW_BRIDGE" type bridge mcast_snooping 0
ip -n "$SW_NS" link set "$SW_BRIDGE" address "$SW_KERNEL_MAC"
ip -n "$SW_NS" -6 addr add "$KERNEL_IP6/64" dev "$SW_BRIDGE" nodad

SERVER_LOG="$SW_WORKDIR/tap-server.log"
SERVER_REPORT="$SW_WORKDIR/tap-server.json"
sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
  --file-prefix="$(sw_file_prefix stap)" -- server --ip "$SERVER_IP6/64" --listen 80 --http 64 --syn-cookies always \
  --max-connections "$MAX_CONNECTIONS" --report "$SERVER_REPORT" --stats-interval 2
SERVER_PID=$SW_PID
sw_wait_tap "$SERVER_TAP"
sw_wait_ready "$SERVER_LOG"
sw_bridge_attach "$SERVER_TAP" 02:00:00:00:01:02

FLOOD_LOG="$SW_WORKDIR/tap-flood.log"
FLOOD_REPORT="$SW_WORKDIR/tap-flood.json"
sw_start_synwave "$FLOOD_LOG" --no-huge -m 512 --no-pci --vdev "net_tap1,iface=$FLOOD_TAP" -l 1 \
  --file-prefix="$(sw_file_prefix ftap)" -- flood --ip "$FLOOD_IP6/64" --src-ip "$SPOOFED" --dst "[$SERVER_IP6]:80" \
  --pps "$TAP_PPS" --kind syn --report "$FLOOD_REPORT" --stats-interval 2
FLOOD_PID=$SW_PID
sw_wait_tap "$FLOOD_TAP"
# Attached once the port has started (which copies its MAC onto the kernel side), before it asks.
sw_wait_for 20 "flood port started" grep -q 'flood: resolving' "$FLOOD_LOG" ||
  { sw_tail "$FLOOD_LOG"; sw_fail "the flood did not start resolving its next hop"; }
sw_bridge_attach "$FLOOD_TAP" 02:00:00:00:01:03
sw_check "the flood finds the server's MAC by Neighbor Discovery across the bridge and starts"
sw_wait_ready "$FLOOD_LOG" 20
sw_ok "$(grep 'flood: next hop' "$FLOOD_LOG" | sed 's/.*flood: //')"
sleep 1  # the flood is under way before the first legitimate SYN

sw_check "$LEGIT_CONNECTIONS kernel connections over IPv6 at $LEGIT_RATE/s during a $TAP_PPS pps IPv6 SYN flood: every one succeeds"
LEGIT="$SW_WORKDIR/legit.json"
sw_in_ns timeout 60 "$PYTHON" "$SW_LIB_DIR/legit_clients.py" "$SERVER_IP6" 80 "$LEGIT_CONNECTIONS" "$LEGIT_RATE" 10 \
  >"$LEGIT" 2>"$SW_WORKDIR/legit.err" || { sw_tail "$SW_WORKDIR/legit.err"; sw_fail "the legitimate clients did not run"; }
sw_log "legitimate clients: $(cat "$LEGIT")"
sw_assert_json "$LEGIT" "legitimate: all $LEGIT_CONNECTIONS ok" \
  "r['attempted'] == $LEGIT_CONNECTIONS and r['ok'] == r['attempted']"

kill -0 "$FLOOD_PID" 2>/dev/null || { sw_tail "$FLOOD_LOG"; sw_fail "the flood exited during the run"; }
sw_stop "$FLOOD_PID" "$FLOOD_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$FLOOD_LOG"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
sw_log "tap: $(grep '^synwave flood:' "$FLOOD_LOG" || echo 'no flood summary line')"
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "the server exited with $SW_STOP_STATUS"; }
sw_assert_json "$FLOOD_REPORT" "tap flood: IPv6 SYNs only, a solicitation sent" \
  "r['kind'] == 'syn' and r['sent']['syn'] > 0 and r['sent']['ack'] + r['sent']['rst'] + r['sent']['fin'] == 0 and \
r['nd']['solicitations_sent'] >= 1 and r['arp']['requests_sent'] == 0"
check_server tap "$SERVER_REPORT" "$LEGIT_CONNECTIONS" 0
