#!/usr/bin/env bash
# Builds synwave and runs the main job: the real DPDK loopback (a client lcore and a server lcore
# over an in-memory net_ring pair, no NIC, no hugepages), printing connections per second.
# Arguments go to the loopback, e.g. scripts/demo.sh --duration 5 --http-get /
# Without DPDK in the build, it falls back to the core-only simulation (bench/synwave_sim).
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR

main() {
  cd "$REPO_ROOT"
  "$SCRIPTS_DIR/build.sh"

  if [[ -x "$BUILD_DIR/src/app/synwave" ]]; then
    exec "$BUILD_DIR/src/app/synwave" -- loopback "$@"
  fi
  if [[ -x "$BUILD_DIR/bench/synwave_sim" ]]; then
    echo "demo.sh: synwave was built without DPDK; running the core-only simulation" >&2
    exec "$BUILD_DIR/bench/synwave_sim" "$@"
  fi
  echo "demo.sh: nothing to run in $BUILD_DIR (did the build fail?)" >&2
  exit 1
}

main "$@"
