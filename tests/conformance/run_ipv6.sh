#!/usr/bin/env bash
# The Scapy conformance suite over IPv6 (issue 13): the same scenarios as run.sh, the tester at
# 2001:db8::3, synwave at 2001:db8::2/64 (dual stack), IPv4-only scenarios skipped with their
# reason, IPv6's own (fragment and extension headers, Neighbor Discovery, ICMPv6 echo) added.
# Arguments: as run.sh's (substrings of scenario names).
SW_FAMILY=6 exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
