#!/usr/bin/env bash
# Builds synwave and runs every test suite, then prints one summary line
# "N passed, N failed" as the last line of output; exits non-zero if anything failed.
#
# Each suite is a stage function that records its results with record_pass/record_fail.
# To add a suite (sanitizers, fuzzing, ...), write a stage_* function and append it to STAGES.
#
# Environment: BUILD_DIR (default build), SYSTEM_TEST_TIMEOUT seconds per system test (default 600),
# FUZZ_MINUTES minutes per fuzz harness (default 1; 0 skips the fuzz stage).
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
SYSTEM_TEST_TIMEOUT="${SYSTEM_TEST_TIMEOUT:-600}"
FUZZ_MINUTES="${FUZZ_MINUTES:-1}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR SYSTEM_TEST_TIMEOUT FUZZ_MINUTES
export BUILD_DIR

# Debian's interpreter: the python3 first on PATH may be another one (see shared/HARNESS.md).
readonly PYTHON=/usr/bin/python3

readonly STAGES=(
  stage_meson_tests
  stage_system_tests
  stage_sanitizers
  stage_fuzz
)

PASSED=0
FAILED=0

record_pass() { PASSED=$((PASSED + 1)); }
record_fail() { FAILED=$((FAILED + 1)); echo "FAILED: $1" >&2; }

banner() { printf '\n=== %s ===\n' "$1"; }

# Prints "passed failed skipped" counted over the entries of a meson testlog.json
# (one JSON object per line, one per test run; a gtest binary counts as one test).
count_testlog() {
  "$PYTHON" - "$1" <<'PY'
import json, sys

passing = {"OK", "EXPECTEDFAIL"}
passed = failed = skipped = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in passing:
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, INTERRUPT
            failed += 1
print(passed, failed, skipped)
PY
}

# Unit and simulation suites: everything registered with meson's test().
stage_meson_tests() {
  banner "meson tests (unit, simulation)"
  local testlog="$BUILD_DIR/meson-logs/testlog.json"
  # A stale log from an earlier run must never be counted as this run's results.
  rm -f "$testlog"

  local status=0
  meson test -C "$BUILD_DIR" --print-errorlogs || status=$?

  if [[ ! -f "$testlog" ]]; then
    if [[ $status -ne 0 ]]; then
      record_fail "meson test exited $status without writing $testlog"
    else
      echo "no meson tests defined"
    fi
    return 0
  fi

  local counts passed failed skipped
  if ! counts="$(count_testlog "$testlog")"; then
    record_fail "could not read $testlog"
    return 0
  fi
  read -r passed failed skipped <<<"$counts"
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
  echo "meson tests: $passed passed, $failed failed, $skipped skipped"
  # Guards against a failure the log does not show (e.g. meson itself erroring mid-run).
  if [[ $status -ne 0 && $failed -eq 0 ]]; then
    record_fail "meson test exited $status although its log shows no failed test"
  fi
}

