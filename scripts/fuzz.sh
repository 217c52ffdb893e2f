#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz under ASan and UBSan.
#
#   scripts/fuzz.sh MINUTES [TARGET]
#
# MINUTES is the total wall time (decimals allowed), split evenly over the harnesses run one
# after another: `scripts/fuzz.sh 60` gives each of the two harnesses 30 minutes, `scripts/fuzz.sh 2`
# gives each 60 s. TARGET is `wire` or `engine` (default: both).
#
# Builds a clang build directory of its own (libFuzzer comes with clang only):
#   CXX=clang++ meson setup $FUZZ_BUILD_DIR -Dfuzzing=true -Ddpdk=disabled -Dtests=false -Dbenchmarks=false
# writes fresh seed corpora (the fuzz_corpus program: Scapy frames, engine-to-engine exchanges),
# and keeps a working corpus per harness that grows from run to run, outside git.
# Prints each harness's executions and findings; exits 1 when a harness found something (a crash,
# a sanitizer report, a broken invariant, a timeout), keeping the input and printing how to replay it.
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_WORK_DIR (default $FUZZ_BUILD_DIR/fuzz-work),
# CI=true or WERROR=1 turns warnings into errors.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
readonly SCRIPTS_DIR REPO_ROOT
readonly ALL_TARGETS=(wire engine)

usage() {
  echo "usage: scripts/fuzz.sh MINUTES [wire|engine]   (MINUTES: total wall time, split over the harnesses)" >&2
  exit 2
}

# Per harness: the longest input (bytes) and options of its own.
max_len_of() {
  case "$1" in
    wire) echo 2048 ;;    # a frame in a TestIo buffer; the parsers take any length
    engine) echo 4096 ;;  # a script of a few hundred steps
  esac
}

configure() {
  local build_dir="$1"
  local -a options=(-Dfuzzing=true -Ddpdk=disabled -Dtests=false -Dbenchmarks=false -Dbuildtype=debugoptimized)
  if [[ "${CI:-}" == "true" || "${WERROR:-0}" == "1" ]]; then
    options+=(-Dwerror=true)
  fi
  if [[ -f "$build_dir/meson-private/coredata.dat" ]]; then
    meson setup --reconfigure "${options[@]}" "$build_dir" >/dev/null
  else
    CXX=clang++ meson setup "${options[@]}" "$build_dir" >/dev/null
  fi
}

# Reads "stat::name: value" from a libFuzzer log (-print_final_stats=1).
stat_of() {
  sed -n "s/^stat::$2: *\\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

main() {
  [[ $# -ge 1 && $# -le 2 ]] || usage
  local minutes="$1"
  [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || {
    echo "fuzz.sh: MINUTES must be a number of minutes (e.g. 60 or 0.5), got '$minutes'" >&2
    exit 2
  }
  local -a targets=("${ALL_TARGETS[@]}")
  if [[ $# -eq 2 ]]; then
    case "$2" in
      wire | engine) targets=("$2") ;;
      *)
        echo "fuzz.sh: unknown target '$2'; use wire or engine (or nothing for both)" >&2
        exit 2
        ;;
    esac
  fi
  local seconds
  seconds="$(awk -v m="$minutes" -v n="${#targets[@]}" 'BEGIN { s = int(m * 60 / n); print (s < 1 ? 1 : s) }')"

  cd "$REPO_ROOT"
  local build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
  local work_dir="${FUZZ_WORK_DIR:-$build_dir/fuzz-work}"
  "$SCRIPTS_DIR/setup.sh" >/dev/null
  configure "$build_dir"
  ninja -C "$build_dir" tests/fuzz/wire_fuzz tests/fuzz/engine_fuzz tests/fuzz/fuzz_corpus >/dev/null

  rm -rf "$work_dir/seeds"
  "$build_dir/tests/fuzz/fuzz_corpus" "$work_dir/seeds"

  local commit
  commit="$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  echo "fuzz.sh: commit $commit, ${seconds}s per harness: ${targets[*]} (started $(date -u +%Y-%m-%dT%H:%M:%SZ))"

  local findings=0 target
  for target in "${targets[@]}"; do
    local binary="$build_dir/tests/fuzz/${target}_fuzz"
    local corpus="$work_dir/corpus/$target"
    local crashes="$work_dir/crashes/$target"
    local log="$work_dir/${target}_fuzz.log"
    mkdir -p "$corpus" "$crashes"
    local status=0
    # -timeout: an input that never ends is a finding too. libFuzzer measures it in wall time,
    # and on a shared machine a niced fuzzer can wait tens of seconds for a core, so the limit is
    # far above any real input's run time (milliseconds) rather than a tight 10 s.
    "$binary" -max_total_time="$seconds" -max_len="$(max_len_of "$target")" -timeout=120 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$work_dir/seeds/$target" \
      >"$log" 2>&1 || status=$?

    local executions corpus_files
    executions="$(stat_of "$log" number_of_executed_units)"
    corpus_files="$(find "$corpus" -type f | wc -l)"
    if [[ $status -eq 0 ]]; then
      echo "${target}_fuzz: ${executions:-?} executions in ${seconds}s, 0 findings (corpus: $corpus_files inputs)"
    else
      findings=$((findings + 1))
      echo "${target}_fuzz: FINDING after ${executions:-?} executions (exit $status); the end of $log:"
      grep -v '^#[0-9]' "$log" | tail -n 40 | sed 's/^/    /'
      local artifact
      while IFS= read -r artifact; do
        echo "    replay: $binary $artifact"
      done < <(sed -n "s/.*Test unit written to \\(.*\\)$/\\1/p" "$log")
    fi
  done
  echo "fuzz.sh: finished $(date -u +%Y-%m-%dT%H:%M:%SZ): $findings harness(es) with findings"
  [[ $findings -eq 0 ]]
}

main "$@"
