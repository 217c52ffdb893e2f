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
