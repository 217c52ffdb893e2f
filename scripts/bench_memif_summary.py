#!/usr/bin/env python3
"""The summary of scripts/bench-memif.sh: reads every run it made, writes memif-DATE.json and
memif-DATE.md in OUT_DIR (the table is also printed). Exits 3 when a repetition measured nothing.

usage: bench_memif_summary.py RUNS_DIR OUT_DIR STAMP COMMIT LOAD_BEFORE LOAD_AFTER REPS DURATION
                              DPERF_RATE CONCURRENCY CASE...
       bench_memif_summary.py --ladder-done RUNS_DIR RATE...   exit 0 once the ladder should stop
       bench_memif_summary.py --ladder-best RUNS_DIR RATE...   print the rate to use
The ladder's rates, if one ran, come in the environment (DPERF_LADDER_RUN).
"""
import json
import os
import re
import sys

FRAMES_PER_CONNECTION = 3  # each way: SYN, request, FIN+ACK in; SYN-ACK, response+FIN, ACK out


def median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2] if values else 0.0


def synwave_side(report_path, role):
    """The steady seconds of a synwave run: its per-second samples at 80 % of its best one or more
    (a server facing dperf idles through dperf's start-up and ramp); over them the median rate,
    the mean busy share of the role, and the busy nanoseconds per completed connection."""
    r = json.load(open(report_path))
    timeline = r.get("timeline", [])
    best = max((t["completed_per_s"] for t in timeline), default=0.0)
    steady = [t for t in timeline if best > 0 and t["completed_per_s"] >= 0.8 * best]
    rate = sum(t["completed_per_s"] for t in steady) / max(1, len(steady))
    busy = sum(t[f"{role}_busy_pct"] for t in steady) / max(1, len(steady))
    return {"cps_median_s": median([t["completed_per_s"] for t in steady]), "cps_report": r["cps"],
            "completed": r["connections_completed"], "failed": r["connections_failed"], "busy_pct": busy,
            "ns_per_connection": busy / 100.0 * 1e9 / rate if rate > 0 else 0.0, "steady_seconds": len(steady)}


