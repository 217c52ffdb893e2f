#!/usr/bin/python3
"""Legitimate clients during a flood: kernel TCP connections opened at a fixed rate, each timed.

Usage: legit_clients.py HOST PORT CONNECTIONS RATE [TIMEOUT_S]
HOST is an IPv4 address or an IPv6 one (2001:db8::2, no brackets): the family follows it.
Connection i starts at i / RATE seconds (an open-loop schedule: a slow server does not slow the
arrivals down, as with real users). Each one: connect() (timed: SYN to the end of the
handshake, SYN retransmissions included), GET /, read until the server closes, expect a
"HTTP/1.1 200" status line. A connection that fails at any step, or takes longer than TIMEOUT_S
(default 10) in all, counts as failed with its reason.
Prints one JSON object: attempted, ok, failed, errors by reason, connect latency percentiles
(milliseconds, over the connections that connected), and the seconds the schedule took.
"""

import concurrent.futures
import json
import socket
import sys
import threading
import time


def one(host, port, timeout):
    started = time.monotonic()
    try:
        ipv6 = ":" in host
        with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect((host, port))
            connect_ms = (time.monotonic() - started) * 1000.0
            s.settimeout(max(0.1, timeout - (time.monotonic() - started)))
            authority = f"[{host}]" if ipv6 else host
            s.sendall(f"GET / HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        return None, type(e).__name__ + (f" errno {e.errno}" if e.errno else "")
    if not data.startswith(b"HTTP/1.1 200 "):
        return connect_ms, f"bad response {data[:40]!r}"
    return connect_ms, None


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return round(sorted_values[k], 3)


def main(argv):
    host, port, count, rate = argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    timeout = float(argv[5]) if len(argv) > 5 else 10.0
    lock = threading.Lock()
    latencies = []
    errors = {}
    ok = 0

    def job():
        nonlocal ok
        connect_ms, error = one(host, port, timeout)
        with lock:
            if connect_ms is not None:
                latencies.append(connect_ms)
            if error is None:
                ok += 1
            else:
                errors[error] = errors.get(error, 0) + 1

    # Enough threads for every connection that can be in flight at once at this rate.
    workers = max(8, min(512, int(rate * timeout) + 8))
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(job)
        schedule_s = time.monotonic() - start
    latencies.sort()
    print(json.dumps({
        "attempted": count,
        "ok": ok,
        "failed": count - ok,
        "errors": errors,
        "rate": rate,
        "schedule_s": round(schedule_s, 3),
        "connect_ms": {
            "samples": len(latencies),
            "p50": percentile(latencies, 50),
            "p90": percentile(latencies, 90),
            "p99": percentile(latencies, 99),
            "max": round(latencies[-1], 3) if latencies else None,
        },
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
