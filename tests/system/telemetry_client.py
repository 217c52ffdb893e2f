#!/usr/bin/python3
"""Queries a running synwave through DPDK's telemetry socket.

The protocol (DPDK telemetry v2): connect a SOCK_SEQPACKET socket to
/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2, read the JSON greeting, send a command string,
read one JSON reply {"<command>": <value>}.

Usage:
  telemetry_client.py PREFIX query COMMAND
      prints the command's value as JSON.
  telemetry_client.py PREFIX wait-until PYTHON_CONDITION TIMEOUT_S
      polls /synwave/stats until the condition (over `s`, the stats dict) holds; exit 1 on timeout.
  telemetry_client.py PREFIX check-loopback [TIMEOUT_S]
      the telemetry system test: waits for the socket, queries /synwave/stats until connections
      complete, checks /synwave/config describes a loopback run; exit 1 on any mismatch.
"""

import json
import os
import socket
import sys
import time


def socket_path(prefix):
    return os.path.join("/var/run/dpdk", prefix, "dpdk_telemetry.v2")


def query(prefix, command):
    """Sends one command on a fresh connection; returns the reply's value."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(5)
        sock.connect(socket_path(prefix))
        greeting = json.loads(sock.recv(65536).decode())
        if "version" not in greeting:
            raise RuntimeError(f"unexpected greeting {greeting!r}")
        sock.send(command.encode())
        reply = json.loads(sock.recv(1 << 20).decode())
    if command not in reply:
        raise RuntimeError(f"reply to {command} lacks the command key: {reply!r}")
    return reply[command]


def wait_for_socket(prefix, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return query(prefix, "/")
        except (OSError, RuntimeError, ValueError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def wait_until(prefix, condition, timeout):
    deadline = time.monotonic() + timeout
    wait_for_commands(prefix, ("/synwave/stats",), timeout)
    while True:
        stats = query(prefix, "/synwave/stats")
        if eval(condition, {}, {"s": stats}):  # noqa: S307 - the tests' own expressions
            return stats
        if time.monotonic() >= deadline:
            raise TimeoutError(f"'{condition}' still false after {timeout}s; last stats: {json.dumps(stats)}")
        time.sleep(0.1)


def fail(message):
    print(f"telemetry_client: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for_commands(prefix, names, timeout):
    """The socket comes up with EAL; synwave registers its commands later, once its ports run."""
    deadline = time.monotonic() + timeout
    commands = wait_for_socket(prefix, timeout)
    while not all(name in commands for name in names):
        if time.monotonic() >= deadline:
            missing = [name for name in names if name not in commands]
            raise TimeoutError(f"{missing} not registered after {timeout}s; registered: {commands}")
        time.sleep(0.1)
        commands = query(prefix, "/")
    return commands


def check_loopback(prefix, timeout):
    commands = wait_for_commands(prefix, ("/synwave/stats", "/synwave/config"), timeout)
    print(f"telemetry: {len(commands)} commands registered, /synwave/stats and /synwave/config among them")

    stats = wait_until(prefix, "s.get('conn_completed', 0) > 0", timeout)
    for key in ("conn_completed", "conn_opened", "conn_accepted", "rx_packets", "tx_packets",
                "connections", "connections_completed", "connections_failed", "time_wait"):
        if key not in stats:
            fail(f"/synwave/stats lacks '{key}': {sorted(stats)}")
        if not isinstance(stats[key], int):
            fail(f"/synwave/stats '{key}' is not an integer: {stats[key]!r}")
    print(f"telemetry: stats conn_completed={stats['conn_completed']} conn_opened={stats['conn_opened']} "
          f"rx_packets={stats['rx_packets']}")
    if stats["conn_opened"] == 0 or stats["rx_packets"] == 0:
        fail("stats show traffic completing but nothing opened or received")
    if stats["connections_failed"] != 0:
        fail(f"connections_failed = {stats['connections_failed']} in a clean loopback run")

    # The counters only grow while the run goes on.
    later = wait_until(prefix, f"s['conn_completed'] > {stats['conn_completed']}", timeout)
    print(f"telemetry: conn_completed grew to {later['conn_completed']}")

    config = query(prefix, "/synwave/config")
    print(f"telemetry: config {json.dumps(config, sort_keys=True)}")
    expected = {"mode": "loopback", "dispatch": "ring pair"}
    for key, value in expected.items():
        if config.get(key) != value:
            fail(f"/synwave/config {key} = {config.get(key)!r}, expected {value!r}")
    if json.loads(config.get("dst", "null")) != ["198.18.0.2:80"]:
        fail(f"/synwave/config dst = {config.get('dst')!r}, expected [\"198.18.0.2:80\"]")
    if json.loads(config.get("listen", "null")) != [80]:
        fail(f"/synwave/config listen = {config.get('listen')!r}, expected [80]")
    if "capture" not in config or not config["capture"].endswith(".pcapng"):
        fail(f"/synwave/config capture = {config.get('capture')!r}, expected the --capture file")
    print("telemetry: config matches the command line (mode loopback, dst, listen, capture)")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    prefix, action = argv[1], argv[2]
    try:
        if action == "query" and len(argv) == 4:
            print(json.dumps(query(prefix, argv[3]), sort_keys=True))
        elif action == "wait-until" and len(argv) == 5:
            print(json.dumps(wait_until(prefix, argv[3], float(argv[4])), sort_keys=True))
        elif action == "check-loopback":
            check_loopback(prefix, float(argv[3]) if len(argv) > 3 else 10.0)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OSError, RuntimeError, ValueError, TimeoutError) as error:
        fail(f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
