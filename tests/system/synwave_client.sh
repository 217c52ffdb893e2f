#!/usr/bin/env bash
# synwave as a client against the Linux kernel's TCP: a Python HTTP server listens on
# 198.18.0.1:8080 in the namespace; synwave resolves its MAC by ARP, opens 5000 connections (50 at
# a time), sends GET / on each, reads the response and waits for the server's FIN. The run ends
# by itself; both sides' counts must agree, and the capture on the kernel side of the tap has no
# bad checksum and nothing TCP analysis flags.
# With SW_FAMILY=6 (ipv6_synwave_client.sh) the same over IPv6: the listener on 2001:db8::1, synwave
# at 2001:db8::2 resolving it by Neighbor Discovery.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly FAMILY="${SW_FAMILY:-4}"
if [[ "$FAMILY" == 6 ]]; then
  readonly LISTEN_IP=2001:db8::1 DST_HOST="[2001:db8::1]" CLIENT_IP6=2001:db8::2/64
  RESOLVED="r['counters']['nd_solicitations_sent'] >= 1 and r['counters']['nd_advertisements_received'] >= 1"
else
  readonly LISTEN_IP="$SW_KERNEL_IP" DST_HOST="$SW_KERNEL_IP" CLIENT_IP6=""
  RESOLVED="r['counters']['arp_requests_sent'] >= 1 and r['counters']['arp_replies_received'] >= 1"
fi
readonly RESOLVED

readonly CONNECTIONS=5000
readonly CONCURRENCY=50
# Opens per second: unpaced, the client drove 50K frames/s through the tap, and tcpdump, woken for
# every frame in immediate mode on a busy 2-core machine, once lost 99 of 40K. The test is about
# what the kernel sees, not the rate.
readonly RATE=2000
readonly SERVER_PORT=8080

sw_begin 120
sw_require tcpdump tshark
sw_netns

LISTENER_STATS="$SW_WORKDIR/listener.json"
LISTENER_LOG="$SW_WORKDIR/listener.log"
LOG="$SW_WORKDIR/synwave.log"
REPORT="$SW_WORKDIR/report.json"

sw_start_kernel_listener "$SERVER_PORT" "$LISTENER_STATS" "$LISTENER_LOG" "$LISTEN_IP"
LISTENER_PID=$SW_LISTENER_PID
sw_log "Python listener on $DST_HOST:$SERVER_PORT (PID $LISTENER_PID)"

PCAP="$SW_WORKDIR/kernel-side.pcap"
# tcpdump needs the interface, which appears only when synwave starts: it starts as soon as the
# interface exists (sw_start_tap_synwave's hook), before synwave's port does. Immediate mode:
# synwave exits by itself at the end and takes the interface with it.
# tcpdump refuses an interface that is down: bring it up (no address yet, IPv6 off: the kernel
# stays silent on it until sw_setup_kernel_side).
# Over IPv6 the interface gets IPv6 back here and its address (no DAD delay) with the IPv4 one,
# once its MAC is set (sw_setup_kernel_side): an advertisement sent before would carry the MAC
# the port copied onto it, synwave's own.
sw_on_tap() {
  [[ "$FAMILY" != 6 ]] || sw_in_ns sysctl -qw "net.ipv6.conf.$SW_TAP.disable_ipv6=0"
  ip -n "$SW_NS" link set "$SW_TAP" up
  sw_tcpdump_start "$SW_TAP" "$PCAP" immediate
}
run_start=$SECONDS
sw_start_tap_synwave "$LOG" 0 "" client ${CLIENT_IP6:+--ip "$CLIENT_IP6"} --dst "$DST_HOST:$SERVER_PORT" --connections "$CONNECTIONS" \
  --concurrency "$CONCURRENCY" --rate "$RATE" --http-get / --report "$REPORT" --stats-interval 1
CLIENT_PID=$SW_PID
[[ "$FAMILY" != 6 ]] || sw_in_ns ip -6 addr add "$LISTEN_IP/64" dev "$SW_TAP" nodad

sw_check "synwave client finishes $CONNECTIONS connections by itself"
sw_wait_exit "$CLIENT_PID" "$LOG" 60
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$LOG"; sw_fail "synwave client exited with $SW_STOP_STATUS"; }
sw_ok "exited 0 after $((SECONDS - run_start)) s: $(grep '^synwave client:' "$LOG" || echo 'no summary line')"
grep -q '^synwave client: .* connections/s' "$LOG" || { sw_tail "$LOG"; sw_fail "no summary line"; }

sw_tcpdump_stop "$PCAP"
sw_stop "$LISTENER_PID" "$LISTENER_LOG" 10
[[ -s "$LISTENER_STATS" ]] || { sw_tail "$LISTENER_LOG"; sw_fail "the listener wrote no counts"; }
sw_log "listener counts: $(tr -d '\n ' <"$LISTENER_STATS")"

sw_assert_json "$REPORT" "report: mode client, $CONNECTIONS connections completed, none failed" \
  "r['mode'] == 'client' and r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0"
sw_assert_json "$REPORT" "report: exactly $CONNECTIONS opened, all established" \
  "r['counters']['conn_opened'] == $CONNECTIONS and r['counters']['conn_established'] == $CONNECTIONS"
sw_assert_json "$REPORT" "report: the kernel's MAC was learnt (ARP or Neighbor Discovery: asked, answered)" \
  "$RESOLVED"
sw_assert_json "$REPORT" "report: the wait for the neighbour is start-up, apart from the active period that cps is measured over" \
  "r['startup_s'] > 0 and r['active_s'] > 0 and abs(r['startup_s'] + r['active_s'] - r['duration_s']) < 1e-6 and abs(r['cps'] * r['active_s'] - r['connections_completed']) < 1"
sw_assert_json "$REPORT" "report: no RST either way, nothing dropped for lack of buffers" \
  "r['counters']['rst_sent'] == 0 and r['counters']['rst_received'] == 0 and r['data_plane']['mbuf_alloc_failures'] == 0 and r['data_plane']['tx_ring_full_drops'] == 0"
sw_assert_json "$REPORT" "report: no connection left open (only TIME-WAIT may remain)" \
  "all(v == 0 for k, v in r['roles']['client']['gauges'].items() if k not in ('connections', 'TIME-WAIT'))"
sw_assert_json "$LISTENER_STATS" "listener: $CONNECTIONS accepted, $CONNECTIONS GET / answered, no error" \
  "r['accepted'] == $CONNECTIONS and r['requests'] == $CONNECTIONS and r['responded'] == $CONNECTIONS and r['errors'] == 0 and r['paths'] == {'/': $CONNECTIONS}"

WIRE="$SW_WORKDIR/wire.tsv"
sw_scan_capture "$PCAP" "$WIRE"
if [[ "$FAMILY" == 6 ]]; then
  sw_check_capture_complete "$PCAP" "$REPORT" 'icmpv6.type == 143 || icmpv6.type == 133 || (icmpv6.type == 135 && ipv6.src == ::)' \
    "r['counters']['drop_icmpv6_ignored'] + r['counters']['drop_nd_not_for_us']"
else
  sw_check_capture_complete "$PCAP" "$REPORT"
fi
sw_check_checksums "$WIRE"
sw_check_analysis_flags "$WIRE" "$REPORT"
# The independent judge: also no malformed frame and no tshark warning (reused ports: see lib.sh).
# shellcheck disable=SC2046  # the allowances are words
judge_capture "$PCAP" tcp.analysis.reused_ports $(sw_stall_allowances "$REPORT")
