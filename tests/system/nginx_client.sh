#!/usr/bin/env bash
# synwave's HTTP client, with its defaults, against nginx (issue 11): nginx (Debian's package) in
# the test's namespace on 198.18.0.1:80, with its own configuration, pid file, logs and document
# root under the scratch directory, serving a 1234-byte file. synwave's client runs 2000
# connections, 32 at a time, with no option but the addresses and the path: it must ask nginx
# to close (HTTP/1.1 keeps connections open otherwise, and the client used to wait 60 s for a
# FIN), and every connection must complete with a 200 and the whole body. nginx's access log is
# the independent check: 2000 lines, each a 200 with 1234 body bytes.
# Then kept connections (issue 12): 200 connections of 10 requests each (--requests-per-connection),
# 4 of them in flight at a time (--pipeline 4), of another file; nginx's log must show 10
# requests on each of 200 connections.
# Then a large download (issue 12, throughput): two connections at once, each GET a
# 64 MiB file; both complete, every body byte counted, and nginx's log shows both sent whole.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CONNECTIONS=2000
readonly CONCURRENCY=32
readonly BODY_BYTES=1234
readonly KEPT_CONNECTIONS=200
readonly REQUESTS_PER_CONNECTION=10
readonly LARGE_BYTES=$((64 * 1024 * 1024))

sw_begin 120
sw_require nginx
sw_netns

ROOT="$SW_WORKDIR/www"
mkdir -p "$ROOT" "$SW_WORKDIR/nginx-temp"
head -c "$BODY_BYTES" /dev/zero | tr '\0' 'n' >"$ROOT/index.html"
cp "$ROOT/index.html" "$ROOT/kept.html"
head -c "$LARGE_BYTES" /dev/zero | tr '\0' 'L' >"$ROOT/large.bin"
# nginx's workers run as www-data: they must reach the document root (mktemp made it 0700).
chmod o+x "$SW_WORKDIR"
chmod o+rx "$ROOT"
chmod o+r "$ROOT/index.html" "$ROOT/kept.html" "$ROOT/large.bin"
NGINX_CONF="$SW_WORKDIR/nginx.conf"
cat >"$NGINX_CONF" <<EOF
daemon off;
worker_processes 1;
pid $SW_WORKDIR/nginx.pid;
error_log $SW_WORKDIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  # The request, status and body bytes, then nginx's connection serial and that connection's
  # request count (the kept-connection check reads them).
  log_format sw '"\$request" \$status \$body_bytes_sent \$connection \$connection_requests';
  access_log $SW_WORKDIR/access.log sw;
  client_body_temp_path $SW_WORKDIR/nginx-temp/body;
  proxy_temp_path $SW_WORKDIR/nginx-temp/proxy;
  fastcgi_temp_path $SW_WORKDIR/nginx-temp/fastcgi;
  uwsgi_temp_path $SW_WORKDIR/nginx-temp/uwsgi;
  scgi_temp_path $SW_WORKDIR/nginx-temp/scgi;
  server {
    listen $SW_KERNEL_IP:80;
    root $ROOT;
  }
}
EOF

# nginx binds 198.18.0.1, which exists only once the tap does: non-local bind lets it listen first.
sw_in_ns sysctl -qw net.ipv4.ip_nonlocal_bind=1
NGINX_LOG="$SW_WORKDIR/nginx.log"
ip netns exec "$SW_NS" nginx -c "$NGINX_CONF" -p "$SW_WORKDIR" >"$NGINX_LOG" 2>&1 &
NGINX_PID=$!
sw_track "$NGINX_PID"
sw_wait_for 10 "nginx" test -s "$SW_WORKDIR/nginx.pid" || { sw_tail "$NGINX_LOG"; sw_tail "$SW_WORKDIR/nginx-error.log"; sw_fail "nginx did not start"; }
sw_log "nginx $(nginx -v 2>&1 | sed 's/.*: //') on $SW_KERNEL_IP:80 (PID $NGINX_PID), serving $BODY_BYTES bytes"

# run_client CHECK LOG REPORT OPTIONS...: synwave's client against nginx until it exits by itself.
run_client() {
  local check="$1" log="$2" report="$3"
  shift 3
  local start=$SECONDS
  sw_start_tap_synwave "$log" 0 "" client --dst "$SW_KERNEL_IP:80" --concurrency "$CONCURRENCY" \
    --report "$report" --stats-interval 1 "$@"
  local pid=$SW_PID
  sw_check "$check"
  sw_wait_exit "$pid" "$log" 60
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$log"; sw_fail "synwave client exited with $SW_STOP_STATUS"; }
  sw_ok "after $((SECONDS - start)) s: $(grep '^synwave client:' "$log" || echo 'no summary line')"
}

REPORT="$SW_WORKDIR/report.json"
run_client "synwave's client, with its defaults, finishes $CONNECTIONS connections against nginx by itself" \
  "$SW_WORKDIR/synwave.log" "$REPORT" --http-get /index.html --connections "$CONNECTIONS"

sw_assert_json "$REPORT" "report: $CONNECTIONS completed, none failed (every response a 200, framed right)" \
  "r['connections_completed'] == $CONNECTIONS and r['connections_failed'] == 0 and r['counters']['conn_failed_http_status'] == 0 and r['counters']['conn_failed_http_framing'] == 0"
