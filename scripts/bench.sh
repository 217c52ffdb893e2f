#!/usr/bin/env bash
# synwave against the Linux kernel, side by side, in one run (issue 5).
#
# For each workload (none: handshake and server-first close; http: GET / answered by a 200 with a
# 100-byte body, then server-first close), alternately:
#   (a) synwave's loopback: a client lcore and a server lcore over an in-memory net_ring pair,
#       `synwave --no-huge -m 1024 --no-pci -l 0-1 -- loopback --duration S --report FILE ...`;
#   (a') the same over IPv6 (`loopback --ipv6`: both sides dual-stack, every tuple IPv6), for the
#       IPv6 / IPv4 ratio (issue 13);
#   (b) the Linux kernel on loopback: bench/linux_baseline (epoll server on CPU 0, epoll client on
#       CPU 1, 64 source addresses 127.1.x.y) in a network namespace of its own, made and deleted
#       around each run (so TIME-WAIT left by one run cannot slow the next).
# Each S seconds, N repetitions (default 10 s x 3); the median run of each counts. Prints a table
# (CPS of each, ratio synwave / Linux), writes bench/results/bench-<date>.json and
# bench/results/latest.json, and draws bench/results/cps-over-time.png (gnuplot) from the median
# runs' per-second samples. The median synwave run of each workload keeps its own report,
# bench/results/bench-synwave-<workload>.json, drawn beside it as .png by scripts/plot-report.py
# (both replaced by the next run). Then scripts/bench-memif.sh: the synwave pair as two processes
# over net_memif and the link's own forwarding rate, and with DPERF=/path/to/dperf dperf beside
# synwave (its table in bench/results/memif-<date>.md; SHMEM_HUGE=1 puts memif's shared memory on
# huge pages for it, as scripts/bench-memif.sh says).
#
# Usage: scripts/bench.sh [--duration S] [--reps N] [--quick] [--linux-concurrency N]
#   --quick: 2 s x 1, a smoke run of the script itself (its figures mean little).
# Environment: BUILD_DIR (default build), RESULTS_DIR (default bench/results).
# Needs root (network namespaces) and 2 CPUs. Figures are only worth comparing on an idle
# machine: the load average is printed first, with a warning above 0.5.
# Not part of scripts/test.sh: timed figures are benchmarks, never tests.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_ROOT/$BUILD_DIR"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR RESULTS_DIR
SYNWAVE="$BUILD_DIR/src/app/synwave"
LINUX_BASELINE="$BUILD_DIR/bench/linux_baseline"
# Debian's interpreter (the python3 first on PATH may be another one).
readonly PYTHON=/usr/bin/python3

# What both sides run. The HTTP body matches synwave's --http 100.
readonly WORKLOADS=(none http)
readonly HTTP_BYTES=100
readonly SOURCES=64
# synwave gets lcores 0-1 (lcore 0 runs the client and the control plane, lcore 1 the server);
# the Linux baseline's threads are pinned to the same two CPUs.
readonly LCORES=0-1
readonly LINUX_SERVER_CPU=0 LINUX_CLIENT_CPU=1

DURATION=10
REPS=3
LINUX_CONCURRENCY=512

WORKDIR=""
CURRENT_NS=""
CURRENT_PID=""
DPDK_PREFIXES=()

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

user_error() {
  echo "bench.sh: $*" >&2
  exit 2
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --duration)
        [[ $# -ge 2 && "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || user_error "--duration needs a number of seconds, e.g. --duration 10"
        DURATION="$2"
        shift 2
        ;;
      --reps)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || user_error "--reps needs a whole number >= 1, e.g. --reps 3"
        REPS="$2"
        shift 2
        ;;
      --linux-concurrency)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || user_error "--linux-concurrency needs a whole number >= 1"
        LINUX_CONCURRENCY="$2"
        shift 2
        ;;
      --quick)
        DURATION=2
        REPS=1
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) user_error "unknown option '$1': give --duration S, --reps N, --quick or --linux-concurrency N (see --help)" ;;
    esac
  done
  "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1 else 1)' "$DURATION" ||
    user_error "--duration $DURATION is too short: give 1 s or more (samples are taken once a second)"
}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

cleanup() {
  local status=$?
  set +e
  if [[ -n "$CURRENT_PID" ]] && kill -0 "$CURRENT_PID" 2>/dev/null; then
    kill -TERM "$CURRENT_PID" 2>/dev/null
    wait "$CURRENT_PID" 2>/dev/null
  fi
  [[ -n "$CURRENT_NS" ]] && ip netns delete "$CURRENT_NS" 2>/dev/null
  local prefix
  for prefix in "${DPDK_PREFIXES[@]}"; do
    rm -rf "/var/run/dpdk/$prefix"
  done
  if [[ -n "$WORKDIR" && -d "$WORKDIR" ]]; then
    if [[ $status -ne 0 ]]; then
      echo "bench.sh: failed (exit $status); logs kept in $WORKDIR" >&2
    else
      rm -rf "$WORKDIR"
    fi
  fi
  exit "$status"
}