# End-to-end tests over net_tap in network namespaces: tests/system/*.sh and
# tests/conformance/run.sh (IPv4) and run_ipv6.sh (IPv6), each needs root.
# A script passes by exiting 0; BUILD_DIR is exported so it can find the binaries.
stage_system_tests() {
  banner "system tests (tests/system)"
  local -a scripts=()
  local script
  # The Scapy conformance suite runs the same way (root, its own namespace, exit status), once
  # per address family.
  for script in "$REPO_ROOT"/tests/system/*.sh "$REPO_ROOT"/tests/conformance/run.sh \
    "$REPO_ROOT"/tests/conformance/run_ipv6.sh; do
    if [[ -f "$script" && -x "$script" ]]; then
      scripts+=("$script")
    fi
  done

  if [[ ${#scripts[@]} -eq 0 ]]; then
    echo "no system tests"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "SKIPPED ${#scripts[@]} system test(s): they create network namespaces and need root"
    return 0
  fi

  local name status
  for script in "${scripts[@]}"; do
    name="${script#"$REPO_ROOT"/}"
    echo "--- $name"
    status=0
    timeout --kill-after=10 "$SYSTEM_TEST_TIMEOUT" "$script" || status=$?
    if [[ $status -eq 0 ]]; then
      echo "PASS $name"
      record_pass
    elif [[ $status -eq 124 ]]; then
      record_fail "$name (timed out after ${SYSTEM_TEST_TIMEOUT}s)"
    else
      record_fail "$name (exit $status)"
    fi
  done
}

# The unit and simulation suites again, built with ASan and UBSan (meson's b_sanitize; UBSan made
# fatal by meson.build) in $BUILD_DIR-asan, without DPDK (the core is what they test). One result
# per suite. Every test runs: none is slow enough under ASan to need a subset (~1 min for both).
stage_sanitizers() {
  banner "sanitizers: unit and simulation tests under ASan + UBSan"
  local started=$SECONDS
  local dir="$BUILD_DIR-asan"
  # -O1: compiling these suites with ASan at -O2 -g takes 4-5 times as long (about 11 min here
  # under load, against 2), and the tests run fast enough at -O1 (under 30 s together).
  local -a options=(-Db_sanitize=address,undefined -Ddpdk=disabled -Dbenchmarks=false -Dbuildtype=plain -Dcpp_args=-O1)
  if [[ "${CI:-}" == "true" || "${WERROR:-0}" == "1" ]]; then
    options+=(-Dwerror=true)
  fi
  local status=0
  if [[ -f "$dir/meson-private/coredata.dat" ]]; then
    meson setup --reconfigure "${options[@]}" "$dir" >/dev/null || status=$?
  else
    meson setup "${options[@]}" "$dir" >/dev/null || status=$?
  fi
  local -a jobs=()
  if [[ -n "${NINJA_JOBS:-}" ]]; then
    jobs=(-j "$NINJA_JOBS")
  fi
  if [[ $status -eq 0 ]]; then
    ninja -C "$dir" "${jobs[@]}" tests/unit_tests tests/sim_tests || status=$?
  fi
  if [[ $status -ne 0 ]]; then
    record_fail "sanitizers: configuring or building $dir (exit $status)"
    return 0
  fi
  echo "sanitizers: built in $((SECONDS - started)) s"

  local suite
  for suite in unit simulation; do
    status=0
    # UBSan's report names the check and the line; ASan's includes the stack already.
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      meson test -C "$dir" --no-rebuild --print-errorlogs "$suite" || status=$?
    if [[ $status -eq 0 ]]; then
      echo "PASS $suite (ASan + UBSan)"
      record_pass
    else
      record_fail "$suite under ASan + UBSan (exit $status)"
    fi
  done
  echo "sanitizers: stage took $((SECONDS - started)) s"
}

# Each libFuzzer harness (tests/fuzz) for FUZZ_MINUTES through scripts/fuzz.sh, in a clang build
# directory of its own ($BUILD_DIR-fuzz). One result per harness: a finding fails it, and
# fuzz.sh's output says where the input was kept and how to replay it.
stage_fuzz() {
  banner "fuzzing: each harness for $FUZZ_MINUTES min under ASan + UBSan"
  if [[ "$FUZZ_MINUTES" == "0" ]]; then
    echo "SKIPPED: FUZZ_MINUTES=0"
    return 0
  fi
  local started=$SECONDS target status
  for target in wire engine; do
    status=0
    FUZZ_BUILD_DIR="$BUILD_DIR-fuzz" "$SCRIPTS_DIR/fuzz.sh" "$FUZZ_MINUTES" "$target" || status=$?
    if [[ $status -eq 0 ]]; then
      echo "PASS ${target}_fuzz"
      record_pass
    else
      record_fail "${target}_fuzz (exit $status)"
    fi
  done
  echo "fuzzing: stage took $((SECONDS - started)) s"
}

print_summary() {
  SUMMARY_PRINTED=1
  echo
  echo "$PASSED passed, $FAILED failed"
}

# Whatever stops the run early (a failed build, an error inside a stage), the last line
# is still the summary, and the abort counts as a failure.
on_exit() {
  local status=$?
  if [[ -z "${SUMMARY_PRINTED:-}" ]]; then
    record_fail "test.sh stopped early (exit $status)"
    print_summary
    exit $((status == 0 ? 1 : status))
  fi
}

main() {
  cd "$REPO_ROOT"
  trap on_exit EXIT

  banner "build"
  if ! "$SCRIPTS_DIR/build.sh"; then
    # Nothing can be tested without a build.
    record_fail "build"
    print_summary
    exit 1
  fi

  local stage
  for stage in "${STAGES[@]}"; do
    "$stage"
  done

  print_summary
  if [[ $FAILED -ne 0 ]]; then
    exit 1
  fi
}

# Sourcing the file (e.g. to try count_testlog on a sample log) must not run the suites.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
