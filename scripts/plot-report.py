#!/usr/bin/env python3
"""Draws a synwave JSON report (--report FILE.json) into one PNG: the run's timeline and its
latency distribution.

usage: plot-report.py REPORT.json [-o OUT.png]
       plot-report.py REPORT.json REPORT.json ...     (each to its own PNG)

OUT defaults to REPORT with .png. Panels, each drawn only when the report has its data:
  - connections opened / completed / failed (and HTTP requests) per second;
  - connections held (ESTABLISHED) per role, payload received (Gbit/s) per role;
  - busy share per role;
  - connect p50 / p99 of each interval;
  - the latency distribution of connect and transaction, as the share of connections slower than
    each latency (log-log: p99 sits at 1 %, p99.9 at 0.1 %), from the histogram's buckets
    ("buckets": [[lowest_ns, highest_ns, count], ...]) when the report has them, else from its
    percentiles (p50, p90, p99, p99_9; max as a vertical line).
A flood report gets the flood's rates (averages over the run, and per second if its timeline has
them), its probes per second with their success share, the probes' connect p50 / p99 per
interval and their latency distribution.

Exit status: 0 when every PNG was written; 2 when a file is missing, unreadable or not a synwave
report (named on stderr; the other files are still drawn); 1 when matplotlib is missing (Debian:
python3-matplotlib, scripts/setup.sh).
"""
import argparse
import json
import os
import sys

PROG = "plot-report.py"


class BadReport(Exception):
    """A file that cannot be read as a synwave report."""


def load_report(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as e:
        raise BadReport(f"cannot read {path}: {e.strerror}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadReport(f"{path} is not JSON: {e}") from e
    if not isinstance(report, dict) or not isinstance(report.get("mode"), str):
        raise BadReport(f"{path} is not a synwave report (no \"mode\"; write one with --report FILE.json)")
    return report


def series(timeline, key):
    """The (t_s, value) pairs of one key of the timeline's samples, or None when no sample has it."""
    points = [(s["t_s"], s[key]) for s in timeline if isinstance(s.get(key), (int, float))]
    return points or None


def plot_series(ax, timeline, keys_labels, **style):
    """Plots each key that the timeline has, over t_s."""
    for key, label in keys_labels:
        points = series(timeline, key)
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=label, **style)


def any_positive(timeline, keys):
    return any(isinstance(s.get(k), (int, float)) and s[k] > 0 for s in timeline for k in keys)


def human(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}K"
    return f"{v:.0f}"


def us(v, digits=2):
    """A latency in microseconds, readable at any scale."""
    if v >= 1e6:
        return f"{v / 1e6:.{digits}f} s"
    if v >= 1e3:
        return f"{v / 1e3:.{digits}f} ms"
    return f"{v:.{max(1, digits - 1)}f} µs"


def us_tick(v, _pos=None):
    """An axis tick in microseconds: 10 µs, 1 ms, 2.5 s."""
    for scale, unit in ((1e6, "s"), (1e3, "ms"), (1.0, "µs")):
        if v >= scale:
            return f"{v / scale:g} {unit}"
    return f"{v:g} µs"


def count_tick(v, _pos=None):
    return human(v) if v >= 1e4 else f"{v:g}"


def share_tick(v, _pos=None):
    return f"{v * 100:g} %"


# Panels. Each takes (ax, report-part) and is listed only when its data is there, so the figure
# has as many rows as the report has things to show.

def panel_rates(ax, timeline):
    plot_series(ax, timeline, [("opened_per_s", "opened"), ("completed_per_s", "completed"),
                               ("failed_per_s", "failed")])
    # Kept connections carry several requests each: their rate then differs from completions.
    if any(s.get("http_requests_per_s", 0) > 0 and s.get("http_requests_per_s") != s.get("completed_per_s")
           for s in timeline):
        plot_series(ax, timeline, [("http_requests_per_s", "HTTP requests")], linestyle="--")
    ax.set_title("connections per second")
    ax.set_ylabel("per second")
    ax.yaxis.set_major_formatter(count_tick)


def panel_held(ax, timeline):
    plot_series(ax, timeline, [("client_established", "client"), ("server_established", "server")])
    ax.set_title("connections held (ESTABLISHED at the end of each interval)")
    ax.set_ylabel("connections")
    ax.yaxis.set_major_formatter(count_tick)


def panel_gbit(ax, timeline):
    plot_series(ax, timeline, [("client_rx_gbit_per_s", "client received"), ("server_rx_gbit_per_s", "server received")])
    ax.set_title("payload received")
    ax.set_ylabel("Gbit/s")


def panel_busy(ax, timeline):
    plot_series(ax, timeline, [("client_busy_pct", "client"), ("server_busy_pct", "server")])
    ax.set_title("busy share per role (loop passes that did work)")
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)


