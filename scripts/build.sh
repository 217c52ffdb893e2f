#!/usr/bin/env bash
# Installs missing packages, configures meson and builds everything.
# BUILD_DIR overrides the build directory (default: build at the repository root);
# CI=true or WERROR=1 turns warnings into errors; NINJA_JOBS caps parallelism.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR

configure() {
  local -a options=()
  if [[ "${CI:-}" == "true" || "${WERROR:-0}" == "1" ]]; then
    options+=(-Dwerror=true)
  fi
  # A directory left by an aborted first setup has no coredata and cannot be reconfigured.
  if [[ -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
    meson setup --reconfigure "${options[@]}" "$BUILD_DIR"
  else
    meson setup "${options[@]}" "$BUILD_DIR"
  fi
}

compile() {
  local -a jobs=()
  if [[ -n "${NINJA_JOBS:-}" ]]; then
    jobs=(-j "$NINJA_JOBS")
  fi
  ninja -C "$BUILD_DIR" "${jobs[@]}"
}

main() {
  cd "$REPO_ROOT"
  "$SCRIPTS_DIR/setup.sh"
  configure
  compile
}

main "$@"
