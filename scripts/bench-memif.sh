#!/usr/bin/env bash
# synwave over net_memif, two processes (client on lcore 0, server on lcore 1, rsize=14): how many
# connections per second, how busy each side is, what a connection costs each side, and how close
# that is to what the link itself allows. With DPERF=/path/to/dperf, the same cases with dperf
# (github.com/baidu/dperf, built for vdevs as ../shared/peers/README.md says) beside synwave, in
# one run, so every ratio compares figures taken minutes apart on the same machine.
#
# Cases, each REPS times, alternating (the median repetition of each counts):
#   link         bench/link_bench: a forwarding loop over the same memif link, no TCP (frames/s
#                each way, busy ns per frame): the floor under every case below
#   synwave-pair synwave client -> synwave server, HTTP GET answered with 14 bytes (dperf's
#                default), client as fast as it can (--concurrency CONCURRENCY); the server's MAC
#                is given to the client (--neighbor), as dperf's configuration gives it to dperf
#   synwave-pair-ipv6  the same over IPv6 (issue 13): server 2001:db8:2::1, the client's NCLI
#                sources from 2001:db8:2::1:1
# and with DPERF:
#   dperf-pair          dperf client (open loop at DPERF_RATE) -> dperf server; DPERF_RATE "auto"
#                       (the default) is dperf's best here: before the repetitions, one dperf pair
#                       run at each rate of DPERF_LADDER, until a rate completes fewer connections
#                       than the one before; the rate with the most completed and no socket errors
#                       is the one used (the table lists the ladder)
#   synwave-to-dperf    synwave client -> dperf server
#   dperf-to-synwave    dperf client (open loop at DPERF_RATE) -> synwave server (--close client,
#                       as dperf's client closes first)
# dperf ramps for 10 s (its slow_start) and its figures are averages over the steady seconds
# after; synwave's are its report's (active-period cps, busy share and ns per connection per
# role, busy counted the way dperf counts its cpuUsage).
#
# Writes OUT_DIR/memif-DATE.json (every run) and OUT_DIR/memif-DATE.md (the table, also printed).
# Environment: BUILD_DIR (default build), DURATION (10), REPS (3), CONCURRENCY (4000),
# DPERF (unset: synwave only), DPERF_RATE (auto, or a rate in dperf's notation: 1300k),
# DPERF_LADDER ("1300k 1600k 2000k 2400k 2800k"), NCLI (client addresses, 40),
# OUT_DIR (default bench/results), SHMEM_HUGE (0: memif's shared memory as the kernel gives it,
# 4 KiB pages unless shmem_enabled says otherwise; 1: on transparent huge pages for this run,
# shmem_enabled set to within_size and put back after; the table says which), SYNWAVE_FLAGS (extra
# options for every synwave process, client and server, e.g. "--idle-pause 2"; the table names
# them). Needs root and 2 CPUs; scripts/bench.sh runs it after its
# loopback cases. All processes run inside a network namespace of their own (memif is shared
# memory: nothing goes on any network).
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/system/lib.sh"

DURATION="${DURATION:-10}"
REPS="${REPS:-3}"
CONCURRENCY="${CONCURRENCY:-4000}"
DPERF="${DPERF:-}"
DPERF_RATE="${DPERF_RATE:-auto}"
DPERF_LADDER="${DPERF_LADDER:-1300k 1600k 2000k 2400k 2800k}"
NCLI="${NCLI:-40}"
OUT_DIR="${OUT_DIR:-$SW_REPO_ROOT/bench/results}"
SHMEM_HUGE="${SHMEM_HUGE:-0}"
read -ra EXTRA <<<"${SYNWAVE_FLAGS:-}"
export SYNWAVE_FLAGS="${EXTRA[*]}"  # for the summary's table, as given
readonly DURATION REPS CONCURRENCY DPERF DPERF_LADDER NCLI OUT_DIR SHMEM_HUGE EXTRA
readonly SHMEM_ENABLED=/sys/kernel/mm/transparent_hugepage/shmem_enabled
readonly LINK_BENCH="$SW_BUILD_DIR/bench/link_bench"
readonly EAL=(--no-huge -m 2048 --no-pci)
readonly CLIENT_MAC=02:00:00:00:00:01 SERVER_MAC=02:00:00:00:00:02

