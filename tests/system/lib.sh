# shellcheck shell=bash disable=SC2034  # (globals such as SW_STOP_STATUS are read by the tests)
# Shared helpers for the system tests in tests/system/*.sh (sourced, not run).
#
# A test sources this file, calls sw_begin, and from then on every network namespace it makes,
# every process it starts in the background and every scratch file is removed by an EXIT trap,
# whether the test passes, fails or is interrupted. The trap kills only the PIDs the test itself
# started (by PID), never by name: other synwave processes may be running on the same machine.
#
# Rules the tests keep:
#   - addresses only from 198.18.0.0/15 (RFC 2544 benchmarking range), traffic only inside the
#     test's own namespace (net_tap's interface lives there, the kernel peer too);
#   - every wait is a bounded poll; every test also arms a watchdog that ends it after
#     SW_TEST_LIMIT seconds;
#   - every synwave process gets its own --file-prefix (DPDK runtime files, telemetry socket).
#
# Environment: BUILD_DIR (default build, relative to the repository root unless absolute),
# SW_KEEP=1 keeps the scratch directory for inspection.

set -euo pipefail

SW_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SW_REPO_ROOT="$(cd "$SW_LIB_DIR/../.." && pwd)"
SW_BUILD_DIR="${BUILD_DIR:-build}"
[[ "$SW_BUILD_DIR" = /* ]] || SW_BUILD_DIR="$SW_REPO_ROOT/$SW_BUILD_DIR"
SYNWAVE="$SW_BUILD_DIR/src/app/synwave"
# Debian's interpreter, which has Scapy (the python3 first on PATH may be another one).
PYTHON=/usr/bin/python3

# The addressing every tap test uses: the kernel is .1, synwave is .2.
readonly SW_KERNEL_IP=198.18.0.1
readonly SW_KERNEL_MAC=02:00:00:00:00:01
readonly SW_SYNWAVE_IP=198.18.0.2
readonly SW_TAP=swtap0

SW_TEST_NAME="${SW_TEST_NAME:-$(basename "${0%.sh}")}"  # a wrapper running another test may name itself
SW_NS=""
SW_WORKDIR=""
SW_PIDS=()
SW_DPDK_PREFIXES=()
SW_WATCHDOG_PID=""
SW_KNOBS=()  # kernel settings changed for this run and their previous values, in pairs
SW_STARTED_AT=$SECONDS
SW_STOP_STATUS=0

# ---------------------------------------------------------------------------------------------
# Messages

sw_log() { printf '[%s %3ds] %s\n' "$SW_TEST_NAME" $((SECONDS - SW_STARTED_AT)) "$*"; }
# What the test checks, printed before it checks it.
sw_check() { sw_log "CHECK: $*"; }
sw_ok() { sw_log "  ok: $*"; }
sw_fail() {
  printf '[%s %3ds] FAIL: %s\n' "$SW_TEST_NAME" $((SECONDS - SW_STARTED_AT)) "$*" >&2
  exit 1
}
# Prints the last lines of a log file to stderr (for failure diagnosis).
sw_tail() {
  local file="$1" lines="${2:-20}"
  if [[ -f "$file" ]]; then
    echo "----- last $lines lines of $file" >&2
    tail -n "$lines" "$file" >&2 || true
    echo "-----" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Set-up and clean-up

# sw_begin LIMIT_SECONDS: checks the prerequisites, makes the scratch directory, installs the trap
# and arms the watchdog.
sw_begin() {
  local limit="${1:-120}"
  SW_TEST_LIMIT="$limit"
  [[ "$(id -u)" -eq 0 ]] || sw_fail "must run as root (network namespaces, net_tap)"
  [[ -x "$SYNWAVE" ]] || sw_fail "synwave not built at $SYNWAVE (set BUILD_DIR)"
  SW_WORKDIR="$(mktemp -d "/tmp/synwave-${SW_TEST_NAME}.XXXXXX")"
  trap sw_cleanup EXIT
  trap 'sw_log "interrupted"; exit 130' INT
  trap 'sw_log "terminated (watchdog after ${SW_TEST_LIMIT}s?)"; exit 124' TERM
  # The watchdog: a background subshell (no child of its own, so killing its PID ends it) that
  # waits on a FIFO nobody writes to, then sends TERM to this script.
  mkfifo "$SW_WORKDIR/.watchdog"
  (
    read -r -t "$limit" _ <>"$SW_WORKDIR/.watchdog" || true
    kill -TERM $$
  ) >/dev/null 2>&1 &
  SW_WATCHDOG_PID=$!
  sw_log "scratch directory $SW_WORKDIR, time limit ${limit}s"
}

# Needs a tool; fails the test with a clear message if it is missing.
sw_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || sw_fail "missing tool '$tool' (see scripts/setup.sh)"
  done
}

# Kills one PID we started: SIGTERM, up to 3 s, then SIGKILL.
sw_kill_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

sw_cleanup() {
  local status=$?
  set +e
  trap - TERM INT
  local pid
  for pid in "${SW_PIDS[@]}"; do
    sw_kill_pid "$pid"
  done
  for pid in "${SW_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [[ -n "$SW_WATCHDOG_PID" ]]; then
    kill -TERM "$SW_WATCHDOG_PID" 2>/dev/null
    wait "$SW_WATCHDOG_PID" 2>/dev/null
  fi
  local k
  for ((k = ${#SW_KNOBS[@]} - 2; k >= 0; k -= 2)); do
    echo "${SW_KNOBS[k + 1]}" >"${SW_KNOBS[k]}" 2>/dev/null
  done
  local ns
  for ns in "$SW_NS" "${SW_EXTRA_NS[@]}"; do
    [[ -n "$ns" ]] && ip netns delete "$ns" 2>/dev/null
  done
  # DPDK leaves its runtime directory (config, fbarrays, telemetry socket) behind; remove the
  # ones of the processes this test started, which are gone by now.
  local prefix
  for prefix in "${SW_DPDK_PREFIXES[@]}"; do
    [[ -n "$prefix" && "$prefix" != */* ]] && rm -rf "/var/run/dpdk/$prefix"
  done
  if [[ -n "$SW_WORKDIR" && -d "$SW_WORKDIR" ]]; then
    if [[ $status -ne 0 || "${SW_KEEP:-0}" == 1 ]]; then
      echo "[$SW_TEST_NAME] kept $SW_WORKDIR for inspection" >&2
    else
      rm -rf "$SW_WORKDIR"
    fi
  fi
  if [[ $status -eq 0 ]]; then
    sw_log "PASS ($((SECONDS - SW_STARTED_AT)) s)"
  else
    printf '[%s %3ds] FAILED (exit %d)\n' "$SW_TEST_NAME" $((SECONDS - SW_STARTED_AT)) "$status" >&2
  fi
  exit "$status"
}