def panel_connect_per_interval(ax, timeline, title="connect latency of the connections established in each interval"):
    # A merged report (synwave merge) cannot merge per-interval percentiles: it keeps the highest
    # instance's, under *_max.
    plot_series(ax, timeline, [("connect_p50_us", "p50"), ("connect_p99_us", "p99"),
                               ("connect_p50_us_max", "p50, highest instance"),
                               ("connect_p99_us_max", "p99, highest instance")])
    ax.set_yscale("log")
    # Ticks at 1, 2 and 5 of each decade: these spans are often under two decades.
    from matplotlib.ticker import LogLocator
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(us_tick)
    ax.set_title(title)
    ax.set_ylabel("latency (log scale)")


def panel_probes(ax, timeline):
    plot_series(ax, timeline, [("completed_per_s", "completed"), ("failed_per_s", "failed")])
    ax.set_title("probes (legitimate connections) per second")
    ax.set_ylabel("per second")
    # The success share of the probes that ended in each interval, on its own axis.
    points = [(s["t_s"], 100.0 * s["completed_per_s"] / (s["completed_per_s"] + s["failed_per_s"]))
              for s in timeline if s.get("completed_per_s", 0) + s.get("failed_per_s", 0) > 0]
    if points:
        right = ax.twinx()
        right.plot([p[0] for p in points], [p[1] for p in points], color="black", linestyle=":", marker="x",
                   label="success %")
        right.set_ylim(0, 105)
        right.set_ylabel("success %")
        right.legend(loc="lower right", fontsize="small")


def panel_flood_totals(ax, report):
    """The flood's rates over the whole run: the report keeps totals, not per-second figures."""
    duration = report.get("duration_s") or 0
    rate = (lambda n: n / duration) if duration > 0 else (lambda n: 0.0)
    bars = [("target", report.get("target_pps", 0)),
            ("attempted", report.get("attempted_pps", 0)),
            ("sent", report.get("pps", 0)),  # what the device took
            ("tx queue full", rate(report.get("tx_queue_full", 0))),
            ("no buffer", rate(report.get("no_buffer", 0)))]
    # What came back to the flood's port besides the probes' own frames: the target's answers
    # (SYN-ACKs, RSTs) to the spoofed sources, when they are routed back to the flood.
    rx = report.get("data_plane", {}).get("rx_packets")
    if isinstance(rx, (int, float)):
        probe_rx = report.get("probes", {}).get("counters", {}).get("rx_frames", 0)
        bars.append(("answers", rate(max(0, rx - probe_rx))))
    names = [b[0] for b in bars]
    values = [b[1] for b in bars]
    ax.barh(names, values, color=["#999999", "#6699cc", "#3366aa", "#cc6633", "#cc9933", "#669966"][:len(bars)])
    for i, v in enumerate(values):
        ax.text(v, i, " " + human(v), va="center", fontsize="small")
    ax.invert_yaxis()
    ax.set_xlim(0, max(values + [1]) * 1.2)
    ax.set_title(f"flood of {report.get('kind', '?')} segments: per second, averaged over {duration:.1f} s")
    ax.set_xlabel("segments per second")
    ax.xaxis.set_major_formatter(count_tick)


def panel_flood_timeline(ax, timeline):
    keys = sorted({k for s in timeline for k, v in s.items() if k != "t_s" and isinstance(v, (int, float))})
    plot_series(ax, timeline, [(k, k) for k in keys])
    ax.set_title("flood per second")