def dperf_seconds(log_path):
    """dperf's per-second blocks ("seconds N ... name value ..."): a dict per second."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", open(log_path, errors="replace").read())
    rows = []
    for block in text.split("seconds ")[1:]:
        tokens = block.split()
        if not tokens or not tokens[0].isdigit():
            continue
        row = {"s": int(tokens[0])}
        for name, value in zip(tokens[1:], tokens[2:]):
            if re.fullmatch(r"[A-Za-z0-9()]+", name) and re.fullmatch(r"[\d,.]+", value):
                row.setdefault(name, float(value.replace(",", "")))
        rows.append(row)
    return rows


def dperf_side(log_path, connections_key):
    """Averages over the steady seconds, chosen as for synwave: those at 80 % of the best or more
    (dperf's client ramps for 10 s; its server idles until a client comes)."""
    seconds = dperf_seconds(log_path)
    best = max((r.get(connections_key, 0.0) for r in seconds), default=0.0)
    rows = [r for r in seconds if best > 0 and r.get(connections_key, 0.0) >= 0.8 * best]
    avg = lambda k: sum(r.get(k, 0.0) for r in rows) / max(1, len(rows))
    cps = avg(connections_key)
    cpu = avg("cpuUsage")
    return {"cps": cps, "busy_pct": cpu, "ns_per_connection": cpu / 100.0 * 1e9 / cps if cps > 0 else 0.0,
            "http_get_per_s": avg("httpGet"), "http_2xx_per_s": avg("http2XX"), "syn_retransmits_per_s": avg("synRt"),
            "socket_errors_per_s": avg("skErr"), "steady_seconds": len(rows)}


def ladder(runs, rates):
    """dperf's pair at each rate of the ladder (one run each): its client's steady averages."""
    return [dict(rate=rate, **dperf_side(os.path.join(runs, f"dperf-ladder-{rate}-1-dperf-client.log"), "http2XX"))
            for rate in rates]


def ladder_done(rungs):
    """The ladder stops once a rate completes fewer connections than the rate before it."""
    return len(rungs) >= 2 and rungs[-1]["cps"] < rungs[-2]["cps"]


def ladder_best(rungs):
    """dperf's best sustained rate: the most connections completed with no socket errors (the
    lowest rate's run when every rate had some)."""
    clean = [r for r in rungs if r["socket_errors_per_s"] == 0] or rungs[:1]
    return max(clean, key=lambda r: r["cps"])["rate"]


def link_result(log):
    """link_bench's JSON line: its last line, unless EAL logged after it (a memif PMD error at
    close, 'EAL: Error: Invalid memory', seen when both ends close together)."""
    return json.loads([line for line in open(log).read().splitlines() if line.startswith("{")][-1])


def main():
    (runs, out_dir, stamp, commit, load_before, load_after, reps, duration, dperf_rate, concurrency,
     *cases) = sys.argv[1:]
    reps, duration = int(reps), float(duration)
    path = lambda case, rep, name: os.path.join(runs, f"{case}-{rep}-{name}")
    result = {"date": stamp, "commit": commit, "load_average_before": float(load_before),
              "load_average_after": float(load_after), "reps": reps, "duration_s": duration,
              "dperf_rate": dperf_rate, "synwave_client_concurrency": int(concurrency),
              "link": "net_memif, rsize=14, two processes, client lcore 0, server lcore 1, --no-huge",
              "shmem_enabled": os.environ.get("MEMIF_SHMEM_ENABLED", "unknown"),
              "synwave_flags": os.environ.get("SYNWAVE_FLAGS", ""),
              "cases": {}}
    ladder_rates = os.environ.get("DPERF_LADDER_RUN", "").split()
    if ladder_rates:
        result["dperf_ladder"] = ladder(runs, ladder_rates)
    empty = []
    for case in cases:
        per_rep = []
        for rep in range(1, reps + 1):
            if case == "link":
                client = link_result(path(case, rep, "client.log"))
                server = link_result(path(case, rep, "server.log"))
                per_rep.append({"frames_per_s": client["pps"], "client": client, "server": server,
                                "cps_floor": client["pps"] / FRAMES_PER_CONNECTION})
            elif case in ("synwave-pair", "synwave-pair-ipv6"):
                client = synwave_side(path(case, rep, "client.json"), "client")
                server = synwave_side(path(case, rep, "server.json"), "server")
                per_rep.append({"cps": client["cps_median_s"], "client": client, "server": server})
            elif case == "dperf-pair":
                client = dperf_side(path(case, rep, "dperf-client.log"), "http2XX")
                server = dperf_side(path(case, rep, "dperf-server.log"), "http2XX")
                per_rep.append({"cps": client["cps"], "client": client, "server": server})
            elif case == "synwave-to-dperf":
                client = synwave_side(path(case, rep, "client.json"), "client")
                server = dperf_side(path(case, rep, "dperf-server.log"), "http2XX")
                per_rep.append({"cps": client["cps_median_s"], "client": client, "server": server})
            elif case == "dperf-to-synwave":
                client = dperf_side(path(case, rep, "dperf-client.log"), "http2XX")
                server = synwave_side(path(case, rep, "server.json"), "server")
                answered = client["http_2xx_per_s"] / client["http_get_per_s"] if client["http_get_per_s"] > 0 else 0.0
                per_rep.append({"cps": client["cps"], "answered_share": answered, "client": client, "server": server})
        key = "frames_per_s" if case == "link" else "cps"
        # A repetition that completed nothing (a side that never came up) would drag the median to
        # the next run down: it is left out, named in the table, and the run's logs are kept.
        measured = [i for i in range(len(per_rep)) if per_rep[i][key] > 0]
        empty += [f"{case} {i + 1}" for i in range(len(per_rep)) if i not in measured]
        ordered = sorted(measured or range(len(per_rep)), key=lambda i: per_rep[i][key])
        result["cases"][case] = {"median": per_rep[ordered[(len(ordered) - 1) // 2]], "runs": per_rep}

    human = lambda v: f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}K"
    lines = [f"{stamp}, commit {commit}, {reps} x {duration:g} s per case (median repetition), load average "
             f"{load_before} before / {load_after} after; "
             + (f"dperf open loop at {dperf_rate}; " if any(c.startswith("dperf") for c in cases) else "") + "synwave client "
             f"--concurrency {concurrency}; memif's shared memory "
             + ("on 4 KiB pages" if result["shmem_enabled"] in ("never", "deny") else "on huge pages where the kernel gives them")
             + f" (shmem_enabled {result['shmem_enabled']})"
             + (f"; every synwave process with {result['synwave_flags']}" if result["synwave_flags"] else ""), "",
             *([] if not ladder_rates else [
                 "dperf's rate chosen by a ladder, one dperf pair run at each open-loop rate until one completed less: "
                 + ", ".join(f"{r['rate']} -> {human(r['cps'])}/s ({human(r['syn_retransmits_per_s'])} SYN "
                             f"retransmissions/s, {r['socket_errors_per_s']:.0f} socket errors/s)"
                             for r in result["dperf_ladder"]) + f"; used: {dperf_rate}.", ""]),
             "| case | connections/s | client busy | client ns/connection | server busy | server ns/connection |",
             "|---|---:|---:|---:|---:|---:|"]
    names = {"synwave-pair": "synwave client -> synwave server",
             "synwave-pair-ipv6": "synwave client -> synwave server, over IPv6",
             "dperf-pair": "dperf client -> dperf server",
             "synwave-to-dperf": "synwave client -> dperf server",
             "dperf-to-synwave": "dperf client -> synwave server (--close client)"}
    c = result["cases"]
    for case in ("synwave-pair", "synwave-pair-ipv6", "dperf-pair", "synwave-to-dperf", "dperf-to-synwave"):
        if case not in c:
            continue
        m = c[case]["median"]
        extra = f" ({100 * m['answered_share']:.2f} % of requests answered)" if "answered_share" in m else ""
        lines.append(f"| {names[case]} | {human(m['cps'])}{extra} | {m['client']['busy_pct']:.0f} % | "
                     f"{m['client']['ns_per_connection']:.0f} | {m['server']['busy_pct']:.0f} % | "
                     f"{m['server']['ns_per_connection']:.0f} |")
    link = c["link"]["median"] if "link" in c else None
    lines += [] if link is None else ["", f"The link alone (bench/link_bench, a forwarding loop with no TCP): {human(link['frames_per_s'])} "
              f"frames/s each way, busy {link['client']['busy_pct']:.0f} % / {link['server']['busy_pct']:.0f} %, "
              f"{link['client']['ns_per_frame']:.0f} / "
              f"{link['server']['ns_per_frame']:.0f} busy ns per frame; at {FRAMES_PER_CONNECTION} frames each way per "
              f"connection, no pair can pass {human(link['cps_floor'])} connections/s on it."]
    ratios = {}
    if "synwave-pair-ipv6" in c and "synwave-pair" in c and c["synwave-pair"]["median"]["cps"]:
        ratios["ipv6_vs_ipv4_pair_cps"] = c["synwave-pair-ipv6"]["median"]["cps"] / c["synwave-pair"]["median"]["cps"]
        lines += ["", f"IPv6 / IPv4 (synwave pair, connections/s): {ratios['ipv6_vs_ipv4_pair_cps']:.2f}."]
    if "dperf-pair" in c:
        sp, dp = c["synwave-pair"]["median"], c["dperf-pair"]["median"]
        ratios["pair_cps"] = sp["cps"] / dp["cps"] if dp["cps"] else None
        ratios["client_cost"] = sp["client"]["ns_per_connection"] / dp["client"]["ns_per_connection"] if dp["client"]["ns_per_connection"] else None
        ratios["server_cost"] = sp["server"]["ns_per_connection"] / dp["server"]["ns_per_connection"] if dp["server"]["ns_per_connection"] else None
        if "dperf-to-synwave" in c:
            ds = c["dperf-to-synwave"]["median"]
            ratios["server_busy_under_dperf_vs_dperf_server"] = ds["server"]["busy_pct"] / dp["server"]["busy_pct"] if dp["server"]["busy_pct"] else None
        if "synwave-to-dperf" in c:
            ratios["synwave_client_vs_dperf_pair"] = c["synwave-to-dperf"]["median"]["cps"] / dp["cps"] if dp["cps"] else None
        fmt = lambda v: f"{v:.2f}" if v is not None else "n/a"
        lines += ["", f"Ratios (synwave / dperf): pair connections/s {fmt(ratios['pair_cps'])}; ns per connection, "
                  f"client side {fmt(ratios['client_cost'])}, server side {fmt(ratios['server_cost'])}"
                  + (f"; synwave client against dperf's server / dperf pair {fmt(ratios['synwave_client_vs_dperf_pair'])}"
                     if "synwave_client_vs_dperf_pair" in ratios else "")
                  + (f"; synwave server's busy under dperf's client / dperf server's busy in its own pair "
                     f"{fmt(ratios['server_busy_under_dperf_vs_dperf_server'])}"
                     if "server_busy_under_dperf_vs_dperf_server" in ratios else "") + "."]
    result["ratios"] = ratios
    result["empty_repetitions"] = empty
    if empty:
        lines += ["", f"Repetitions that measured nothing, left out of the medians (their logs are kept): {', '.join(empty)}."]
    table = "\n".join(lines) + "\n"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"memif-{stamp}.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, f"memif-{stamp}.md"), "w") as f:
        f.write(table)
    print(table)
    print(f"wrote {out_dir}/memif-{stamp}.json and .md")
    return 3 if empty else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--ladder-done"]:
        sys.exit(0 if ladder_done(ladder(sys.argv[2], sys.argv[3:])) else 1)
    if sys.argv[1:2] == ["--ladder-best"]:
        print(ladder_best(ladder(sys.argv[2], sys.argv[3:])))
        sys.exit(0)
    sys.exit(main())