# sw_knob FILE: a kernel setting's value; for the sysfs files that list every choice
# ("always within_size advise [never] deny"), the chosen one.
sw_knob() {
  local v
  v="$(<"$1")"
  [[ "$v" =~ \[([^]]*)\] ]] && v="${BASH_REMATCH[1]}"
  echo "$v"
}

# sw_set_knob FILE VALUE: sets a kernel setting for this run; the trap puts the previous value back.
sw_set_knob() {
  local old
  old="$(sw_knob "$1")" || sw_fail "cannot read $1"
  SW_KNOBS+=("$1" "$old")
  echo "$2" >"$1" 2>/dev/null || sw_fail "cannot write '$2' to $1 (it is left at '$old')"
}

# Records a background PID so that the trap ends it.
sw_track() { SW_PIDS+=("$1"); }

# sw_track_dpdk_prefix ARGS...: notes the --file-prefix among a synwave command line's EAL
# options (before '--') so that the trap removes its /var/run/dpdk directory. Without one,
# synwave picks "synwave<PID>" (src/dpdk/eal.cpp): call it after SW_PID is set.
sw_track_dpdk_prefix() {
  local arg prefix="synwave${SW_PID:-none}"
  for arg in "$@"; do
    [[ "$arg" == -- ]] && break
    [[ "$arg" == --file-prefix=* ]] && prefix="${arg#--file-prefix=}"
  done
  SW_DPDK_PREFIXES+=("$prefix")
}

# Makes a uniquely named network namespace with IPv6 off (before any interface appears in it, so
# no MLD, DAD or router solicitation reaches synwave) and loopback up.
sw_netns() {
  SW_NS="$(sw_new_netns)" || sw_fail "cannot create the test's network namespace"
  sw_log "namespace $SW_NS"
}

