#!/usr/bin/env bash
# The Scapy conformance suite: synwave's real binary on net_tap in a network namespace made here,
# a tester crafting segments from 198.18.0.3 (an address nobody in the namespace owns, so the
# kernel sends no RSTs of its own; the tester answers ARP for it), every reply checked field by
# field, every drop checked in synwave's counters. Then each group's capture (tcpdump on the
# kernel side of the tap) goes through the tshark judge (judge_capture in tests/system/lib.sh)
# with the allow-list the scenarios wrote for what they provoke on purpose.
# Prints one line per scenario and "N scenarios passed, M failed"; exit 1 on any failure.
# Arguments (optional): substrings of scenario names ("group/name") to run only those.
# SW_FAMILY=6 (run_ipv6.sh) runs the same scenarios over IPv6: the tester is 2001:db8::3 and
# answers Neighbor Solicitations itself, synwave serves 2001:db8::2/64 beside 198.18.0.2; the
# namespace keeps IPv6 off on the kernel side, so the kernel still owns nothing the tester uses.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../system/lib.sh"
FAMILY="${SW_FAMILY:-4}"
case "$FAMILY" in
  4) SW_TEST_NAME=conformance ;;
  6) SW_TEST_NAME=conformance_ipv6 ;;
  *) sw_fail "SW_FAMILY must be 4 or 6, not '$FAMILY'" ;;
esac

sw_begin 300
sw_require tcpdump tshark
"$PYTHON" -c 'import scapy' 2>/dev/null || sw_fail "Scapy missing for $PYTHON (apt-get install python3-scapy)"
sw_netns

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
status=0
ip netns exec "$SW_NS" "$PYTHON" -u "$HERE/conformance.py" --family "$FAMILY" "$SYNWAVE" "$SW_WORKDIR" "$@" &
TESTER_PID=$!
sw_track "$TESTER_PID"
wait "$TESTER_PID" || status=$?

judged=0
for pcap in "$SW_WORKDIR"/*.pcap; do
  [[ -f "$pcap" ]] || continue
  group="$(basename "${pcap%.pcap}")"
  if (judge_capture "$pcap" "@$SW_WORKDIR/$group.allow"); then
    judged=$((judged + 1))
  else
    status=1
  fi
done
sw_log "tshark judge: $judged capture(s) clean"
[[ $status -eq 0 ]] || sw_fail "conformance failures (see above)"
