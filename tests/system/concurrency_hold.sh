#!/usr/bin/env bash
# Concurrent connections (issue 12): a synwave client opens 20,000 connections at 20,000/s and
# holds them for the run, each sending a GET every second on its kept connection
# (--requests-per-connection 0 --request-interval 1), against a synwave HTTP server over a
# net_memif link. What must hold: every connection is opened once and none drops (no failure on
# either side, nothing re-opened); after the ramp both sides hold all 20,000 in ESTABLISHED at
# every sample of their timelines; the requests run at about one per connection per second; and
# the server read every request the client had answered.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly HELD=20000
readonly DURATION=6

sw_begin 120
sw_netns

SOCK="$SW_WORKDIR/memif.sock"
MEMIF="socket=$SOCK,socket-abstract=no,id=0,rsize=12"
SERVER_LOG="$SW_WORKDIR/server.log"
CLIENT_LOG="$SW_WORKDIR/client.log"
sw_start_synwave "$SERVER_LOG" --no-huge -m 512 --no-pci -l 1 --file-prefix="$(sw_file_prefix s)" \
  --vdev "net_memif0,role=server,$MEMIF,mac=02:00:00:00:00:02" -- \
  server --ip 198.18.2.1/16 --listen 80 --http 100 --max-connections 32768 \
  --report "$SW_WORKDIR/server.json" --stats-interval 1
SERVER_PID=$SW_PID
sw_wait_ready "$SERVER_LOG"
sw_start_synwave "$CLIENT_LOG" --no-huge -m 1024 --no-pci -l 0 --file-prefix="$(sw_file_prefix c)" \
  --vdev "net_memif0,role=client,$MEMIF,mac=02:00:00:00:00:01" -- \
  client --ip 198.18.1.1/16 --src-ip 198.18.1.1-198.18.1.4 --dst 198.18.2.1:80 --http-get / \
  --rate "$HELD" --concurrency "$HELD" --max-connections 32768 \
  --requests-per-connection 0 --request-interval 1 \
  --duration "$DURATION" --report "$SW_WORKDIR/client.json" --stats-interval 1
CLIENT_PID=$SW_PID

sw_check "the client holds $HELD connections for $DURATION s and stops by itself"
# The server stops once the client's run is over, before the client closes its memif port.
sw_wait_summary "$CLIENT_PID" "$CLIENT_LOG" 60
sw_stop "$SERVER_PID" "$SERVER_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$SERVER_LOG"; sw_fail "server exited with $SW_STOP_STATUS"; }
sw_wait_exit "$CLIENT_PID" "$CLIENT_LOG" 15
[[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$CLIENT_LOG"; sw_fail "client exited with $SW_STOP_STATUS"; }
sw_ok "$(grep '^synwave client:' "$CLIENT_LOG" || echo 'no summary line')"

CLIENT="$SW_WORKDIR/client.json"
SERVER="$SW_WORKDIR/server.json"
sw_log "client timeline (t, held, requests/s): $(sw_json "$CLIENT" \
  "[(round(t['t_s']), t['client_established'], round(t['http_requests_per_s'])) for t in r['timeline']]")"
sw_log "server timeline (t, held): $(sw_json "$SERVER" "[(round(t['t_s']), t['server_established']) for t in r['timeline']]")"

sw_assert_json "$CLIENT" "client: $HELD connections opened, once each, none failed" \
  "r['counters']['conn_opened'] == $HELD and r['connections_failed'] == 0"
sw_assert_json "$SERVER" "server: $HELD accepted, none failed" \
  "r['counters']['conn_accepted'] == $HELD and r['connections_failed'] == 0"
# The samples after the ramp (the first second) and before the stop.
held="[t for t in r['timeline'] if 2 <= t['t_s'] <= $DURATION]"
sw_assert_json "$CLIENT" "client: all $HELD in ESTABLISHED at every sample after the ramp" \
  "len($held) >= 3 and all(t['client_established'] == $HELD for t in $held)"
# The server's clock starts before the client's: from its first sample with all of them, to its end.
from_full="[t['server_established'] for t in r['timeline']][[t['server_established'] for t in r['timeline']].index($HELD):]"
sw_assert_json "$SERVER" "server: reaches $HELD in ESTABLISHED and holds them at every later sample" \
  "$HELD in [t['server_established'] for t in r['timeline']] and len($from_full) >= 3 and all(n == $HELD for n in $from_full)"
# One request per connection per second, less the response's round trip: the median sample.
sw_assert_json "$CLIENT" "client: about $HELD requests/s once held (median sample >= 85 %)" \
  "sorted(t['http_requests_per_s'] for t in $held)[len($held) // 2] >= 0.85 * $HELD"
RESPONSES="$(sw_json "$CLIENT" "r['counters']['http_responses_read']")"
sw_assert_json "$SERVER" "server: read every request the client had answered ($RESPONSES), at most one more per connection in flight" \
  "$RESPONSES <= r['counters']['http_requests_read'] <= $RESPONSES + $HELD"