def histogram_curve(h):
    """The share of values above each bucket's upper edge, from the buckets: x in µs, y in (0, 1]."""
    buckets = sorted((b for b in h["buckets"] if b[2] > 0), key=lambda b: b[0])
    total = sum(b[2] for b in buckets)
    if total == 0:
        return None
    xs, ys = [max(buckets[0][0], 1) / 1e3], [1.0]
    above = total
    for lowest, highest, count in buckets:
        above -= count
        if above == 0:
            break
        xs.append(max(highest, 1) / 1e3)
        ys.append(above / total)
    # The last step runs to the slowest bucket's upper edge.
    xs.append(max(buckets[-1][1], 1) / 1e3)
    ys.append(ys[-1])
    return xs, ys


PERCENTILES = [("p50", 0.5), ("p90", 0.1), ("p99", 0.01), ("p99_9", 0.001)]


def panel_latency(ax, latency, title):
    drawn_any = False
    smallest = 1e-3
    for i, kind in enumerate(("connect", "transaction")):
        h = latency.get(kind)
        if not isinstance(h, dict) or not h.get("count"):
            continue
        color = f"C{i}"
        summary = (f"{kind}: {h['count']:,}, p50 {us(h['p50'])}, p99 {us(h['p99'])}, "
                   f"p99.9 {us(h['p99_9'])}, max {us(h['max'])}")
        curve = histogram_curve(h) if h.get("buckets") else None
        if curve:
            ax.step(curve[0], curve[1], where="post", color=color, label=summary)
            smallest = min(smallest, min(curve[1]))
        else:
            points = [(max(h[key], 1e-3), share) for key, share in PERCENTILES if key in h]
            ax.plot([p[0] for p in points], [p[1] for p in points], color=color, linestyle="--", marker="o",
                    label=summary + " (percentiles only)")
        ax.axvline(max(h["max"], 1e-3), color=color, linestyle=":", linewidth=1)
        smallest = min(smallest, 1.0 / h["count"])
        drawn_any = True
    if not drawn_any:
        return
    for name, share in (("p50", 0.5), ("p99", 0.01), ("p99.9", 0.001)):
        ax.axhline(share, color="grey", linewidth=0.5)
        ax.annotate(name, (1.0, share), xycoords=("axes fraction", "data"), fontsize="small", color="grey",
                    xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(smallest / 2, 1.5)
    ax.yaxis.set_major_formatter(share_tick)
    ax.xaxis.set_major_formatter(us_tick)
    ax.set_xlabel("latency (log scale); dotted line: max")
    ax.set_ylabel("slower than this (log scale)")
    ax.legend(loc="lower left", fontsize="small")
    ax.set_title(title)


def has_latency(latency):
    return isinstance(latency, dict) and any(isinstance(h, dict) and h.get("count") for h in latency.values())


def panels_of(report):
    """The panels this report has data for: (function, argument, whether its x axis is time)."""
    panels = []
    if report["mode"] == "flood":
        panels.append((panel_flood_totals, report, False))
        timeline = report.get("timeline") or []
        if timeline:
            panels.append((panel_flood_timeline, timeline, True))
        probes = report.get("probes") or {}
        ptl = probes.get("timeline") or []
        if ptl:
            panels.append((panel_probes, ptl, True))
            if series(ptl, "connect_p99_us"):
                panels.append((lambda ax, t: panel_connect_per_interval(ax, t, "probes' connect latency per interval"),
                               ptl, True))
        if has_latency(probes.get("latency")):
            panels.append((lambda ax, l: panel_latency(ax, l, "probes' latency distribution"), probes["latency"], False))
        return panels
    timeline = report.get("timeline") or []
    if timeline:
        panels.append((panel_rates, timeline, True))
        if series(timeline, "client_established") or series(timeline, "server_established"):
            panels.append((panel_held, timeline, True))
        if any_positive(timeline, ("client_rx_gbit_per_s", "server_rx_gbit_per_s")):
            panels.append((panel_gbit, timeline, True))
        if series(timeline, "client_busy_pct") or series(timeline, "server_busy_pct"):
            panels.append((panel_busy, timeline, True))
        if series(timeline, "connect_p99_us") or series(timeline, "connect_p99_us_max"):
            panels.append((panel_connect_per_interval, timeline, True))
    if has_latency(report.get("latency")):
        panels.append((lambda ax, l: panel_latency(ax, l, "latency distribution over the whole run"),
                       report["latency"], False))
    return panels


def title_of(report, path):
    name = os.path.basename(path)
    mode = report["mode"]
    if mode == "flood":
        line = (f"synwave flood ({name}): {human(report.get('pps', 0))} pps sent of {human(report.get('target_pps', 0))} "
                f"target, {report.get('duration_s', 0):.1f} s")
        probes = report.get("probes")
        if probes:
            line += (f"; probes {probes.get('completed', 0):,} of {probes.get('completed', 0) + probes.get('failed', 0):,}"
                     f" succeeded ({probes.get('success_pct', 0):.1f} %)")
        return line
    return (f"synwave {mode} ({name}): {report.get('connections_completed', 0):,} completed, "
            f"{report.get('connections_failed', 0):,} failed, {human(report.get('cps', 0))} connections/s over "
            f"{report.get('active_s', report.get('duration_s', 0)):.1f} s")


def draw(report, path, out):
    import matplotlib
    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    panels = panels_of(report)
    rows = max(1, len(panels))
    height = 1.2 + 2.9 * rows  # inches
    # Fixed margins (the top and bottom ones in inches): a computed layout (tight or constrained)
    # would double the drawing time.
    fig, axes = plt.subplots(rows, 1, figsize=(11, height), squeeze=False,
                             gridspec_kw={"left": 0.12, "right": 0.93, "top": 1 - 0.85 / height,
                                          "bottom": 0.5 / height, "hspace": 0.55})
    try:
        draw_panels(fig, [row[0] for row in axes], panels, title_of(report, path), height)
        fig.savefig(out, dpi=90)
    finally:
        plt.close(fig)


def draw_panels(fig, axes, panels, title, height):
    if not panels:
        axes[0].axis("off")
        axes[0].text(0.5, 0.5, "nothing to draw: the report has no timeline (--stats-interval 0) and no latency",
                     ha="center", va="center")
    time_axes = []
    for ax, (func, arg, over_time) in zip(axes, panels):
        func(ax, arg)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0] and not ax.get_legend():
            ax.legend(loc="upper left", fontsize="small")
        if over_time:
            time_axes.append(ax)
    # The time panels share one x range: the run's seconds.
    for ax in time_axes:
        ax.set_xlim(left=0)
        ax.set_xlabel("seconds since the start of the run")
    fig.suptitle(title, y=1 - 0.2 / height)


