#!/usr/bin/python3
"""Many HTTP GETs over fresh kernel TCP connections, a few threads at a time; exact accounting.

Usage: http_get_many.py HOST PORT CONNECTIONS THREADS BODY_BYTES
Each connection: connect, GET /, read until the server closes, check the status line and the
body length. Prints a JSON summary; exits 1 if any connection failed.
"""

import concurrent.futures
import json
import socket
import sys


def one(host, port, body_bytes):
    try:
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.1 200 "):
        return f"bad response head {head[:60]!r}"
    if len(body) != body_bytes:
        return f"body {len(body)} bytes, expected {body_bytes}"
    return None


def main(argv):
    host, port, count, threads, body_bytes = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5])
    errors = {}
    ok = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for result in pool.map(lambda _: one(host, port, body_bytes), range(count)):
            if result is None:
                ok += 1
            else:
                errors[result] = errors.get(result, 0) + 1
    print(json.dumps({"connections": count, "ok": ok, "errors": errors}, sort_keys=True))
    return 0 if ok == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