# sw_new_netns: makes such a namespace and prints its name; the trap deletes it. sw_netns makes
# the test's main one (SW_NS); a test that plays several hosts makes one more per host
# (`ns=$(sw_new_netns)` runs in a subshell: call sw_track_netns "$ns" after it).
sw_new_netns() {
  local ns="sw-${SW_TEST_NAME//_/-}-$$-$RANDOM"
  ip netns add "$ns" || sw_fail "cannot create network namespace $ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  # The kernel peer retransmits only on its RTO (200 ms at least), not by tail loss probe: TLP
  # fires after about two round trips, a few milliseconds here, and a polling process on a
  # shared 2-core machine routinely loses the CPU for that long. Left on, it fills captures with
  # retransmissions that say nothing about synwave; with it off, any retransmission on the wire
  # means a segment went unanswered for 200 ms.
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_early_retrans=0
  ip -n "$ns" link set lo up
  echo "$ns"
}
SW_EXTRA_NS=()
sw_track_netns() { SW_EXTRA_NS+=("$1"); }

# Runs a command inside the test's namespace (in the foreground: for a background process use
# `ip netns exec "$SW_NS" ... &` directly, so that $! is the process itself, not a subshell).
sw_in_ns() { ip netns exec "$SW_NS" "$@"; }

# A --file-prefix nobody else uses (DPDK's runtime directory and telemetry socket live under it).
sw_file_prefix() { echo "sw${SW_TEST_NAME//_/}$$${1:-}"; }

# sw_start_synwave LOG EAL_ARGS... -- MODE OPTIONS...
# Starts synwave in the background inside the namespace (if the test made one), stdout and stderr
# to LOG; sets SW_PID and SW_LOG.
# `ip netns exec` execs the program, so SW_PID is synwave's own PID.
sw_start_synwave() { sw_start_synwave_in "$SW_NS" "$@"; }

# sw_start_synwave_in NAMESPACE LOG EAL_ARGS... -- MODE OPTIONS...: the same in another namespace
# (sw_new_netns), or in none when NAMESPACE is empty.
sw_start_synwave_in() {
  local ns="$1" log="$2"
  shift 2
  sw_log "start${ns:+ in $ns}: synwave $*"
  if [[ -n "$ns" ]]; then
    ip netns exec "$ns" "$SYNWAVE" "$@" >"$log" 2>&1 &
  else
    "$SYNWAVE" "$@" >"$log" 2>&1 &  # no namespace: a test without a network device (net_pcap)
  fi
  SW_PID=$!
  SW_LOG="$log"
  sw_track_dpdk_prefix "$@"
  sw_track "$SW_PID"
}

# sw_wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds.
sw_wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.1
  done
}

# sw_wait_ready LOG [SECONDS] [PID]: waits until the synwave started as PID (default SW_PID) logs
# that its workers run ("<mode> mode on N lcore(s)"); fails the test if it exits first or takes too
# long.
sw_wait_ready() {
  local log="$1" seconds="${2:-30}" pid="${3:-$SW_PID}"
  local deadline=$((SECONDS + seconds))
  until grep -q ' mode on [0-9]* lcore' "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      sw_tail "$log" 30
      sw_fail "synwave exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      sw_tail "$log" 30
      sw_fail "synwave not ready after ${seconds}s"
    fi
    sleep 0.1
  done
}

# sw_wait_tap [IFNAME]: bounded poll until net_tap's interface exists in the namespace.
sw_wait_tap() {
  local ifname="${1:-$SW_TAP}"
  local deadline=$((SECONDS + 20))
  until ip -n "$SW_NS" link show "$ifname" >/dev/null 2>&1; do
    if [[ -n "${SW_PID:-}" ]] && ! kill -0 "$SW_PID" 2>/dev/null; then
      sw_tail "${SW_LOG:-}" 30
      sw_fail "synwave exited before $ifname appeared"
    fi
    ((SECONDS < deadline)) || sw_fail "$ifname did not appear in $SW_NS within 20 s"
    sleep 0.05
  done
}

