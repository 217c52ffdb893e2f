#!/usr/bin/env bash
# Requests per second over kept HTTP connections, synwave beside the Linux kernel on this machine:
# alternately, synwave's loopback (a client lcore and a server lcore over an in-memory net_ring
# pair; every connection kept for the run, the next GET as soon as a response is in:
# --requests-per-connection 0) and bench/linux_baseline --mode keepalive (an epoll client thread
# and an epoll server thread pinned to CPUs 1 and 0, the same workload through the kernel's TCP on
# loopback, in a network namespace of its own). Both: 512 connections, 100-byte bodies. Prints
# each run, then the medians and their ratio.
#
#   scripts/bench-requests.sh [SECONDS] [REPS]     # as root; defaults 10 s x 3
#
# Environment: BUILD_DIR (default build).
set -euo pipefail
DURATION=${1:-10}
REPS=${2:-3}
BUILD_DIR=${BUILD_DIR:-build}
SYNWAVE="$BUILD_DIR/src/app/synwave"
LINUX="$BUILD_DIR/bench/linux_baseline"
for b in "$SYNWAVE" "$LINUX"; do
  [[ -x "$b" ]] || { echo "bench-requests: $b not found: build first (scripts/build.sh)" >&2; exit 2; }
done
readonly CONCURRENCY=512 BODY=100

# shellcheck source=scripts/scratch-netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch-netns.sh"
scratch_netns bench-requests
ip netns exec "$NS" ip link set lo up

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  "$SYNWAVE" --no-huge -m 1024 --no-pci -l 0-1 -- loopback --duration "$DURATION" --http "$BODY" --http-get / \
    --requests-per-connection 0 --concurrency "$CONCURRENCY" --report "$DIR/synwave-$rep.json" --stats-interval 0 \
    >"$DIR/synwave-$rep.log" 2>&1
  ip netns exec "$NS" "$LINUX" --mode keepalive --duration "$DURATION" --concurrency "$CONCURRENCY" \
    --response-bytes "$BODY" --json "$DIR/linux-$rep.json" >"$DIR/linux-$rep.log" 2>&1
  echo "run $rep: synwave $(tail -n 1 "$DIR/synwave-$rep.log")"
  echo "run $rep: linux   $(tail -n 1 "$DIR/linux-$rep.log")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$DIR" "$REPS" <<'PY'
import json, statistics, sys
d, reps = sys.argv[1], int(sys.argv[2])
def runs(side):
    return [json.load(open(f"{d}/{side}-{r}.json")) for r in range(1, reps + 1)]
s = [r["http_requests_per_s"] for r in runs("synwave")]
l = [r["http_requests_per_s"] for r in runs("linux")]
failed = (sum(r["connections_failed"] for r in runs("synwave")), sum(r["failed"] for r in runs("linux")))
sm, lm = statistics.median(s), statistics.median(l)
print(f"requests/s, 512 kept connections, 100-byte bodies: synwave {sm / 1e6:.2f}M ({min(s) / 1e6:.2f}M-{max(s) / 1e6:.2f}M), "
      f"Linux {lm / 1e3:.1f}K ({min(l) / 1e3:.1f}K-{max(l) / 1e3:.1f}K): {sm / lm:.1f}x; failed {failed[0]} / {failed[1]}")
PY
