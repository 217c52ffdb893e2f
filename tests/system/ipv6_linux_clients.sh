#!/usr/bin/env bash
# synwave as a dual-stack HTTP server on net_tap (one IPv4 and one IPv6 address), with the Linux
# kernel's TCP as the client over IPv6 (issue 13):
#   - the kernel resolves synwave's address by Neighbor Discovery, and ping -6 gets its echoes;
#   - curl -6 gets a 200 whose body has the right length and pattern; curl -4 still works beside it;
#   - ab over IPv6: 5000 requests, 20 concurrent, none failed;
#   - a Python client over AF_INET6 that half-closes (shutdown SHUT_WR) after its request still
#     gets the whole response, then the server's FIN;
#   - the report: IPv6 segments, ND answers and echo replies counted; no connection failed but
#     ab's unused ones.
# Addresses: 2001:db8::/32 (documentation prefix) and 198.18.0.0/15, inside the test's namespace.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly BODY_BYTES=1000
readonly AB_REQUESTS=5000
readonly AB_CONCURRENCY=20
readonly KERNEL_IP6=2001:db8::1
readonly SYNWAVE_IP6=2001:db8::2

sw_begin 120
sw_require curl ab ping
sw_netns

# The namespace starts with IPv6 off (lib.sh); the tap gets it back, with an address that skips
# duplicate address detection's delay.
sw_on_tap() {
  sw_in_ns sysctl -qw "net.ipv6.conf.$SW_TAP.disable_ipv6=0"
}

LOG="$SW_WORKDIR/synwave.log"
REPORT="$SW_WORKDIR/report.json"
sw_start_tap_synwave "$LOG" 0 "" server --ip "$SYNWAVE_IP6/64" --listen 80 --http "$BODY_BYTES" \
  --report "$REPORT" --stats-interval 0
SERVER_PID=$SW_PID
sw_in_ns ip -6 addr add "$KERNEL_IP6/64" dev "$SW_TAP" nodad

sw_check "ping -6: the kernel resolves synwave by Neighbor Discovery and gets echo replies"
sw_in_ns timeout 15 ping -6 -c 3 -i 0.2 -W 2 "$SYNWAVE_IP6" >"$SW_WORKDIR/ping.txt" 2>&1 || {
  sw_tail "$SW_WORKDIR/ping.txt" 10
  sw_fail "ping -6 $SYNWAVE_IP6 failed"
}
sw_in_ns ip -6 neigh show "$SYNWAVE_IP6" dev "$SW_TAP" | grep -q "lladdr" || sw_fail "the kernel has no neighbour entry for $SYNWAVE_IP6"
sw_ok "3 echo replies; the kernel's neighbour entry: $(sw_in_ns ip -6 neigh show "$SYNWAVE_IP6" dev "$SW_TAP")"