# Gives the kernel side of the tap its address and a MAC of its own (02:00:00:00:00:01, so traces
# are readable), and waits until the interface is up.
sw_setup_kernel_side() {
  local ifname="${1:-$SW_TAP}"
  sw_wait_tap "$ifname"
  ip -n "$SW_NS" link set "$ifname" address "$SW_KERNEL_MAC"
  ip -n "$SW_NS" addr add "$SW_KERNEL_IP/24" dev "$ifname"
  ip -n "$SW_NS" link set "$ifname" up
  sw_wait_for 10 "$ifname up" sh -c "ip -n '$SW_NS' link show '$ifname' | grep -q 'state UP\|state UNKNOWN'" ||
    sw_fail "$ifname did not come up"
  [[ "$(ip -n "$SW_NS" link show "$ifname")" == *"link/ether $SW_KERNEL_MAC "* ]] ||
    sw_fail "the kernel side of $ifname lost its MAC $SW_KERNEL_MAC"
}

# sw_bridge [kernel]: a bridge SW_BRIDGE in the namespace for several net_tap ports (synwave
# processes) to share one segment; with "kernel", the kernel is on it too, as SW_KERNEL_IP.
SW_BRIDGE=swbr0
sw_bridge() {
  ip -n "$SW_NS" link add "$SW_BRIDGE" type bridge
  if [[ "${1:-}" == kernel ]]; then
    ip -n "$SW_NS" link set "$SW_BRIDGE" address "$SW_KERNEL_MAC"
    ip -n "$SW_NS" addr add "$SW_KERNEL_IP/24" dev "$SW_BRIDGE"
  fi
  ip -n "$SW_NS" link set "$SW_BRIDGE" up
}

# sw_bridge_attach TAP MAC: puts a net_tap's kernel side on the bridge, with a MAC of its own.
# Call it once the synwave process has started its port: starting it copies the port's MAC onto
# the kernel side, and a bridge keeps frames addressed to one of its own ports' MACs.
sw_bridge_attach() {
  local tap="$1" mac="$2"
  ip -n "$SW_NS" link set "$tap" address "$mac"
  ip -n "$SW_NS" link set "$tap" master "$SW_BRIDGE"
  ip -n "$SW_NS" link set "$tap" up
}

# sw_start_kernel_listener PORT STATS_FILE LOG [ADDRESS]: tests/system/http_listener.py on the
# kernel side, ADDRESS (default $SW_KERNEL_IP; an IPv6 one too):PORT. That address exists only once the tap does: IP_FREEBIND (ip_nonlocal_bind)
# lets the listener bind first, so it listens before synwave sends its first SYN. Sets
# SW_LISTENER_PID; fails the test if the listener does not start.
sw_start_kernel_listener() {
  local port="$1" stats="$2" log="$3" address="${4:-$SW_KERNEL_IP}"
  sw_in_ns sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1
  ip netns exec "$SW_NS" "$PYTHON" "$SW_LIB_DIR/http_listener.py" "$address" "$port" "$stats" >"$log" 2>&1 &
  SW_LISTENER_PID=$!
  sw_track "$SW_LISTENER_PID"
  sw_wait_for 10 "listener" grep -q '^listening' "$log" || { sw_tail "$log"; sw_fail "the Python listener did not start"; }
}

# sw_start_tap_synwave LOG LCORES VDEV_EXTRA MODE OPTIONS...
# Starts synwave on a net_tap in the namespace (--ip 198.18.0.2/24 added), waits until its workers
# run, then configures the kernel side. Sets SW_PID and SW_PREFIX (the --file-prefix).
# VDEV_EXTRA is appended to the net_tap arguments (e.g. ",queues=2").
#
# The kernel side is configured only once synwave's port has started, because starting the port
# copies the port's MAC onto the kernel interface (rte_eth_dev_start replays the MAC through
# net_tap's mac_addr_set); a MAC set earlier would be lost and both ends would share one MAC.
# A client's first ARP requests therefore go unanswered; synwave retries every 100 ms.
# A test may define sw_on_tap to act as soon as the interface exists, before synwave's port
# starts sending (tcpdump, so that the capture holds every frame).
sw_start_tap_synwave() {
  local log="$1" lcores="$2" vdev_extra="$3" mode="$4"
  shift 4
  SW_PREFIX="$(sw_file_prefix "$mode")"
  sw_start_synwave "$log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=${SW_TAP}${vdev_extra}" -l "$lcores" \
    --file-prefix="$SW_PREFIX" -- "$mode" --ip "$SW_SYNWAVE_IP/24" "$@"
  sw_wait_tap
  if declare -F sw_on_tap >/dev/null; then sw_on_tap; fi
  sw_wait_ready "$log"
  sw_setup_kernel_side "$SW_TAP"
}

