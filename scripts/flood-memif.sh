#!/usr/bin/env bash
# A SYN flood over net_memif into a synwave server, one lcore each (flood on lcore 0, server on
# lcore 1), and one line of what happened: what the flood's device accepted, what the server
# received, answered and shed per second, and the server's busy time against the flood's duration
# and per SYN answered (compare bench/link_bench's busy ns per frame: the link's share of it).
#
#   scripts/flood-memif.sh [PPS] [COOKIES] [SECONDS]     # as root
#     PPS       offered SYNs per second (default 20000000)
#     COOKIES   the server's --syn-cookies: always (default), on-overflow, off
#     SECONDS   flood duration (default 5)
#
# Runs inside a network namespace it creates and deletes (the memif socket lives in a temporary
# directory); addresses are 198.18.0.0/15 only. Environment: SYNWAVE (default
# build/src/app/synwave); BSIZE, memif's buffer size (default 128: a SYN and its SYN-ACK are 74
# bytes; memif's own default, 2048, makes a full ring of 4096 buffers 8 MiB each way, and the
# server paid about 12 % more per SYN for walking it); RSIZE, log2 of memif's ring size (default
# 14, memif's largest: 16384 slots of 128 bytes are 2 MiB each way, and with 4096 the ring ran full
# more often and each SYN cost the server about 10 % more); KIND, the flood's --kind (default syn, a
# Linux SYN's options; syn-plain: none, as hping3 -S sends); REPORTS_DIR=DIR keeps the two reports there
# (flood-memif-PPS-COOKIES-{flood,server}.json, with a progress sample each second) and draws each
# beside it (scripts/plot-report.py).
set -euo pipefail
PPS=${1:-20000000}
COOKIES=${2:-always}
SECONDS_RUN=${3:-5}
SYNWAVE=${SYNWAVE:-build/src/app/synwave}
REPORTS_DIR=${REPORTS_DIR:-}
# Per-second samples only when the reports are kept: without them the run prints nothing midway.
STATS_INTERVAL=$([[ -n "$REPORTS_DIR" ]] && echo 1 || echo 0)
[[ -x "$SYNWAVE" ]] || { echo "flood-memif: $SYNWAVE not found: build first (scripts/build.sh)" >&2; exit 2; }

# shellcheck source=scripts/scratch-netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch-netns.sh"
scratch_netns flood-memif "fm$$"

MEMIF="socket=$DIR/memif.sock,socket-abstract=no,id=0,rsize=${RSIZE:-14},bsize=${BSIZE:-128}"
ip netns exec "$NS" "$SYNWAVE" --no-huge -m 512 --no-pci -l 1 --file-prefix "fm$$s" \
  --vdev "net_memif0,role=server,$MEMIF,mac=02:00:00:00:00:02" -- \
  server --ip 198.18.2.1/16 --listen 80 --syn-cookies "$COOKIES" --report "$DIR/server.json" --stats-interval "$STATS_INTERVAL" \
  >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
wait_server_ready "$DIR/server.log" 100
ip netns exec "$NS" "$SYNWAVE" --no-huge -m 512 --no-pci -l 0 --file-prefix "fm$$f" \
  --vdev "net_memif0,role=client,$MEMIF,mac=02:00:00:00:00:01" -- \
  flood --ip 198.18.1.1/16 --src-ip 198.18.128.0-198.18.255.255 --dst 198.18.2.1:80 --kind "${KIND:-syn}" \
  --pps "$PPS" --duration "$SECONDS_RUN" --report "$DIR/flood.json" --stats-interval "$STATS_INTERVAL" >"$DIR/flood.log" 2>&1 &
stop_server_after_run $! "$DIR/flood.log" 1  # (the server drains the ring for 1 s)

/usr/bin/python3 - "$DIR" "$COOKIES" <<'PY'
import json, sys
d, cookies = sys.argv[1], sys.argv[2]
flood = json.load(open(f"{d}/flood.json"))
server = json.load(open(f"{d}/server.json"))
c, s = server["counters"], flood["duration_s"]
busy_s = server["roles"]["server"]["busy_s"]  # the server's busy time: the flood's, bar its first and last frames
print(f"offered {flood['target_pps'] / 1e6:.1f}M SYN/s, cookies {cookies}: flood sent {flood['pps'] / 1e6:.2f}M/s "
      f"(tx queue full {flood['tx_queue_full'] / s / 1e6:.2f}M/s); server received {c['rx_frames'] / s / 1e6:.2f}M/s, "
      f"answered {c['synack_sent'] / s / 1e6:.2f}M/s, shed {c['drop_syn_shed_busy'] / s / 1e6:.2f}M/s, "
      f"busy {busy_s / s * 100:.0f} % of the flood's {s:.1f} s, {busy_s * 1e9 / max(c['synack_sent'], 1):.0f} ns per SYN answered"
      # Below saturation the answered rate is the flood's, not what the server can do.
      + (" (the server was not saturated: the flood set this rate)" if busy_s / s < 0.9 else ""))
PY

if [[ -n "$REPORTS_DIR" ]]; then
  mkdir -p "$REPORTS_DIR"
  kept=()
  for side in flood server; do
    kept+=("$REPORTS_DIR/flood-memif-$PPS-$COOKIES-$side.json")
    cp "$DIR/$side.json" "${kept[-1]}"
  done
  # A plot that fails is a warning: the line above is the result.
  /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/plot-report.py" "${kept[@]}" ||
    echo "flood-memif: WARNING: scripts/plot-report.py did not draw ${kept[*]}" >&2
fi