check_body() {
  "$PYTHON" - "$1" "$BODY_BYTES" <<'PY'
import sys
body = open(sys.argv[1], "rb").read()
pattern = b"synwave-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS\n"
want = int(sys.argv[2])
expected = (pattern * (want // 64 + 1))[:want]
if body != expected:
    sys.exit(f"body is {len(body)} bytes and differs from the pattern")
PY
}

sw_check "curl -6 and curl -4 both get 200 with a ${BODY_BYTES}-byte body (one server, both families)"
for url in "http://[$SYNWAVE_IP6]/" "http://$SW_SYNWAVE_IP/"; do
  code="$(sw_in_ns timeout 15 curl -sS --max-time 10 -o "$SW_WORKDIR/body" -w '%{http_code}' "$url")" ||
    sw_fail "curl $url failed"
  [[ "$code" == 200 ]] || sw_fail "curl $url: HTTP status $code, expected 200"
  check_body "$SW_WORKDIR/body" || sw_fail "curl $url: body is wrong"
done
sw_ok "200 and the pattern over IPv6 and over IPv4"

sw_check "ab over IPv6, -n $AB_REQUESTS -c $AB_CONCURRENCY: every request completes, none fails"
AB_OUT="$SW_WORKDIR/ab.txt"
sw_in_ns timeout 90 ab -q -s 10 -n "$AB_REQUESTS" -c "$AB_CONCURRENCY" "http://[$SYNWAVE_IP6]/" >"$AB_OUT" 2>&1 || {
  sw_tail "$AB_OUT" 40
  sw_fail "ab exited with an error"
}
grep -q "^Complete requests: *$AB_REQUESTS\$" "$AB_OUT" || { sw_tail "$AB_OUT" 40; sw_fail "ab: not $AB_REQUESTS complete"; }
grep -q '^Failed requests: *0$' "$AB_OUT" || { sw_tail "$AB_OUT" 40; sw_fail "ab: failed requests"; }
grep -q "^Document Length: *$BODY_BYTES bytes" "$AB_OUT" || { sw_tail "$AB_OUT" 40; sw_fail "ab: document length"; }
sw_ok "$AB_REQUESTS complete, 0 failed ($(grep '^Requests per second' "$AB_OUT" | awk '{print $4}') req/s)"

sw_check "a Python AF_INET6 client that half-closes after its request reads the whole response and the FIN"
sw_in_ns timeout 20 "$PYTHON" - "$SYNWAVE_IP6" "$BODY_BYTES" <<'PY' || sw_fail "half-close client over IPv6 failed"
import socket, sys
host, want = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, 80), timeout=10)
assert s.family == socket.AF_INET6
s.sendall(b"GET /half HTTP/1.1\r\nHost: synwave\r\n\r\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break  # the server's FIN
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
if not head.startswith(b"HTTP/1.1 200"):
    sys.exit(f"status line: {head.splitlines()[0] if head else data[:40]!r}")
if len(body) != want:
    sys.exit(f"body is {len(body)} bytes, expected {want}")
PY
sw_ok "200 and $BODY_BYTES bytes after our FIN, then the server's FIN"

sw_check "the report counts IPv6 segments, ND answers and echoes; no failure but ab's unused connections"
sw_stop "$SERVER_PID" "$LOG"
[[ "$SW_STOP_STATUS" == 0 ]] || { sw_tail "$LOG" 30; sw_fail "synwave exited with $SW_STOP_STATUS"; }
# ab opens up to -c connections more than it needs near the end and closes them unused (SYN, ACK,
# FIN, no request): the server rightly counts those as incomplete (as in linux_clients.sh).
"$PYTHON" - "$REPORT" "$AB_REQUESTS" "$AB_CONCURRENCY" <<'PY' || sw_fail "report check failed"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counters"]
def need(cond, what):
    if not cond:
        sys.exit(what)
need(c["rx_ipv6_segments"] > 0, "no IPv6 segment counted")
need(c["nd_advertisements_sent"] >= 1, "no Neighbor Advertisement sent")
need(c["icmpv6_echo_replies_sent"] >= 3, f"echo replies {c['icmpv6_echo_replies_sent']}, expected 3")
need(c["conn_accepted"] >= int(sys.argv[2]) + 3, f"accepted {c['conn_accepted']}")
need(c["conn_failed"] == c["conn_failed_incomplete"] and c["conn_failed_incomplete"] <= int(sys.argv[3]),
     f"{c['conn_failed']} connections failed, {c['conn_failed_incomplete']} of them incomplete")
need(c["conn_completed"] >= int(sys.argv[2]) + 3, f"completed {c['conn_completed']}")
# By family: curl -4's one connection over IPv4, every other over IPv6.
need(c["conn_established"] - c["ipv6_conn_established"] == 1, "not exactly one IPv4 connection (curl -4)")
need(c["ipv6_conn_completed"] >= int(sys.argv[2]) + 2, f"IPv6 completed {c['ipv6_conn_completed']}")
need(c["drop_tcp_bad_checksum"] == 0, "bad TCP checksums received")
print(f"accepted {c['conn_accepted']}, IPv6 segments {c['rx_ipv6_segments']}, "
      f"ND answers {c['nd_advertisements_sent']}, echo replies {c['icmpv6_echo_replies_sent']}")
PY
sw_ok "report consistent"