check_machine() {
  [[ "$(id -u)" -eq 0 ]] || user_error "must run as root: the Linux baseline runs in a network namespace of its own (sudo scripts/bench.sh)"
  local cpus
  cpus="$(nproc)"
  ((cpus >= 2)) || user_error "needs 2 CPUs (client and server on one each); this machine has $cpus"
  command -v gnuplot >/dev/null || user_error "gnuplot is missing: run scripts/setup.sh (it installs gnuplot-nox)"
}

# Brings the two programs up to date: a full build (scripts/build.sh) when the build directory
# is not configured yet, else ninja on the two targets (quick when nothing changed).
build() {
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    log "building in $BUILD_DIR (scripts/build.sh)"
    BUILD_DIR="$BUILD_DIR" "$SCRIPTS_DIR/build.sh"
  else
    ninja -C "$BUILD_DIR" src/app/synwave bench/linux_baseline bench/link_bench >"$WORKDIR/build.log" 2>&1 || {
      tail -n 30 "$WORKDIR/build.log" >&2
      echo "bench.sh: the build failed (log above)" >&2
      exit 1
    }
  fi
  [[ -x "$SYNWAVE" ]] || user_error "no synwave in $BUILD_DIR: DPDK missing from the build? (run scripts/setup.sh)"
  [[ -x "$LINUX_BASELINE" ]] || user_error "no bench/linux_baseline in $BUILD_DIR: configure it with -Dbenchmarks=true"
}

load_average() { cut -d' ' -f1 /proc/loadavg; }

report_load() {
  local load
  load="$(load_average)"
  log "load average (1 min): $load on $(nproc) CPUs"
  if "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 else 1)' "$load"; then
    log "WARNING: load average $load > 0.5: the machine is busy, figures will be low and noisy"
  fi
}

# Runs a command in the background (so that the trap can stop it), waits for it, and fails the
# script with the log's end if it does not exit 0. A timeout guards against a hang.
run_logged() {
  local log_file="$1"
  shift
  local limit=$((${DURATION%.*} + 60))
  timeout --kill-after=10 "$limit" "$@" >"$log_file" 2>&1 &
  CURRENT_PID=$!
  local status=0
  wait "$CURRENT_PID" || status=$?
  CURRENT_PID=""
  if [[ $status -ne 0 ]]; then
    tail -n 30 "$log_file" >&2
    echo "bench.sh: '$*' exited $status (log above)" >&2
    exit 1
  fi
}

# run_line REPORT FAILED_KEY: "N connections/s, M failed", and a warning when the run took much
# longer than asked: its process did not get the CPU (a busy machine), and its figure is low.
run_line() {
  "$PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
line = "%.0f connections/s, %d failed" % (r["cps"], r[sys.argv[2]])
if r["duration_s"] > 1.1 * float(sys.argv[3]):
    line += " (WARNING: lasted %.1f s for %s s asked: starved of CPU)" % (r["duration_s"], sys.argv[3])
print(line)' "$1" "$2" "$DURATION"
}

run_synwave() {  # WORKLOAD REP [6]
  local workload="$1" rep="$2" family="${3:-}"
  local out="$WORKDIR/synwave$family-$workload-$rep"
  local prefix="swbench$$${workload}${rep}${family}"
  DPDK_PREFIXES+=("$prefix")
  local -a flags=()
  [[ "$workload" == http ]] && flags=(--http "$HTTP_BYTES" --http-get /)
  [[ "$family" == 6 ]] && flags+=(--ipv6)
  run_logged "$out.log" "$SYNWAVE" --no-huge -m 1024 --no-pci --file-prefix "$prefix" -l "$LCORES" -- \
    loopback --duration "$DURATION" --stats-interval 1 --report "$out.json" "${flags[@]}"
  rm -rf "/var/run/dpdk/$prefix"
  log "  synwave${family:+ (IPv6)} $workload run $rep: $(run_line "$out.json" connections_failed)"
}

