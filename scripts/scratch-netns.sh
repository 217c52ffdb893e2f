# shellcheck shell=bash
# Sourced by the bench scripts: a scratch directory and a network namespace of their own, and an
# EXIT trap that stops the server the script started (SERVER_PID, if set), then deletes both and
# DPDK's runtime files of the script's --file-prefix stem, whatever way the script ends.
#
#   scratch_netns NAME [DPDK_PREFIX]    sets DIR (/tmp/synwave-NAME.XXXXXX), NS (sw-NAME-PID)
scratch_netns() {
  DIR="$(mktemp -d "/tmp/synwave-$1.XXXXXX")"
  NS="sw-$1-$$"
  SCRATCH_DPDK_PREFIX="${2:-}"
  SERVER_PID=
  trap scratch_cleanup EXIT
  ip netns add "$NS"
}

scratch_cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -INT "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$DIR"
  [[ -z "$SCRATCH_DPDK_PREFIX" ]] || rm -rf "/var/run/dpdk/$SCRATCH_DPDK_PREFIX"*
}

# wait_server_ready LOG TENTHS: waits up to TENTHS tenths of a second for the server started as
# SERVER_PID to log that its mode is on; if it exits or never does, prints its log's end (a refused
# option or vdev argument says why there) and exits 2.
wait_server_ready() {
  local log="$1" tenths="$2"
  for _ in $(seq "$tenths"); do
    grep -q ' mode on ' "$log" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start; the end of $log:" >&2
  tail -n 5 "$log" >&2
  exit 2
}

# stop_server_after_run PID LOG [DRAIN_SECONDS]: for a client or flood over net_memif started in the
# background as PID: waits until it has printed its summary line to LOG (or exited), lets the server
# drain for DRAIN_SECONDS, stops the server (SERVER_PID) and then waits for both. A memif peer must
# not close while the other still polls its rings (src/dpdk/port.cpp linger_for_memif_peer): the
# finished client keeps its port open until the server has gone.
stop_server_after_run() {
  local pid="$1" log="$2" drain="${3:-0}"
  until grep -q '^synwave [a-z]*: ' "$log" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  sleep "$drain"
  kill -INT "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=
  wait "$pid" || true
}
