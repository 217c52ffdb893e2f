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