# A namespace per run, with loopback up and the kernel's defaults otherwise: no sysctl is set.
run_linux() {
  local workload="$1" rep="$2"
  local out="$WORKDIR/linux-$workload-$rep"
  CURRENT_NS="swbench-$$-$workload-$rep"
  ip netns add "$CURRENT_NS"
  ip -n "$CURRENT_NS" link set lo up
  run_logged "$out.log" ip netns exec "$CURRENT_NS" "$LINUX_BASELINE" --mode "$workload" --duration "$DURATION" \
    --server-cpu "$LINUX_SERVER_CPU" --client-cpu "$LINUX_CLIENT_CPU" --sources "$SOURCES" --concurrency "$LINUX_CONCURRENCY" \
    --response-bytes "$HTTP_BYTES" --json "$out.json" --timeline
  ip netns delete "$CURRENT_NS"
  CURRENT_NS=""
  log "  linux   $workload run $rep: $(run_line "$out.json" failed)"
}

# Medians, the table, the JSON files and the data for the plot.
summarize() {
  local stamp="$1" load_before="$2" load_after="$3"
  local commit buildtype
  commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then commit="$commit+dirty"; fi
  buildtype="$(meson introspect --buildoptions "$BUILD_DIR" 2>/dev/null |
    "$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null ||
    echo unknown)"
  mkdir -p "$RESULTS_DIR"
  "$PYTHON" - "$WORKDIR" "$RESULTS_DIR" "$stamp" "$commit" "$buildtype" "$load_before" "$load_after" \
    "$DURATION" "$REPS" "$SOURCES" "$LINUX_CONCURRENCY" "$HTTP_BYTES" "${WORKLOADS[@]}" <<'PY'
import json, os, platform, shutil, sys

(workdir, results, stamp, commit, buildtype, load_before, load_after,
 duration, reps, sources, concurrency, http_bytes, *workloads) = sys.argv[1:]
reps = int(reps)

def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()

def runs_of(side, workload):
    runs = []
    for rep in range(1, reps + 1):
        with open(os.path.join(workdir, f"{side}-{workload}-{rep}.json")) as f:
            r = json.load(f)
        if side.startswith("synwave"):
            runs.append({"cps": r["cps"], "completed": r["connections_completed"], "failed": r["connections_failed"],
                         "duration_s": r["duration_s"], "timeline": r.get("timeline", [])})
        else:
            runs.append({"cps": r["cps"], "completed": r["completed"], "failed": r["failed"],
                         "duration_s": r["duration_s"], "timeline": r["timeline"], "kernel": r["kernel"]})
    return runs