# sw_stop PID LOG [SECONDS]: SIGINT (synwave's orderly stop: summary and report), a bounded wait,
# then the exit code in SW_STOP_STATUS. Fails the test if the process does not exit in time.
sw_stop() {
  local pid="$1" log="$2" seconds="${3:-15}"
  kill -INT "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      sw_tail "$log" 30
      sw_fail "PID $pid did not exit within ${seconds}s of SIGINT"
    fi
    sleep 0.1
  done
  SW_STOP_STATUS=0
  wait "$pid" || SW_STOP_STATUS=$?
}

# sw_wait_summary PID LOG SECONDS [REGEX]: waits until a synwave process that ends by itself has
# finished its run (its summary line "synwave MODE: ..." is in LOG; another program's last line:
# REGEX) or has exited. Over net_memif, stop the peer that runs until told (a server) at that
# point, then sw_wait_exit the first: a memif peer must not disconnect while the other still polls
# (src/dpdk/port.cpp linger_for_memif_peer), and a finished synwave keeps its memif port open for
# up to 2 s waiting for the other to go first.
sw_wait_summary() {
  local pid="$1" log="$2" seconds="$3" summary="${4:-^synwave [a-z]*: }"
  local deadline=$((SECONDS + seconds))
  until grep -q "$summary" "$log" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      sw_tail "$log" 30
      sw_fail "PID $pid has not finished its run after ${seconds}s"
    fi
    sleep 0.05
  done
}

# sw_wait_exit PID LOG SECONDS: waits for a process that ends by itself; status in SW_STOP_STATUS.
sw_wait_exit() {
  local pid="$1" log="$2" seconds="$3"
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      sw_tail "$log" 30
      sw_fail "PID $pid still running after ${seconds}s"
    fi
    sleep 0.1
  done
  SW_STOP_STATUS=0
  wait "$pid" || SW_STOP_STATUS=$?
}

# sw_tcpdump_start IFACE PCAP [immediate]: captures on the kernel side of the tap inside the
# namespace; returns once tcpdump says it listens. Sets SW_TCPDUMP_PID, and SW_CAPTURE_FROM_START
# to 1 when no frame can have crossed the tap yet (the capture can hold every frame).
# "immediate" hands every frame to tcpdump at once instead of in blocks: needed when the
# interface may vanish before tcpdump is stopped (synwave exiting by itself deletes it, and the
# block being filled is lost), at the price of more wake-ups (more risk of drops at high rates).
sw_tcpdump_start() {
  local ifname="$1" pcap="$2" mode="${3:-}"
  local log="$pcap.log"
  local -a opts=(-B 65536)
  [[ "$mode" == immediate ]] && opts+=(--immediate-mode)
  ip netns exec "$SW_NS" tcpdump -i "$ifname" -n -U "${opts[@]}" -s 0 -w "$pcap" >"$log" 2>&1 &
  SW_TCPDUMP_PID=$!
  sw_track "$SW_TCPDUMP_PID"
  sw_wait_for 15 "tcpdump" grep -q 'listening on' "$log" || {
    sw_tail "$log"
    sw_fail "tcpdump did not start"
  }
  # A server sends nothing unasked, and the kernel side is silent until configured (no address,
  # IPv6 off): a capture started after a server's port still sees every frame. A client's port,
  # once started, sends ARP requests at once.
  SW_CAPTURE_FROM_START=1
  if grep -q ' client mode on ' "${SW_LOG:-/dev/null}" 2>/dev/null; then SW_CAPTURE_FROM_START=0; fi
}