CASES=(link synwave-pair synwave-pair-ipv6)
if [[ -n "$DPERF" ]]; then
  [[ -x "$DPERF" ]] || sw_fail "DPERF=$DPERF is not an executable (build it as ../shared/peers/README.md says)"
  CASES+=(dperf-pair synwave-to-dperf dperf-to-synwave)
fi
read -ra LADDER <<<"$DPERF_LADDER"
LADDER_CASES=0
[[ -n "$DPERF" && "$DPERF_RATE" == auto ]] && LADDER_CASES=${#LADDER[@]}
sw_begin $((120 + (REPS * ${#CASES[@]} + LADDER_CASES) * (DURATION + 40)))
[[ -x "$LINK_BENCH" ]] || sw_fail "no $LINK_BENCH: build with DPDK and -Dbenchmarks=true"
sw_netns
# memif's rings and buffers are a memfd both processes map: shared memory, which gets huge pages
# only by shmem_enabled (memif asks for none). With them the link alone forwarded about 3 x the
# frames (2026-12-06).
case "$SHMEM_HUGE" in
  0) ;;
  1) sw_set_knob "$SHMEM_ENABLED" within_size ;;
  *) sw_fail "SHMEM_HUGE=$SHMEM_HUGE: use 0 (the kernel's setting) or 1 (huge pages for memif's shared memory)" ;;
esac
MEMIF_SHMEM_ENABLED="$(sw_knob "$SHMEM_ENABLED" 2>/dev/null || echo unknown)"
export MEMIF_SHMEM_ENABLED
mkdir -p "$OUT_DIR"
RUNS="$SW_WORKDIR/runs"
mkdir -p "$RUNS"

# memif ROLE RUN: the vdev argument of one side of a run's link (its own socket file).
memif() { echo "net_memif0,role=$1,socket=$RUNS/$2.sock,socket-abstract=no,id=0,rsize=14,mac=$([[ $1 == server ]] && echo $SERVER_MAC || echo $CLIENT_MAC)"; }

# background LOG CMD...: starts CMD in the namespace, tracked, stdout+stderr to LOG; sets BG_PID.
background() {
  local log="$1"
  shift
  ip netns exec "$SW_NS" "$@" >"$log" 2>&1 &
  BG_PID=$!
  sw_track "$BG_PID"
}

# stop PID LOG [RESULT_PATTERN]: SIGINT (both programs' orderly stop), then the exit status must be
# 0. With a pattern, a segfault once the result line is out is only a warning: DPDK 22.11's memif
# driver can fault in its interrupt thread while a port closes just as its peer leaves
# (link_bench's server, twelfth session: in one run of this script, and in 1 of 18 closes in a
# loop; synwave's server after an IPv6 pair, twenty-second session, with DPDK 22.11.11), after the
# measurement is complete.
stop() {
  sw_stop "$1" "$2" 20
  [[ $SW_STOP_STATUS -eq 0 ]] && return 0
  if [[ $SW_STOP_STATUS -eq 139 && -n "${3:-}" ]] && grep -q "$3" "$2"; then
    sw_log "WARNING: PID $1 faulted while closing its memif port, after its result (kept)"
    return 0
  fi
  sw_tail "$2"
  sw_fail "PID $1 exited with $SW_STOP_STATUS"
}

# prefix SIDE: sets PREFIX to a side's DPDK file prefix and remembers it for the trap to remove
# (not echoed: an array appended to inside $(...) is the subshell's, and every run's
# /var/run/dpdk directories were left behind that way).
prefix() {
  PREFIX="swmemif$$$1"
  SW_DPDK_PREFIXES+=("$PREFIX")
}

synwave_server() {  # RUN [FLAGS...]
  local run="$1"
  shift
  prefix "$run-s"
  background "$RUNS/$run-server.log" "$SYNWAVE" "${EAL[@]}" --file-prefix "$PREFIX" -l 1 \
    --vdev "$(memif server "$run")" -- server --ip 198.18.2.1/16 --listen 80 --listen 81 --http 14 \
    --stats-interval 1 --report "$RUNS/$run-server.json" "${EXTRA[@]}" "$@"
  SERVER_PID=$BG_PID
  sw_wait_ready "$RUNS/$run-server.log" 30 "$SERVER_PID"
}

synwave_client() {  # RUN [ipv6]
  local run="$1"
  local -a addressing=(--ip 198.18.1.1/16 --src-ip "198.18.1.1-198.18.1.$NCLI" --neighbor "198.18.2.1,$SERVER_MAC"
    --dst 198.18.2.1:80-81)
  if [[ "${2:-}" == ipv6 ]]; then
    addressing=(--ip 2001:db8:2::1:1/64 --src-ip "2001:db8:2::1:1-2001:db8:2::1:$(printf '%x' "$NCLI")"
      --neighbor "2001:db8:2::1,$SERVER_MAC" --dst "[2001:db8:2::1]:80-81")
  fi
  prefix "$run-c"
  background "$RUNS/$run-client.log" "$SYNWAVE" "${EAL[@]}" --file-prefix "$PREFIX" -l 0 \
    --vdev "$(memif client "$run")" -- client "${addressing[@]}" \
    --http-get / --concurrency "$CONCURRENCY" --duration "$DURATION" --stats-interval 1 \
    --report "$RUNS/$run-client.json" "${EXTRA[@]}"
  CLIENT_PID=$BG_PID
  sw_wait_summary "$CLIENT_PID" "$RUNS/$run-client.log" $((DURATION + 60))
}

# dperf_config MODE CPU LOCAL GATEWAY GATEWAY_MAC [RATE]: dperf's configuration file format.
dperf_config() {
  printf 'mode %s\ncpu %s\nduration %s\nport net_memif0 %s %s %s\nclient 198.18.1.1 %s\nserver 198.18.2.1 1\nlisten 80 2\n' \
    "$1" "$2" "$([[ $1 == client ]] && echo "$((DURATION + 13))s" || echo 10m)" "$3" "$4" "$5" "$NCLI"
  [[ "$1" == client ]] && printf 'slow_start 10\ncps %s\n' "$6"
  return 0
}

dperf_server() {  # RUN
  local run="$1"
  dperf_config server 1 198.18.2.1 198.18.1.1 "$CLIENT_MAC" >"$RUNS/$run-dperf-server.conf"
  prefix "$run-s"
  DPERF_EAL_ARGS="${EAL[*]} --file-prefix=$PREFIX --vdev=$(memif server "$run")" \
    background "$RUNS/$run-dperf-server.log" stdbuf -oL "$DPERF" -c "$RUNS/$run-dperf-server.conf"
  SERVER_PID=$BG_PID
  # Until dperf prints its first second (5-12 s here: EAL's 2 GB without hugepages, then 5M
  # sockets) its port has not run: a client that sent before then got none of dperf's answers for
  # 7-10 s or at all (the two ends' memif ring indices apparently disagreed), so a repetition of
  # synwave-to-dperf measured 0 or started late. A dperf that exits ends the wait at once.
  local log="$RUNS/$run-dperf-server.log"
  sw_wait_for 60 "dperf server's first second" sh -c "grep -q '^seconds 0 ' '$log' || ! kill -0 $SERVER_PID" || true
  grep -q '^seconds 0 ' "$log" || { sw_tail "$log"; sw_fail "dperf server did not start"; }
}

dperf_client() {  # RUN [RATE]
  local run="$1"
  dperf_config client 0 198.18.1.1 198.18.2.1 "$SERVER_MAC" "${2:-$DPERF_RATE}" >"$RUNS/$run-dperf-client.conf"
  prefix "$run-c"
  DPERF_EAL_ARGS="${EAL[*]} --file-prefix=$PREFIX --vdev=$(memif client "$run")" \
    background "$RUNS/$run-dperf-client.log" stdbuf -oL "$DPERF" -c "$RUNS/$run-dperf-client.conf"
  CLIENT_PID=$BG_PID
  # Its ramp and DURATION steady seconds printed, the server is stopped while dperf still runs
  # (run_case says why); the seconds after are not steady and drop out of the averages.
  sw_wait_for $((DURATION + 90)) "dperf client's second $((DURATION + 10))" \
    grep -q "seconds $((DURATION + 10))\\b" "$RUNS/$run-dperf-client.log" ||
    { sw_tail "$RUNS/$run-dperf-client.log"; sw_fail "dperf client did not run its $((DURATION + 10)) s"; }
}

run_case() {  # CASE REP
  local run="$1-$2"
  rm -f "$RUNS/$run.sock"
  case "$1" in
    link)
      prefix "$run-s"
      background "$RUNS/$run-server.log" "$LINK_BENCH" "${EAL[@]}" --file-prefix "$PREFIX" -l 1 \
        --vdev "$(memif server "$run")" -- --role server
      SERVER_PID=$BG_PID
      sleep 2
      prefix "$run-c"
      background "$RUNS/$run-client.log" "$LINK_BENCH" "${EAL[@]}" --file-prefix "$PREFIX" \
        -l 0 --vdev "$(memif client "$run")" -- --role client --duration "$DURATION"
      CLIENT_PID=$BG_PID
      sw_wait_summary "$CLIENT_PID" "$RUNS/$run-client.log" $((DURATION + 60)) '^{"role": "client"'
      ;;
    synwave-pair) synwave_server "$run"; synwave_client "$run" ;;
    synwave-pair-ipv6) synwave_server "$run" --ip 2001:db8:2::1/64; synwave_client "$run" ipv6 ;;
    dperf-pair) dperf_server "$run"; dperf_client "$run" ;;
    dperf-ladder-*) dperf_server "$run"; dperf_client "$run" "${1#dperf-ladder-}" ;;
    synwave-to-dperf) dperf_server "$run"; synwave_client "$run" ;;
    dperf-to-synwave) synwave_server "$run" --close client; dperf_client "$run" ;;
  esac
  # The server is stopped once the client's run is over but before the client exits: net_memif
  # unmaps the shared rings when its peer goes, with nothing to hold off a lcore still polling
  # them, so a server polling while its client exits can crash (README, "Beside dperf").
  # synwave's server and link_bench's print their result before they close the port.
  local result='^synwave server: '
  [[ "$1" == link ]] && result='^{"role": "server"'
  stop "$SERVER_PID" "$RUNS/$run-server.log" "$result"
  case "$1" in
    link|synwave-pair*|synwave-to-dperf)
      sw_wait_exit "$CLIENT_PID" "$RUNS/$run-client.log" 30
      [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$RUNS/$run-client.log"; sw_fail "the client exited with $SW_STOP_STATUS"; } ;;
    dperf-*) sw_wait_exit "$CLIENT_PID" "$RUNS/$run-dperf-client.log" 30 ;;
  esac
  sw_log "$run done"
}