def main(argv):
    parser = argparse.ArgumentParser(prog=PROG, description="Draw a synwave JSON report's timeline and latency into a PNG.")
    parser.add_argument("reports", nargs="+", metavar="REPORT.json")
    parser.add_argument("-o", "--output", metavar="OUT.png", help="the PNG to write (one report only; default: REPORT with .png)")
    args = parser.parse_args(argv)
    if args.output and len(args.reports) > 1:
        parser.error("-o names one PNG: give one report with it")
    # Every file is read before matplotlib is loaded (a second or so): a wrong name fails fast. A
    # bad file among several is named and skipped; the others are still drawn.
    status = 0
    loaded = []
    for path in args.reports:
        try:
            loaded.append((path, load_report(path)))
        except BadReport as e:
            print(f"{PROG}: {e}", file=sys.stderr)
            status = 2
    if not loaded:
        return status
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"{PROG}: matplotlib is missing: install python3-matplotlib (scripts/setup.sh does)", file=sys.stderr)
        return 1
    for path, report in loaded:
        out = args.output or os.path.splitext(path)[0] + ".png"
        try:
            draw(report, path, out)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            # A file with "mode" but not the layout this script knows (another program's JSON, a
            # hand-edited report): named, not a traceback.
            print(f"{PROG}: {path}: not a report this script can read ({type(e).__name__}: {e})", file=sys.stderr)
            status = 2
            continue
        except OSError as e:
            print(f"{PROG}: cannot write {out}: {e.strerror}", file=sys.stderr)
            status = 2
            continue
        print(f"{PROG}: wrote {out}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