def summary(runs):
    # The median run itself (the lower middle one for an even count), so that its timeline is
    # the one plotted.
    ordered = sorted(range(len(runs)), key=lambda i: runs[i]["cps"])
    median_index = ordered[(len(runs) - 1) // 2]
    return {"median_cps": runs[median_index]["cps"], "min_cps": runs[ordered[0]]["cps"],
            "max_cps": runs[ordered[-1]]["cps"], "median_run": median_index + 1,
            "failed_total": sum(r["failed"] for r in runs), "runs": runs}

def human(v):
    if v >= 1e6: return f"{v / 1e6:.2f}M"
    if v >= 1e3: return f"{v / 1e3:.1f}K"
    return f"{v:.0f}"

report = {
    "date": stamp, "commit": commit, "build_type": buildtype,
    "machine": {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "kernel": platform.release(),
                "load_average_before": float(load_before), "load_average_after": float(load_after)},
    "settings": {"duration_s": float(duration), "reps": reps, "http_bytes": int(http_bytes),
                 "linux_sources": int(sources), "linux_concurrency": int(concurrency),
                 "synwave": "loopback, -l 0-1 (client lcore 0, server lcore 1), net_ring pair",
                 "linux": "epoll server CPU 0, epoll client CPU 1, own netns, kernel defaults",
                 "close": "server first (synwave's loopback default)"},
    "targets": {"synwave_cps": 4e6, "ratio": 100.0},
    "workloads": {},
}
rows = []
for w in workloads:
    s = summary(runs_of("synwave", w))
    s6 = summary(runs_of("synwave6", w))
    l = summary(runs_of("linux", w))
    ratio = s["median_cps"] / l["median_cps"] if l["median_cps"] > 0 else None
    ipv6_ratio = s6["median_cps"] / s["median_cps"] if s["median_cps"] > 0 else None
    # The median synwave run's own report, kept under a fixed name (scripts/plot-report.py draws it).
    shutil.copyfile(os.path.join(workdir, f"synwave-{w}-{s['median_run']}.json"),
                    os.path.join(results, f"bench-synwave-{w}.json"))
    report["workloads"][w] = {"synwave": s, "synwave_ipv6": s6, "ipv6_over_ipv4": ipv6_ratio,
                              "meets_ipv6_target": ipv6_ratio is not None and ipv6_ratio >= 0.9,
                              "linux": l, "ratio": ratio,
                              "meets_cps_target": s["median_cps"] >= 4e6,
                              "meets_ratio_target": ratio is not None and ratio >= 100}
    rows.append((w, f"{human(s['median_cps'])} ({human(s['min_cps'])}-{human(s['max_cps'])})",
                 f"{human(s6['median_cps'])} ({human(s6['min_cps'])}-{human(s6['max_cps'])})",
                 f"{ipv6_ratio:.2f}" if ipv6_ratio is not None else "n/a",
                 f"{human(l['median_cps'])} ({human(l['min_cps'])}-{human(l['max_cps'])})",
                 f"{ratio:.1f}x" if ratio is not None else "n/a",
                 f"{s['failed_total']} / {s6['failed_total']} / {l['failed_total']}"))
    # Per-second samples of the median runs, for gnuplot: t_s completed_per_s.
    for side, summ in (("synwave", s), ("linux", l)):
        with open(os.path.join(workdir, f"plot-{side}-{w}.dat"), "w") as f:
            for p in summ["runs"][summ["median_run"] - 1]["timeline"]:
                f.write(f"{p['t_s']:.3f} {p['completed_per_s']:.1f}\n")

os.makedirs(results, exist_ok=True)
path = os.path.join(results, f"bench-{stamp}.json")
with open(path, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")
shutil.copyfile(path, os.path.join(results, "latest.json"))

header = ("workload", "synwave CPS median (min-max)", "synwave IPv6", "IPv6 / IPv4", "Linux CPS median (min-max)",
          "synwave / Linux", "failed (synwave / IPv6 / Linux)")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
line = lambda r: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |"
print()
print(f"{stamp}, commit {commit}, {buildtype} build, {reps} x {float(duration):g} s per side and workload, "
      f"load average {load_before} before / {load_after} after, {os.cpu_count()} CPUs ({cpu_model()})")
print(line(header))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(line(r))
print()
print(f"targets: synwave >= 4M CPS and >= 100x Linux, IPv6 within 10 % of IPv4; wrote {path} and latest.json")
PY
}

plot() {
  local stamp="$1" commit
  commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  local png="$RESULTS_DIR/cps-over-time.png"
  gnuplot <<EOF
set terminal pngcairo size 1000,600 noenhanced
set output '$png'
set title 'Connections completed per second, median runs ($stamp, commit $commit, load average $(load_average))'
set xlabel 'seconds'
set ylabel 'connections/s (log scale)'
set logscale y
set grid
set key outside right top
set yrange [1000:*]
set xrange [0:*]
plot '$WORKDIR/plot-synwave-none.dat' using 1:2 with linespoints lw 2 title 'synwave, none', \
     '$WORKDIR/plot-synwave-http.dat' using 1:2 with linespoints lw 2 title 'synwave, http', \
     '$WORKDIR/plot-linux-none.dat' using 1:2 with linespoints lw 2 title 'Linux, none', \
     '$WORKDIR/plot-linux-http.dat' using 1:2 with linespoints lw 2 title 'Linux, http'
EOF
  log "wrote $png"
}

# The median synwave runs' reports, each drawn beside it. A plot that cannot be drawn is a
# warning: the figures are already written.
plot_reports() {
  local workload
  local -a reports=()
  for workload in "${WORKLOADS[@]}"; do reports+=("$RESULTS_DIR/bench-synwave-$workload.json"); done
  "$PYTHON" "$SCRIPTS_DIR/plot-report.py" "${reports[@]}" ||
    log "WARNING: scripts/plot-report.py did not draw ${reports[*]} (python3-matplotlib missing? scripts/setup.sh installs it)"
}

main() {
  parse_args "$@"
  check_machine
  WORKDIR="$(mktemp -d /tmp/synwave-bench.XXXXXX)"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  build
  report_load
  local load_before stamp
  load_before="$(load_average)"
  stamp="$(date +%Y%m%d-%H%M%S)"
  log "each run: $DURATION s; $REPS repetition(s); synwave and Linux alternate"
  local workload rep
  for workload in "${WORKLOADS[@]}"; do
    log "workload $workload"
    for ((rep = 1; rep <= REPS; rep++)); do
      run_synwave "$workload" "$rep"
      run_synwave "$workload" "$rep" 6
      run_linux "$workload" "$rep"
    done
  done
  summarize "$stamp" "$load_before" "$(load_average)"
  plot "$stamp"
  plot_reports
  # Then the two-process pair over net_memif, the link's own cost and, with DPERF set, dperf
  # beside synwave (scripts/bench-memif.sh).
  log "net_memif cases (scripts/bench-memif.sh)"
  env BUILD_DIR="$BUILD_DIR" DURATION="$DURATION" REPS="$REPS" OUT_DIR="$RESULTS_DIR" "$SCRIPTS_DIR/bench-memif.sh"
}

main "$@"
