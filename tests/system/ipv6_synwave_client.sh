#!/usr/bin/env bash
# synwave_client.sh over IPv6 (issue 13): synwave's client against a Linux IPv6 listener, the
# kernel's MAC found by Neighbor Discovery, the same checks of both sides and of the capture.
SW_FAMILY=6 SW_TEST_NAME=ipv6_synwave_client exec "$(dirname "${BASH_SOURCE[0]}")/synwave_client.sh" "$@"
