#!/usr/bin/env bash
# Throughput of one connection, synwave beside the Linux kernel on this machine, alternately:
# synwave's loopback (a client lcore and a server lcore over an in-memory net_ring pair; the raw
# workload: 100 bytes up, BYTES down; 1500-byte MTU, so 1460-byte segments) and
# bench/linux_baseline --mode stream (an iperf3-like transfer of BYTES through the kernel's TCP on
# loopback, blocking sockets, threads pinned to CPUs 0 and 1, in a namespace of its own), once
# with the kernel's own segment size (loopback's MTU is 65536, and GSO/GRO move up to 64 KiB per
# packet) and once with --mss 1460 (what synwave sends). Prints each run, then the medians.
#
#   scripts/bench-throughput.sh [BYTES] [REPS]     # as root; defaults 1000000000 x 3
#
# Environment: BUILD_DIR (default build).
set -euo pipefail
BYTES=${1:-1000000000}
REPS=${2:-3}
BUILD_DIR=${BUILD_DIR:-build}
SYNWAVE="$BUILD_DIR/src/app/synwave"
LINUX="$BUILD_DIR/bench/linux_baseline"
for b in "$SYNWAVE" "$LINUX"; do
  [[ -x "$b" ]] || { echo "bench-throughput: $b not found: build first (scripts/build.sh)" >&2; exit 2; }
done

# shellcheck source=scripts/scratch-netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch-netns.sh"
scratch_netns bench-throughput
ip netns exec "$NS" ip link set lo up

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  "$SYNWAVE" --no-huge -m 1024 --no-pci -l 0-1 -- loopback --connections 1 --request-bytes 100 \
    --response-bytes "$BYTES" --report "$DIR/synwave-$rep.json" --stats-interval 0 >"$DIR/synwave-$rep.log" 2>&1
  for mss in 0 1460; do
    ip netns exec "$NS" "$LINUX" --mode stream --bytes "$BYTES" --mss "$mss" --server-cpu 0 --client-cpu 1 \
      --json "$DIR/linux$mss-$rep.json" >"$DIR/linux$mss-$rep.log" 2>&1
  done
  echo "run $rep: synwave $(tail -n 1 "$DIR/synwave-$rep.log")"
  echo "run $rep: linux   $(tail -n 1 "$DIR/linux0-$rep.log")"
  echo "run $rep: linux   $(tail -n 1 "$DIR/linux1460-$rep.log")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$DIR" "$REPS" "$BYTES" <<'PY'
import json, statistics, sys
d, reps, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rates(side, key):
    return [json.load(open(f"{d}/{side}-{r}.json"))[key] for r in range(1, reps + 1)]
s = [json.load(open(f"{d}/synwave-{r}.json"))["throughput"]["client"]["rx_gbit_per_s"] for r in range(1, reps + 1)]
l0, l1460 = rates("linux0", "gbit_per_s"), rates("linux1460", "gbit_per_s")
sm, m0, m1460 = statistics.median(s), statistics.median(l0), statistics.median(l1460)
def span(v):
    return f"{min(v):.1f}-{max(v):.1f}"
print(f"one connection, {size} bytes, Gbit/s (median of {reps}; range): synwave {sm:.1f} ({span(s)}); "
      f"Linux {m0:.1f} ({span(l0)}) with its 64 KiB segments, {m1460:.1f} ({span(l1460)}) with --mss 1460; "
      f"ratios {sm / m0:.2f}x and {sm / m1460:.2f}x")
PY
