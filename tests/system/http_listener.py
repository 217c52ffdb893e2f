#!/usr/bin/python3
"""A small HTTP/1.1 server on the kernel's TCP, for synwave's client mode to connect to.

Single-threaded with selectors: accepts, reads each request head, answers with a small 200 and
closes (the server closes first). Counts what happened; on SIGTERM or SIGINT writes the counts as
JSON to STATS_FILE and exits.

Usage: http_listener.py ADDRESS PORT STATS_FILE
Prints "listening" on stdout once it accepts connections.
"""

import errno
import json
import selectors
import signal
import socket
import sys

BODY = b"hello from the kernel\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: kernel-test\r\nContent-Length: " + str(len(BODY)).encode() +
            b"\r\nConnection: close\r\n\r\n" + BODY)
MAX_HEAD = 8192


def main():
    address, port, stats_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stats = {"accepted": 0, "requests": 0, "responded": 0, "errors": 0, "error_kinds": {},
             "bad_requests": 0, "closed_without_request": 0, "paths": {}}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def error(kind):
        stats["errors"] += 1
        stats["error_kinds"][kind] = stats["error_kinds"].get(kind, 0) + 1

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(4096)
    listener.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    buffers = {}
    print("listening", flush=True)

    def finish(conn):
        sel.unregister(conn)
        buffers.pop(conn, None)
        conn.close()

    while not stopping:
        try:
            events = sel.select(timeout=0.2)
        except InterruptedError:
            continue
        for key, _ in events:
            if key.data is None:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    stats["accepted"] += 1
                    conn.setblocking(False)
                    buffers[conn] = b""
                    sel.register(conn, selectors.EVENT_READ, "conn")
                continue
            conn = key.fileobj
            try:
                chunk = conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                error(errno.errorcode.get(e.errno, str(e.errno)))
                finish(conn)
                continue
            if not chunk:
                stats["closed_without_request"] += 1
                error("closed_without_request")
                finish(conn)
                continue
            data = buffers[conn] + chunk
            if b"\r\n\r\n" not in data:
                if len(data) > MAX_HEAD:
                    stats["bad_requests"] += 1
                    error("head_too_long")
                    finish(conn)
                else:
                    buffers[conn] = data
                continue
            stats["requests"] += 1
            request_line = data.split(b"\r\n", 1)[0].decode(errors="replace")
            parts = request_line.split(" ")
            if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
                stats["bad_requests"] += 1
                error("bad_request_line")
            else:
                stats["paths"][parts[1]] = stats["paths"].get(parts[1], 0) + 1
            try:
                # A small response fits the socket buffer: one send is enough.
                if conn.send(RESPONSE) != len(RESPONSE):
                    error("short_send")
                else:
                    stats["responded"] += 1
            except OSError as e:
                error(errno.errorcode.get(e.errno, str(e.errno)))
            finish(conn)

    stats["open_at_exit"] = len(buffers)
    with open(stats_file, "w") as out:
        json.dump(stats, out, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