sw_assert_json "$REPORT" "report: nginx closed every connection itself (it honoured Connection: close)" \
  "r['counters']['http_server_kept_open'] == 0"
sw_assert_json "$REPORT" "report: every response body whole ($CONNECTIONS x $BODY_BYTES bytes and the headers)" \
  "r['counters']['rx_bytes'] >= $CONNECTIONS * $BODY_BYTES"

# --- kept connections -----------------------------------------------------------------------------
KEPT_REQUESTS=$((KEPT_CONNECTIONS * REQUESTS_PER_CONNECTION))
KEPT_REPORT="$SW_WORKDIR/report-kept.json"
run_client "synwave's client sends $REQUESTS_PER_CONNECTION requests, 4 in flight, on each of $KEPT_CONNECTIONS kept connections" \
  "$SW_WORKDIR/synwave-kept.log" "$KEPT_REPORT" --http-get /kept.html --connections "$KEPT_CONNECTIONS" \
  --requests-per-connection "$REQUESTS_PER_CONNECTION" --pipeline 4
sw_assert_json "$KEPT_REPORT" "report: $KEPT_CONNECTIONS completed, none failed, $KEPT_REQUESTS responses read" \
  "r['connections_completed'] == $KEPT_CONNECTIONS and r['connections_failed'] == 0 and r['counters']['http_responses_read'] == $KEPT_REQUESTS and r['http_requests_per_s'] > r['cps'] and r['latency']['transaction']['count'] == $KEPT_REQUESTS"
sw_assert_json "$KEPT_REPORT" "report: nginx closed every connection after its last request (Connection: close)" \
  "r['counters']['http_server_kept_open'] == 0"

# --- a large download ------------------------------------------------------------------------------
LARGE_REPORT="$SW_WORKDIR/report-large.json"
run_client "synwave's client downloads $LARGE_BYTES bytes from nginx on each of two connections" \
  "$SW_WORKDIR/synwave-large.log" "$LARGE_REPORT" --http-get /large.bin --connections 2
sw_assert_json "$LARGE_REPORT" "report: both downloads completed, none failed, each response whole" \
  "r['connections_completed'] == 2 and r['connections_failed'] == 0 and r['counters']['http_responses_read'] == 2 and r['throughput']['client']['rx_bytes'] >= 2 * $LARGE_BYTES"
sw_log "large download: $(sw_json "$LARGE_REPORT" "'%.2f Gbit/s of payload; %d segments held past a hole, %d bytes of ours resent' % (r['payload_gbit_per_s'], r['counters']['rx_out_of_order_held'], r['throughput']['client']['tx_retransmitted_bytes'])")"

sw_stop "$NGINX_PID" "$NGINX_LOG" 10
sw_check "nginx's access log: $CONNECTIONS requests, each 'GET /index.html HTTP/1.1' answered 200 with $BODY_BYTES bytes"
GOOD="$(grep -c "^\"GET /index.html HTTP/1.1\" 200 $BODY_BYTES .* 1\$" "$SW_WORKDIR/access.log" || true)"
[[ "$GOOD" -eq "$CONNECTIONS" ]] ||
  { tail -n 5 "$SW_WORKDIR/access.log" >&2; sw_fail "access log: $GOOD requests to /index.html were a 200 with $BODY_BYTES bytes, alone on their connection"; }
sw_ok "$GOOD requests, each a 200 with $BODY_BYTES bytes, one per connection"

sw_check "nginx's access log: $KEPT_REQUESTS requests to /kept.html, $REQUESTS_PER_CONNECTION on each of $KEPT_CONNECTIONS connections"
read -r KEPT_GOOD KEPT_CONNS KEPT_FULL < <(awk -v b="$BODY_BYTES" -v n="$REQUESTS_PER_CONNECTION" '
  $1 == "\"GET" && $2 == "/kept.html" && $4 == 200 && $5 == b { good++; count[$6]++ }
  END { for (c in count) { conns++; if (count[c] == n) full++ } print good + 0, conns + 0, full + 0 }' "$SW_WORKDIR/access.log")
[[ "$KEPT_GOOD" -eq "$KEPT_REQUESTS" && "$KEPT_CONNS" -eq "$KEPT_CONNECTIONS" && "$KEPT_FULL" -eq "$KEPT_CONNECTIONS" ]] ||
  sw_fail "access log: $KEPT_GOOD good requests to /kept.html over $KEPT_CONNS connections, $KEPT_FULL of them with $REQUESTS_PER_CONNECTION"
sw_ok "$KEPT_GOOD requests over $KEPT_CONNS connections, each carrying $REQUESTS_PER_CONNECTION"

sw_check "nginx's access log: /large.bin sent whole twice ($LARGE_BYTES bytes, status 200)"
LARGE_GOOD="$(grep -c "^\"GET /large.bin HTTP/1.1\" 200 $LARGE_BYTES " "$SW_WORKDIR/access.log" || true)"
[[ "$LARGE_GOOD" -eq 2 ]] || { grep large.bin "$SW_WORKDIR/access.log" >&2; sw_fail "access log: $LARGE_GOOD whole downloads of /large.bin, expected 2"; }
sw_ok "2 downloads of $LARGE_BYTES bytes, each a 200"