sw_log "load average before: $(cut -d' ' -f1 /proc/loadavg); cases: ${CASES[*]}; $REPS x $DURATION s each"
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
# dperf's best rate here: its open-loop client sends what it is told, so a rate below its best
# would make synwave's ratios look better than they are (this VM's phases move it 0.8-1.8M).
export DPERF_LADDER_RUN=""
if [[ "$LADDER_CASES" -gt 0 ]]; then
  for rate in "${LADDER[@]}"; do
    run_case "dperf-ladder-$rate" 1
    DPERF_LADDER_RUN="${DPERF_LADDER_RUN:+$DPERF_LADDER_RUN }$rate"
    "$PYTHON" "$SW_REPO_ROOT/scripts/bench_memif_summary.py" --ladder-done "$RUNS" $DPERF_LADDER_RUN && break
  done
  DPERF_RATE="$("$PYTHON" "$SW_REPO_ROOT/scripts/bench_memif_summary.py" --ladder-best "$RUNS" $DPERF_LADDER_RUN)"
  sw_log "dperf's rate for this run: $DPERF_RATE (ladder: $DPERF_LADDER_RUN)"
fi
readonly DPERF_RATE
for ((rep = 1; rep <= REPS; rep++)); do
  for c in "${CASES[@]}"; do run_case "$c" "$rep"; done
done

STAMP="$(date +%Y%m%d-%H%M%S)"
COMMIT="$(git -C "$SW_REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git -C "$SW_REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] || COMMIT="$COMMIT+dirty"
summary_status=0
"$PYTHON" "$SW_REPO_ROOT/scripts/bench_memif_summary.py" "$RUNS" "$OUT_DIR" "$STAMP" "$COMMIT" "$LOAD_BEFORE" \
  "$(cut -d' ' -f1 /proc/loadavg)" "$REPS" "$DURATION" "$DPERF_RATE" "$CONCURRENCY" "${CASES[@]}" || summary_status=$?
case "$summary_status" in
  0) ;;
  3) SW_KEEP=1; sw_log "WARNING: a repetition measured nothing (named in the table); its logs are in $RUNS" ;;
  *) sw_fail "the summary failed" ;;
esac
