#!/usr/bin/env bash
# A guided demo of synwave against Linux's own TCP, in a network namespace of its own:
#
#   kernel (curl, ab)  198.18.0.1  --- swtap0 (net_tap) ---  synwave server  198.18.0.2:80
#
# It builds synwave if needed, starts the server on a net_tap interface inside a fresh namespace,
# fetches a page with curl, runs ab, stops the server with SIGINT and shows its summary and
# report. Everything it made (namespace, processes, scratch files) is removed on exit, even
# after Ctrl-C. Needs root (namespaces, tap devices). Traffic never leaves the namespace.
#
# Environment: BUILD_DIR (default build), REQUESTS (10000), CONCURRENCY (50), BODY_BYTES (1000),
# LCORES (0: one lcore; e.g. 0-1 for two, with the software dispatcher), KEEP=1 keeps the scratch
# directory (report, logs).
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$REPO_ROOT/$BUILD_DIR"
REQUESTS="${REQUESTS:-10000}"
CONCURRENCY="${CONCURRENCY:-50}"
BODY_BYTES="${BODY_BYTES:-1000}"
LCORES="${LCORES:-0}"
readonly SCRIPTS_DIR REPO_ROOT BUILD_DIR REQUESTS CONCURRENCY BODY_BYTES LCORES

readonly KERNEL_IP=198.18.0.1 KERNEL_MAC=02:00:00:00:00:01 SYNWAVE_IP=198.18.0.2 TAP=swtap0
readonly PYTHON=/usr/bin/python3

NS="synwave-demo-$$"
PREFIX="synwave-demo-$$"
WORKDIR=""
SERVER_PID=""

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() {
  printf 'netns-demo: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local status=$?
  set +e
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  ip netns delete "$NS" 2>/dev/null
  rm -rf "/var/run/dpdk/$PREFIX"
  if [[ -n "$WORKDIR" ]]; then
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORKDIR"; else rm -rf "$WORKDIR"; fi
  fi
  exit "$status"
}

# wait_until SECONDS COMMAND...: a bounded poll.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    [[ -z "$SERVER_PID" ]] || kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
}

main() {
  [[ "$(id -u)" -eq 0 ]] || die "run as root: it creates a network namespace and a tap device"
  local tool
  for tool in curl ab ip; do command -v "$tool" >/dev/null || die "missing $tool (scripts/setup.sh installs it)"; done
  local synwave="$BUILD_DIR/src/app/synwave"
  if [[ ! -x "$synwave" ]]; then
    bold "building synwave ($BUILD_DIR)"
    BUILD_DIR="$BUILD_DIR" "$SCRIPTS_DIR/build.sh"
  fi
  [[ -x "$synwave" ]] || die "no synwave at $synwave"

  trap cleanup EXIT
  trap 'exit 130' INT TERM
  WORKDIR="$(mktemp -d /tmp/synwave-demo.XXXXXX)"

  bold "a network namespace of our own: $NS (IPv6 off, so nothing but our traffic)"
  ip netns add "$NS"
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$NS" link set lo up

  bold "synwave server on net_tap ($TAP), HTTP answers of $BODY_BYTES bytes, lcores $LCORES"
  local -a cmd=("$synwave" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$TAP" -l "$LCORES"
    --file-prefix="$PREFIX" -- server --ip "$SYNWAVE_IP/24" --listen 80 --http "$BODY_BYTES"
    --report "$WORKDIR/report.json" --stats-interval 1)
  say "ip netns exec $NS ${cmd[*]}"
  ip netns exec "$NS" "${cmd[@]}" >"$WORKDIR/synwave.out" 2>"$WORKDIR/synwave.err" &
  SERVER_PID=$!
  wait_until 30 grep -q ' mode on ' "$WORKDIR/synwave.out" ||
    { cat "$WORKDIR/synwave.err" "$WORKDIR/synwave.out" >&2; die "synwave did not start"; }
  grep ' mode on \| port ' "$WORKDIR/synwave.out" | sed 's/^/   /'

  bold "the kernel's side of the tap: $KERNEL_IP/24, MAC $KERNEL_MAC"
  # After the port started: starting it copies synwave's MAC onto the kernel interface.
  ip -n "$NS" link set "$TAP" address "$KERNEL_MAC"
  ip -n "$NS" addr add "$KERNEL_IP/24" dev "$TAP"
  ip -n "$NS" link set "$TAP" up
  ip -n "$NS" -br addr show dev "$TAP" | sed 's/^/   /'

  bold "curl http://$SYNWAVE_IP/"
  ip netns exec "$NS" timeout 15 curl -sS --max-time 10 -D "$WORKDIR/headers" -o "$WORKDIR/body" "http://$SYNWAVE_IP/" ||
    die "curl failed"
  sed 's/^/   /' "$WORKDIR/headers"
  say "body: $(wc -c <"$WORKDIR/body") bytes, starting: $(head -c 64 "$WORKDIR/body" | tr -d '\n')"

  bold "ab -n $REQUESTS -c $CONCURRENCY http://$SYNWAVE_IP/  (one new connection per request)"
  ip netns exec "$NS" timeout 300 ab -q -s 10 -n "$REQUESTS" -c "$CONCURRENCY" "http://$SYNWAVE_IP/" >"$WORKDIR/ab.txt" 2>&1 ||
    { cat "$WORKDIR/ab.txt" >&2; die "ab failed"; }
  grep -E '^(Complete requests|Failed requests|Requests per second|Time per request|Transfer rate)' "$WORKDIR/ab.txt" |
    sed 's/^/   /'
  say "synwave's progress lines (stderr), last three:"
  grep '^\[ *[0-9.]*s\]' "$WORKDIR/synwave.err" | tail -n 3 | sed 's/^/     /' || true

  bold "stopping synwave (SIGINT): its summary line and report"
  kill -INT "$SERVER_PID"
  wait_until 15 sh -c "! kill -0 $SERVER_PID" || die "synwave did not stop"
  wait "$SERVER_PID" || true
  SERVER_PID=""
  grep '^synwave server:' "$WORKDIR/synwave.out" | sed 's/^/   /'
  "$PYTHON" - "$WORKDIR/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counters"]
print(f"   report: {r['connections_completed']} completed, {r['connections_failed']} failed "
      f"({', '.join(f'{k} {v}' for k, v in r['failures'].items() if v) or 'no failure'}), dispatch {r['dispatch']}")
print(f"   SYNs {c['syn_received']}, SYN-ACKs {c['synack_sent']}, RSTs sent {c['rst_sent']} received {c['rst_received']}, "
      f"retransmits {c['retransmits']}, TIME-WAIT reused {c['time_wait_reused']}")
print(f"   still held: {r['roles']['server']['gauges']['TIME-WAIT']} records in TIME-WAIT (2MSL)")
PY
  say "(ab may open a few connections it never uses; synwave counts them as 'incomplete')"
  bold "done: the namespace and everything in it go away now"
}

main "$@"