# sw_tcpdump_stop PCAP: stops tcpdump and fails the test if the kernel dropped frames before
# tcpdump read them (a capture with holes makes every later analysis meaningless).
# tcpdump reads the kernel's capture ring in blocks that are handed over when full or after its
# 1 s timeout; a block still open at SIGINT is lost, so the link must be quiet for longer than that
# first (the callers stop traffic before calling this).
sw_tcpdump_stop() {
  local pcap="$1"
  sleep 1.5
  if ! kill -0 "$SW_TCPDUMP_PID" 2>/dev/null; then
    # It ends by itself when the interface goes away with synwave; it still prints its counts.
    sw_wait_exit "$SW_TCPDUMP_PID" "$pcap.log" 1
  else
    sw_stop "$SW_TCPDUMP_PID" "$pcap.log" 10
  fi
  local dropped
  dropped="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$pcap.log")"
  [[ -n "$dropped" ]] || { sw_tail "$pcap.log"; sw_fail "tcpdump did not report its counts"; }
  sw_log "tcpdump: $(grep 'captured$' "$pcap.log"), $dropped dropped"
  [[ "$dropped" -eq 0 ]] || sw_fail "tcpdump lost $dropped frames (machine too busy?): the capture cannot be analysed"
}

# sw_refuse PATTERN ARGS...: runs synwave ARGS (no namespace needed: it must stop before any
# port), expects exit 2 and one line on stderr matching PATTERN.
sw_refuse() { sw_refuse_in "" "$@"; }

# sw_refuse_in NAMESPACE PATTERN ARGS...: the same inside a namespace (a refusal that depends on
# the network there, such as a --metrics port already taken).
sw_refuse_in() {
  local ns="$1" pattern="$2"
  shift 2
  local status=0
  if [[ -n "$ns" ]]; then
    ip netns exec "$ns" "$SYNWAVE" "$@" >"$SW_WORKDIR/out" 2>"$SW_WORKDIR/err" || status=$?
  else
    "$SYNWAVE" "$@" >"$SW_WORKDIR/out" 2>"$SW_WORKDIR/err" || status=$?
  fi
  [[ $status -eq 2 && "$(grep -c . "$SW_WORKDIR/err")" -eq 1 ]] && grep -Eq -- "$pattern" "$SW_WORKDIR/err" ||
    { cat "$SW_WORKDIR/err" >&2; sw_fail "expected exit 2 and one line matching /$pattern/ (got $status)"; }
  sw_ok "$(cat "$SW_WORKDIR/err")"
}

