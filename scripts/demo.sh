#!/usr/bin/env bash
# Builds synwave and runs the simulated client+server demo; arguments go to the demo program.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
# Where meson puts the demo program, relative to the build directory.
DEMO_PROGRAM="${DEMO_PROGRAM:-bench/synwave_sim}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR DEMO_PROGRAM

main() {
  cd "$REPO_ROOT"
  "$SCRIPTS_DIR/build.sh"

  local program="$BUILD_DIR/$DEMO_PROGRAM"
  if [[ ! -x "$program" ]]; then
    echo "demo.sh: $program was not built (is the demo part of this build?)" >&2
    exit 1
  fi
  exec "$program" "$@"
}

main "$@"
