#!/usr/bin/env bash
# net_pcap has one queue: with two lcores the second has none and works through the software
# dispatcher (frames steered to it by ring, its replies forwarded to the queue's owner). The same
# replay must give exactly the same replies, and the report must say the dispatcher ran.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PCAP_LCORES=0-1 exec "$HERE/pcap_replay.sh" "$@"