# sw_json FILE PYTHON_EXPRESSION: prints the expression evaluated with `r` = the parsed JSON file.
sw_json() {
  "$PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# sw_assert_json FILE DESCRIPTION PYTHON_CONDITION: fails the test unless the condition holds.
sw_assert_json() {
  local file="$1" what="$2" cond="$3"
  sw_check "$what"
  local got
  got="$(sw_json "$file" "$cond")" || sw_fail "cannot evaluate '$cond' on $file"
  [[ "$got" == True ]] || sw_fail "$what: '$cond' is $got"
  sw_ok "$what"
}

# ---------------------------------------------------------------------------------------------
# Reading a capture with tshark

# sw_scan_capture PCAP OUT_TSV: one tshark pass over the capture, writing a tab-separated line for
# every frame a later check cares about: RSTs, frames whose IP or TCP checksum tshark finds bad
# (both verified: the kernel sends fully checksummed frames through the tap, synwave's come from
# net_tap's software offload or the engine), and frames carrying TCP analysis flags.
# Columns: 1 frame, 2 ip.src, 3 sport, 4 ip.dst, 5 dport, 6 flags, 7 rst, 8 tcp checksum status
# (0 bad, 1 good), 9 ip checksum status, 10 analysis flags (1 if any), 11 tcp.checksum,
# 12 computed checksum, 13 first expert message, 14 reused ports (1 if flagged), 15 duplicate ACK
# (1 if flagged; a frame's first expert message may be about its checksum instead), 16
# retransmission (1 if flagged).
#
# Allowed analysis flag, and why:
#   tcp.analysis.reused_ports ("A new tcp session is started with the same ports as an earlier
#   session"): thousands of connections between the same two addresses bring a source port round
#   again while the side that closed first still holds the old tuple in TIME-WAIT; the new SYN
#   legitimately reopens it (RFC 9293 §3.6.1, RFC 6191; synwave counts it in time_wait_reused).
#   It says nothing about either endpoint being wrong. Every other flag (retransmission,
#   duplicate ACK, lost or unseen segment, out-of-order, zero window, ...) fails the check.
sw_scan_capture() {
  local pcap="$1" out="$2"
  tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
    -Y 'tcp.flags.reset == 1 || tcp.checksum.status == "Bad" || ip.checksum.status == "Bad" || (tcp.analysis.flags && !tcp.analysis.reused_ports)' \
    -T fields -E occurrence=f -e frame.number -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.str \
    -e tcp.flags.reset -e tcp.checksum.status -e ip.checksum.status -e tcp.analysis.flags -e tcp.checksum \
    -e tcp.checksum_calculated -e _ws.expert.message -e tcp.analysis.reused_ports -e tcp.analysis.duplicate_ack \
    -e tcp.analysis.retransmission >"$out" 2>"$out.err" || { sw_tail "$out.err"; sw_fail "tshark cannot read $pcap"; }
}

# sw_check_capture_complete PCAP REPORT [FILTER COUNTERS]: every frame synwave received or sent is
# in the capture (tcpdump ran from before the first frame to after the last), so the checks below
# see it all. FILTER and COUNTERS leave out the kernel's frames synwave ignores, which the kernel
# may send before synwave polls and after it exits: those the tshark display FILTER matches in
# the capture, and the sum of synwave's COUNTERS of them (a Python expression over r['counters'],
# e.g. over IPv6 MLD reports, router solicitations and the kernel's duplicate address detection:
# drop_icmpv6_ignored + drop_nd_not_for_us).
sw_check_capture_complete() {
  local pcap="$1" report="$2" filter="${3:-}" counter="${4:-}" frames ignored=0
  frames="$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$pcap.log")"
  if [[ "${SW_CAPTURE_FROM_START:-1}" != 1 ]]; then
    sw_log "note: tcpdump started after synwave's port (busy machine): completeness not checked"
    return 0
  fi
  if [[ -n "$filter" ]]; then
    ignored="$(tshark -r "$pcap" -Y "$filter" 2>/dev/null | wc -l)"
    sw_assert_json "$report" "capture is complete: its $frames frames less $ignored ignored ($filter) == synwave's rx_packets + tx_packets less $counter" \
      "r['data_plane']['rx_packets'] + r['data_plane']['tx_packets'] - ($counter) == $frames - $ignored"
    return 0
  fi
  sw_assert_json "$report" "capture is complete: its $frames frames == synwave's rx_packets + tx_packets" \
    "r['data_plane']['rx_packets'] + r['data_plane']['tx_packets'] == $frames"
}

# sw_check_checksums TSV: no bad checksum.
# One "Bad" verdict is not an error: a TCP checksum field of 0xffff where Wireshark computes
# 0x0000. In one's complement both are zero, and a receiver that verifies by summing the segment
# (every TCP, Linux included, which accepts these frames) gets the same result for either
# (RFC 1071 §1, RFC 1624 §3); Wireshark still labels it Bad ("0xffff instead of 0x0000"). Both
# ends produce it: the kernel's skb_checksum_help() writes CSUM_MANGLED_0 for a zero result, and
# DPDK 22.11's net_tap, which performs synwave's "offloaded" TCP checksum in software, applies
# UDP's zero rule (RFC 768) to TCP as well. About 1 segment in 65536 hits it. Any other bad TCP
# checksum, and any bad IP header checksum, fails the check.
sw_check_checksums() {
  local wire="$1" negative_zero bad
  sw_check "tshark: no bad IP or TCP checksum (0xffff for a zero TCP checksum allowed, see lib.sh)"
  negative_zero="$(awk -F'\t' '$8 == "0" && $9 != "0" && $11 == "0xffff" && $12 == "0x0000"' "$wire" | wc -l)"
  # (awk prints the first 20 itself: `| head` would break the pipe under pipefail)
  bad="$(awk -F'\t' '($9 == "0" || ($8 == "0" && !($11 == "0xffff" && $12 == "0x0000"))) && n++ < 20' "$wire")"
  [[ -z "$bad" ]] || sw_fail "bad checksums:
$bad"
  sw_ok "no bad checksum ($negative_zero segment(s) with 0xffff for a zero checksum)"
}

# sw_check_analysis_flags TSV: no TCP analysis flag but reused ports (see sw_scan_capture).
# sw_stalled REPORT: true when an lcore of the synwave that wrote REPORT stopped polling for
# SW_STALL_RTO_MS (200 ms, Linux's minimum RTO) or more: the VM took its CPU (the report's hints say
# so). Meanwhile the peer's retransmission timers ran out; when synwave came back it acknowledged
# the originals and then the retransmissions, duplicates by then. Both are the stall's doing, not
# synwave's or the peer's.
readonly SW_STALL_RTO_MS=200
sw_stalled() {
  local report="$1" stall_ms
  stall_ms="$(sw_json "$report" "r['data_plane']['longest_pass_us'] // 1000")" || return 1
  [[ "$stall_ms" -ge "$SW_STALL_RTO_MS" ]] || return 1
  sw_log "synwave stopped polling for $stall_ms ms once (>= $SW_STALL_RTO_MS ms, the peer's minimum RTO): the peer's retransmissions and synwave's duplicate ACKs answering them are allowed"
}

# sw_stall_allowances REPORT: the judge_capture entries that sw_stalled excuses (none without a
# stall).
sw_stall_allowances() {
  sw_stalled "$1" >/dev/null || return 0
  echo "tcp.analysis.retransmission,ip.dst=$SW_SYNWAVE_IP tcp.analysis.duplicate_ack,ip.src=$SW_SYNWAVE_IP"
}

# sw_check_analysis_flags TSV [REPORT]: no TCP analysis flag but reused ports (and, when REPORT
# shows a stall, what sw_stalled excuses).
sw_check_analysis_flags() {
  local wire="$1" report="${2:-}" flagged stalled=0
  sw_check "tshark: no tcp.analysis.flags other than reused ports (retransmission, dup ACK, lost segment, ...)"
  if [[ -n "$report" ]] && sw_stalled "$report"; then stalled=1; fi
  # A frame that is in the file for its checksum alone (0xffff for zero, see sw_check_checksums)
  # may carry the reused-ports flag: like the filter in sw_scan_capture, that one does not count.
  flagged="$(awk -F'\t' -v s="$SW_SYNWAVE_IP" -v stalled="$stalled" '
    $10 != "" && $14 == "" && !(stalled && (($2 == s && $15 != "") || ($4 == s && $16 != ""))) && n++ < 20' "$wire")"
  if [[ -n "$flagged" ]]; then
    if awk -F'\t' -v s="$SW_SYNWAVE_IP" '$2 == s && $15 != "" {found = 1} END {exit !found}' "$wire"; then
      echo "Duplicate ACKs from synwave. About 40 ms (the delayed-ACK time) after a response: a" >&2
      echo "delayed-ACK timer left armed although the response carried the ACK (report: delayed_acks)." >&2
      echo "Right after another segment of the flow: that segment was older than one already" >&2
      echo "processed (reordered), and PAWS dropped and acknowledged it (report: drop_paws)." >&2
    fi
    sw_fail "frames with TCP analysis flags (columns: see sw_scan_capture in lib.sh):
$flagged"
  fi
  sw_ok "no TCP analysis flag"
}

# ---------------------------------------------------------------------------------------------
# The independent judge (tests/system/judge.py): every capture a test takes goes through it.

# judge_capture PCAP [ALLOW...]: tshark reads the capture with IP and TCP checksum validation on;
# the test fails on any malformed packet, any expert item of severity Warning or Error, any bad
# checksum (0xffff for a zero TCP checksum aside, see sw_check_checksums) and any tcp.analysis.*
# flag, unless an ALLOW entry covers it. An entry is ISSUE[,FIELD=VALUE...]: the expert item's
# field name (glob) and conditions that restrict it to the frames a test provokes on purpose, e.g.
# "tcp.analysis.duplicate_ack,ip.src=198.18.0.2" or "tcp.checksum_bad.expert,tcp.port=40012";
# "@FILE" reads entries from a file (judge.py's header says more).
judge_capture() {
  local pcap="$1"
  shift
  sw_check "tshark judge on $(basename "$pcap"): no malformed frame, no warning, no bad checksum, no TCP analysis flag${1:+ but: $*}"
  [[ -s "$pcap" ]] || sw_fail "judge: no capture at $pcap"
  "$PYTHON" "$SW_LIB_DIR/judge.py" "$pcap" "$@" || sw_fail "judge: $(basename "$pcap") has flaws not on the allow-list (above)"
  sw_ok "judge: $(basename "$pcap") clean"
}
