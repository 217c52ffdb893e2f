#!/usr/bin/env bash
# Flood resilience: how many legitimate connections succeed, and how fast they connect, while a
# SYN flood of increasing rate hits a synwave server, for each SYN-cookie mode. Two links:
#
# LINK=memif: the flood (lcore 0) and the server (lcore 1) joined by net_memif, which carries
# millions of frames per second; the legitimate connections are the flood's own probes
# (--probe-rate LEGIT_RATE from 198.18.1.2, HTTP GET, LEGIT_TIMEOUT), on the flood's lcore and
# queue. RATES default to 0 0.5M 1M 2M 5M 10M 20M pps (rate 0: a flood of 1 SYN/s beside the
# probes).
#
# LINK=linux: the same flood and probes (lcore 0) through net_af_packet on one end of a veth
# pair whose other end is the Linux kernel's (198.18.2.1), where tests/system/http_listener.py
# serves; MODES are net.ipv4.tcp_syncookies values (default "1 2"), set in the namespace. The
# spoofed sources are 198.19.0.0/16, routed by the kernel to a gateway whose MAC is the flood
# port's (a permanent neighbour), so SYN-ACKs need no ARP. What the kernel spends is its softirq
# share of all CPUs, from /proc/stat over the run. Default RATES 0 50K 100K 200K 500K 1M pps.
#
# LINK=tap (default): one network namespace holds one Ethernet segment, a Linux bridge
# (198.18.0.1: the kernel, home of the legitimate clients) with two net_tap ports, each a synwave
# process:
#   - the server, 198.18.0.2:80, lcore 0: --syn-cookies MODE, --syn-backlog SYN_BACKLOG,
#     answering GET / with a 64-byte body and closing;
#   - the flood, 198.18.0.3, lcore 1: SYNs with Linux's options from spoofed sources
#     198.19.0.1-198.19.255.254, at the run's rate (no flood process for rate 0).
# Each run (one mode, one rate, one of REPEATS) starts a fresh server, starts the flood, waits a second so the
# flood fills the SYN backlog, then opens LEGIT_RATE kernel connections per second for
# LEGIT_SECONDS (tests/system/legit_clients.py: an open-loop schedule; each connection is timed
# from connect() to the end of the handshake, then sends GET / and must read a whole 200 response
# within LEGIT_TIMEOUT seconds to count as a success).
#
# Writes, in OUT_DIR (default bench/results):
#   flood-DATE.json         every run: parameters, legitimate outcome and connect latency,
#                           the flood's achieved rate, the server's listener counters; and per
#                           mode and rate the medians over the repeats
#   flood-DATE.md           the table of medians (also printed)
#   flood-resilience.png    success % and p99 connect latency against flood rate, a line per mode
#
# Every run's own reports (server.json, flood.json) live in the scratch directory, deleted at the
# end; with SW_KEEP=1 it is kept and each report is drawn beside it (scripts/plot-report.py:
# per-second rates, probes, latency distribution) once all runs are done.
#
# Environment: BUILD_DIR (default build), MODES ("off on-overflow always"), RATES (flood pps,
# "0 5000 10000 20000 40000"), REPEATS (3), LEGIT_RATE (200), LEGIT_SECONDS (5), LEGIT_TIMEOUT (5),
# SYN_BACKLOG (128), OUT_DIR; with LINK=memif, RSIZE (log2 of memif's ring, default 12) and BSIZE
# (its buffer size, memif's default 2048; the probes' HTTP frames need about 210 bytes, and synwave
# drops chained frames). A deeper ring answers more of a flood but queues the probes behind it:
# RSIZE=14 BSIZE=256 answered 7.5M SYN/s against 6.8-7.2M and moved the probes' median connect
# from 0.5 to 2.0 ms. Needs root (namespace, net_tap), gnuplot for the plot.
# For your own lab only: every address is in 198.18.0.0/15 and never leaves the namespace.
# shellcheck source=tests/system/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/system/lib.sh"

LINK="${LINK:-tap}"
case "$LINK" in
  tap) DEFAULT_RATES="0 5000 10000 20000 40000" ;;
  memif) DEFAULT_RATES="0 500000 1000000 2000000 5000000 10000000 20000000" ;;
  linux) DEFAULT_RATES="0 50000 100000 200000 500000 1000000" ;;
  *) echo "flood-experiment: LINK is tap, memif or linux, not '$LINK'" >&2; exit 2 ;;
esac
DEFAULT_MODES=$([[ "$LINK" == linux ]] && echo "1 2" || echo "off on-overflow always")
MODES="${MODES:-$DEFAULT_MODES}"
RATES="${RATES:-$DEFAULT_RATES}"
REPEATS="${REPEATS:-3}"
LEGIT_RATE="${LEGIT_RATE:-200}"
LEGIT_SECONDS="${LEGIT_SECONDS:-5}"
LEGIT_TIMEOUT="${LEGIT_TIMEOUT:-5}"
SYN_BACKLOG="${SYN_BACKLOG:-128}"
OUT_DIR="${OUT_DIR:-$SW_REPO_ROOT/bench/results}"
readonly LINK MODES RATES REPEATS LEGIT_RATE LEGIT_SECONDS LEGIT_TIMEOUT SYN_BACKLOG OUT_DIR

readonly SERVER_IP=198.18.0.2
readonly FLOOD_IP=198.18.0.3
readonly SPOOFED=198.19.0.1-198.19.255.254
readonly SERVER_TAP=swsrv0
readonly FLOOD_TAP=swfld0
LEGIT_CONNECTIONS=$((LEGIT_RATE * LEGIT_SECONDS))
readonly LEGIT_CONNECTIONS

runs=0
for _ in $MODES; do for _ in $RATES; do runs=$((runs + REPEATS)); done; done
sw_begin $((120 + runs * (90 + LEGIT_SECONDS + LEGIT_TIMEOUT)))
sw_require ip gnuplot
[[ "$LINK" == linux ]] && sw_require ethtool
mkdir -p "$OUT_DIR"
RUNS_DIR="$SW_WORKDIR/runs"
mkdir -p "$RUNS_DIR"

sw_netns
[[ "$LINK" == tap ]] && sw_bridge kernel


# Waits until a tap of a process that has exited is gone, so that the next run can create it.
wait_tap_gone() {
  sw_wait_for 10 "$1 gone" sh -c "! ip -n '$SW_NS' link show '$1'" || sw_fail "$1 still exists after its process exited"
}

# one_run MODE RATE REPEAT: server, flood (unless RATE is 0), legitimate clients; results in RUNS_DIR.
one_run() {
  local mode="$1" rate="$2" repeat="$3"
  local tag="$mode-$rate-$repeat"
  local dir="$RUNS_DIR/$tag"
  mkdir -p "$dir"
  sw_log "run $repeat/$REPEATS: cookies $mode, flood $rate pps"
  sw_start_synwave "$dir/server.log" --no-huge -m 512 --no-pci --vdev "net_tap0,iface=$SERVER_TAP" -l 0 \
    --file-prefix="$(sw_file_prefix "s$tag")" -- server --ip "$SERVER_IP/24" --listen 80 --http 64 \
    --syn-backlog "$SYN_BACKLOG" --syn-cookies "$mode" --report "$dir/server.json" --stats-interval 1
  local server_pid=$SW_PID
  sw_wait_tap "$SERVER_TAP"
  sw_wait_ready "$dir/server.log" 60
  sw_bridge_attach "$SERVER_TAP" 02:00:00:00:01:02

  local flood_pid=""
  if [[ "$rate" -gt 0 ]]; then
    sw_start_synwave "$dir/flood.log" --no-huge -m 512 --no-pci --vdev "net_tap1,iface=$FLOOD_TAP" -l 1 \
      --file-prefix="$(sw_file_prefix "f$tag")" -- flood --ip "$FLOOD_IP/24" --src-ip "$SPOOFED" \
      --dst "$SERVER_IP:80" --pps "$rate" --kind syn --report "$dir/flood.json" --stats-interval 0
    flood_pid=$SW_PID
    sw_wait_tap "$FLOOD_TAP"
    sw_wait_for 60 "flood port started" grep -q 'flood: resolving' "$dir/flood.log" ||
      { sw_tail "$dir/flood.log"; sw_fail "the flood did not start resolving its next hop"; }
    sw_bridge_attach "$FLOOD_TAP" 02:00:00:00:01:03
    sw_wait_ready "$dir/flood.log" 30
    sleep 1  # the flood fills the SYN backlog before the first legitimate SYN
  fi

  sw_in_ns timeout $((LEGIT_SECONDS + LEGIT_TIMEOUT + 60)) "$PYTHON" "$SW_LIB_DIR/legit_clients.py" "$SERVER_IP" 80 \
    "$LEGIT_CONNECTIONS" "$LEGIT_RATE" "$LEGIT_TIMEOUT" >"$dir/legit.json" 2>"$dir/legit.err" ||
    { sw_tail "$dir/legit.err"; sw_fail "the legitimate clients did not run"; }

  if [[ -n "$flood_pid" ]]; then
    kill -0 "$flood_pid" 2>/dev/null || { sw_tail "$dir/flood.log"; sw_fail "the flood exited during the run"; }
    sw_stop "$flood_pid" "$dir/flood.log" 20
    [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$dir/flood.log"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
    wait_tap_gone "$FLOOD_TAP"
  fi
  sw_stop "$server_pid" "$dir/server.log" 20
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$dir/server.log"; sw_fail "the server exited with $SW_STOP_STATUS"; }
  wait_tap_gone "$SERVER_TAP"
  sw_log "  $(sw_json "$dir/legit.json" "'legitimate %d/%d ok, connect p50 %s ms p99 %s ms' % (r['ok'], r['attempted'], r['connect_ms']['p50'], r['connect_ms']['p99'])")"
}

# one_run_memif MODE RATE REPEAT: server and flood over net_memif, the flood's probes as the
# legitimate clients; their figures are written as legit.json in legit_clients.py's shape.
one_run_memif() {
  local mode="$1" rate="$2" repeat="$3"
  local tag="$mode-$rate-$repeat"
  local dir="$RUNS_DIR/$tag"
  local memif="socket=$dir/memif.sock,socket-abstract=no,id=0,rsize=${RSIZE:-12}${BSIZE:+,bsize=$BSIZE}"
  mkdir -p "$dir"
  sw_log "run $repeat/$REPEATS: cookies $mode, flood $rate pps (memif)"
  sw_start_synwave "$dir/server.log" --no-huge -m 512 --no-pci -l 1 --file-prefix="$(sw_file_prefix "s$tag")" \
    --vdev "net_memif0,role=server,$memif,mac=02:00:00:00:00:02" -- server --ip 198.18.2.1/16 --listen 80 --http 64 \
    --syn-backlog "$SYN_BACKLOG" --syn-cookies "$mode" --report "$dir/server.json" --stats-interval 1
  local server_pid=$SW_PID
  sw_wait_ready "$dir/server.log" 60
  sw_start_synwave "$dir/flood.log" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix "f$tag")" \
    --vdev "net_memif0,role=client,$memif,mac=02:00:00:00:00:01" -- flood --ip 198.18.1.1/16 \
    --src-ip 198.18.128.0-198.18.255.255 --dst 198.18.2.1:80 --pps "$((rate > 0 ? rate : 1))" --kind syn \
    --probe-rate "$LEGIT_RATE" --probe-src 198.18.1.2 --probe-timeout "$LEGIT_TIMEOUT" \
    --duration "$((LEGIT_SECONDS + LEGIT_TIMEOUT))" --report "$dir/flood.json" --stats-interval 1
  local flood_pid=$SW_PID
  sw_wait_exit "$flood_pid" "$dir/flood.log" $((LEGIT_SECONDS + LEGIT_TIMEOUT + 60))
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$dir/flood.log"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
  sw_stop "$server_pid" "$dir/server.log" 20
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$dir/server.log"; sw_fail "the server exited with $SW_STOP_STATUS"; }
  "$PYTHON" - "$dir/flood.json" "$dir/legit.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["probes"]
c = p["latency"]["connect"]
json.dump({"ok": p["completed"], "attempted": p["completed"] + p["failed"], "opened": p["opened"],
           "failures": p["failures"], "connect_ms": {"p50": c["p50"] / 1e3, "p99": c["p99"] / 1e3}},
          open(sys.argv[2], "w"))
PY
  sw_log "  $(sw_json "$dir/legit.json" "'probes %d/%d ok, connect p50 %s ms p99 %s ms' % (r['ok'], r['attempted'], r['connect_ms']['p50'], r['connect_ms']['p99'])")"
}

# softirq jiffies and all jiffies, summed over the CPUs (/proc/stat's first line), and the
# packets the kernel dropped at its per-CPU input backlogs (/proc/net/softnet_stat, column 2).
cpu_jiffies() {
  local dropped=0 line
  while read -r -a line; do dropped=$((dropped + 16#${line[1]})); done </proc/net/softnet_stat
  awk -v d="$dropped" '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $8, t, d}' /proc/stat
}

# one_run_linux MODE RATE REPEAT: the Linux kernel as the target, tcp_syncookies=MODE. The kernel
# outlives the runs: the probes of each come from a new address (198.18.1.2, .3, ...), or their
# SYNs would meet the previous run's connections in TIME-WAIT (the server closes first).
LINUX_RUNS=0
one_run_linux() {
  local mode="$1" rate="$2" repeat="$3"
  local tag="$mode-$rate-$repeat"
  local probe_src="198.18.1.$((2 + LINUX_RUNS % 250))"
  LINUX_RUNS=$((LINUX_RUNS + 1))
  local dir="$RUNS_DIR/$tag"
  mkdir -p "$dir"
  sw_log "run $repeat/$REPEATS: tcp_syncookies $mode, flood $rate pps (Linux over af_packet)"
  sw_in_ns sysctl -qw net.ipv4.tcp_syncookies="$mode" net.ipv4.tcp_max_syn_backlog="$SYN_BACKLOG"
  ip netns exec "$SW_NS" "$PYTHON" "$SW_LIB_DIR/http_listener.py" 198.18.2.1 80 "$dir/listener.json" >"$dir/listener.log" 2>&1 &
  local listener_pid=$!
  sw_track "$listener_pid"
  sw_wait_for 10 "listener up" grep -q listening "$dir/listener.log" || sw_fail "the Linux listener did not start"
  local before after
  before="$(cpu_jiffies)"
  sw_start_synwave "$dir/flood.log" --no-huge -m 512 --no-pci -l 0 --file-prefix="$(sw_file_prefix "f$tag")" \
    --vdev "net_af_packet0,iface=swfa" -- flood --ip 198.18.1.1/16 \
    --src-ip 198.19.0.1-198.19.255.254 --dst 198.18.2.1:80 --pps "$((rate > 0 ? rate : 1))" --kind syn \
    --probe-rate "$LEGIT_RATE" --probe-src "$probe_src" --probe-timeout "$LEGIT_TIMEOUT" \
    --duration "$((LEGIT_SECONDS + LEGIT_TIMEOUT))" --report "$dir/flood.json" --stats-interval 1
  local flood_pid=$SW_PID
  sw_wait_exit "$flood_pid" "$dir/flood.log" $((LEGIT_SECONDS + LEGIT_TIMEOUT + 60))
  [[ $SW_STOP_STATUS -eq 0 ]] || { sw_tail "$dir/flood.log"; sw_fail "the flood exited with $SW_STOP_STATUS"; }
  after="$(cpu_jiffies)"
  kill -TERM "$listener_pid"
  wait "$listener_pid" 2>/dev/null || true
  "$PYTHON" - "$dir" "$before" "$after" <<'PY'
import json, sys
d, before, after = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
flood = json.load(open(f"{d}/flood.json"))
p = flood["probes"]
c = p["latency"]["connect"]
json.dump({"ok": p["completed"], "attempted": p["completed"] + p["failed"], "opened": p["opened"],
           "failures": p["failures"], "connect_ms": {"p50": c["p50"] / 1e3, "p99": c["p99"] / 1e3}},
          open(f"{d}/legit.json", "w"))
softirq = 100.0 * (int(after[0]) - int(before[0])) / max(1, int(after[1]) - int(before[1]))
# The kernel's side in the server report's shape: what the aggregation below reads. Its answers
# to the spoofed sources (SYN-ACKs, their retransmissions) are what the flood's port received
# besides the probes' frames.
answers = flood["data_plane"]["rx_packets"] - p["counters"]["rx_frames"]
json.dump({"counters": {"synack_sent": answers}, "data_plane": {"rx_packets": 0}, "softirq_pct": softirq,
           "backlog_dropped": int(after[2]) - int(before[2]),
           "listener": json.load(open(f"{d}/listener.json"))}, open(f"{d}/server.json", "w"))
PY
  sw_log "  $(sw_json "$dir/legit.json" "'probes %d/%d ok, connect p50 %s ms p99 %s ms' % (r['ok'], r['attempted'], r['connect_ms']['p50'], r['connect_ms']['p99'])"), softirq $(sw_json "$dir/server.json" "'%.0f %% of all CPUs, %d dropped at the input backlogs' % (r['softirq_pct'], r['backlog_dropped'])")"
}

if [[ "$LINK" == linux ]]; then
  # swfa: the flood's (af_packet, no kernel address); swfb: the kernel's, 198.18.2.1.
  ip -n "$SW_NS" link add swfa type veth peer name swfb
  ip -n "$SW_NS" link set swfa up
  ip -n "$SW_NS" addr add 198.18.2.1/16 dev swfb
  ip -n "$SW_NS" link set swfb up
  # veth hands the kernel's segments over with the checksum left to an offload no one does
  # (af_packet sets no rx checksum flags): the kernel must finish them itself.
  ip netns exec "$SW_NS" ethtool -K swfb tx off >/dev/null
  FLOOD_MAC="$(ip -n "$SW_NS" -o link show swfa | sed 's/.*link\/ether \([0-9a-f:]*\).*/\1/')"
  ip -n "$SW_NS" neigh add 198.18.1.254 lladdr "$FLOOD_MAC" dev swfb nud permanent
  ip -n "$SW_NS" route add 198.19.0.0/16 via 198.18.1.254 dev swfb
fi

sw_log "link: $LINK; modes: $MODES; flood rates: $RATES pps; legitimate: $LEGIT_RATE/s for ${LEGIT_SECONDS}s; SYN backlog $SYN_BACKLOG"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
sw_log "machine: $(nproc) cpus, load average $LOAD_BEFORE"
# Rate outer, mode inner: the modes of one rate run back to back, so a change in the machine's
# load over the experiment shifts a whole rate, not a whole mode.
for rate in $RATES; do
  for ((repeat = 1; repeat <= REPEATS; repeat++)); do
    for mode in $MODES; do
      case "$LINK" in
        memif) one_run_memif "$mode" "$rate" "$repeat" ;;
        linux) one_run_linux "$mode" "$rate" "$repeat" ;;
        *) one_run "$mode" "$rate" "$repeat" ;;
      esac
    done
  done
done

DATE="$(date +%Y-%m-%d)"
SUFFIX=$([[ "$LINK" == tap ]] && echo "" || echo "-$LINK")
JSON="$OUT_DIR/flood$SUFFIX-$DATE.json"
TABLE="$OUT_DIR/flood$SUFFIX-$DATE.md"
PNG="$OUT_DIR/flood-resilience$SUFFIX.png"
DATA="$SW_WORKDIR/plot"
mkdir -p "$DATA"
"$PYTHON" - "$RUNS_DIR" "$JSON" "$TABLE" "$DATA" "$MODES" "$RATES" "$REPEATS" <<PY
import json, os, platform, statistics, sys
runs_dir, out_json, out_table, data_dir, modes, rates, repeats = sys.argv[1:8]
modes, rates, repeats = modes.split(), [int(r) for r in rates.split()], int(repeats)
COUNTERS = ("syn_received", "synack_sent", "synack_retransmitted", "cookies_sent", "cookies_valid", "cookies_invalid",
            "cookies_stale", "half_open_evicted", "syn_rcvd_timeout", "conn_accepted", "rst_sent", "drop_syn_shed_busy")
def steady(report, key):
    # The median over the timeline's samples in which the server was doing something.
    values = sorted(t[key] for t in report.get("timeline", []) if t.get(key) is not None and t.get("server_busy_pct", 0) > 1)
    return values[len(values) // 2] if values else None
def load(path):
    return json.load(open(path)) if os.path.exists(path) else None
def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None
runs, points = [], []
for mode in modes:
    for rate in rates:
        mine = []
        for repeat in range(1, repeats + 1):
            d = os.path.join(runs_dir, f"{mode}-{rate}-{repeat}")
            legit, server, flood = load(f"{d}/legit.json"), load(f"{d}/server.json"), load(f"{d}/flood.json")
            run = {
                "syn_cookies": mode,
                "flood_target_pps": rate,
                "repeat": repeat,
                "flood_pps": round(flood["pps"]) if flood else 0,
                "flood_sent": flood["sent_total"] if flood else 0,
                "legit": legit,
                "success_pct": round(100.0 * legit["ok"] / legit["attempted"], 2),
                "server": {k: server["counters"].get(k) for k in COUNTERS},
                "server_rx_packets": server["data_plane"]["rx_packets"],
                # synwave: its lcore's busy share; Linux: the softirq share of all CPUs
                "server_busy_pct": steady(server, "server_busy_pct") if "softirq_pct" not in server else server["softirq_pct"],
                "synack_per_s": round(server["counters"]["synack_sent"] / flood["duration_s"]) if flood and "synack_sent" in server["counters"] else None,
            }
            runs.append(run)
            mine.append(run)
        points.append({
            "syn_cookies": mode,
            "flood_target_pps": rate,
            "flood_pps": median([r["flood_pps"] for r in mine]),
            "success_pct": median([r["success_pct"] for r in mine]),
            "success_pct_runs": [r["success_pct"] for r in mine],
            "connect_ms_p50": median([r["legit"]["connect_ms"]["p50"] for r in mine]),
            "connect_ms_p99": median([r["legit"]["connect_ms"]["p99"] for r in mine]),
            "connect_ms_p99_runs": [r["legit"]["connect_ms"]["p99"] for r in mine],
            "server": {k: median([r["server"][k] for r in mine]) for k in COUNTERS},
            "server_busy_pct": median([r["server_busy_pct"] for r in mine]),
            "synack_per_s": median([r["synack_per_s"] for r in mine]),
        })
doc = {
    "experiment": "flood resilience (scripts/flood-experiment.sh)",
    "date": "$DATE",
    "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_before": "$LOAD_BEFORE",
                "load_after": open("/proc/loadavg").read().split()[:3]},
    "setup": {"legit_rate": $LEGIT_RATE, "legit_seconds": $LEGIT_SECONDS, "legit_timeout_s": $LEGIT_TIMEOUT,
              "legit_connections": $LEGIT_CONNECTIONS, "syn_backlog": $SYN_BACKLOG, "spoofed_sources": "$SPOOFED",
              "repeats": repeats,
              "link": "net_tap x2 on a Linux bridge in a namespace; server lcore 0, flood lcore 1" if "$LINK" == "tap"
                      else "net_memif between the flood (lcore 0, with the probes) and the server (lcore 1)"},
    "medians": points,
    "runs": runs,
}
json.dump(doc, open(out_json, "w"), indent=2)
def fmt(v, f="{:.0f}"):
    return "-" if v is None else f.format(v)
lines = [f"| SYN cookies | flood target (pps) | flood sent (pps) | SYN-ACKs answered/s | server busy (synwave) or softirq (Linux) | SYNs shed | legitimate success, median (runs) | connect p50 (ms) | connect p99 (ms) | cookies sent | cookies valid | half-open evicted |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for p in points:
    s = p["server"]
    runs_pct = ", ".join(f"{v:g}" for v in p["success_pct_runs"])
    lines.append(f"| {p['syn_cookies']} | {p['flood_target_pps']} | {p['flood_pps']:.0f} | {fmt(p['synack_per_s'])} | "
                 f"{fmt(p['server_busy_pct'], '{:.0f} %')} | {fmt(s['drop_syn_shed_busy'])} | {p['success_pct']:g} % ({runs_pct}) | "
                 f"{p['connect_ms_p50']} | {p['connect_ms_p99']} | {fmt(s['cookies_sent'])} | {fmt(s['cookies_valid'])} | "
                 f"{fmt(s['half_open_evicted'])} |")
open(out_table, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
for mode in modes:
    with open(os.path.join(data_dir, f"{mode}.dat"), "w") as f:
        for p in points:
            if p["syn_cookies"] == mode:
                p99 = p["connect_ms_p99"]
                f.write(f"{p['flood_pps']} {p['success_pct']} {p99 if p99 is not None else 'NaN'}\n")
PY

plots_success=""
plots_latency=""
for mode in $MODES; do
  plots_success+="'$DATA/$mode.dat' using 1:2 with linespoints lw 2 pt 7 title 'cookies $mode', "
  plots_latency+="'$DATA/$mode.dat' using 1:3 with linespoints lw 2 pt 7 title 'cookies $mode', "
done
gnuplot <<GP
set terminal pngcairo size 1100,460 font ',10' noenhanced
set output '$PNG'
set multiplot layout 1,2 title '$([[ "$LINK" == linux ]] && echo "Linux (tcp_syncookies)" || echo "synwave server") under a SYN flood ($LINK, 2 shared cores): $LEGIT_RATE legitimate connections/s, SYN backlog $SYN_BACKLOG, medians of $REPEATS'
set grid
set key bottom left
set xlabel 'flood rate, measured (SYN/s sent)'
set ylabel 'legitimate connections that succeed (%)'
set yrange [0:105]
plot ${plots_success%, }
set key top left
set ylabel 'connect latency p99 (ms, log scale)'
set autoscale y
set logscale y
plot ${plots_latency%, }
unset multiplot
GP
sw_log "wrote $JSON, $TABLE, $PNG"

# Each run's reports drawn beside them, when the scratch directory is kept (SW_KEEP=1); a report
# that cannot be drawn is a warning, the experiment's results being written already.
if [[ "${SW_KEEP:-0}" == 1 ]]; then
  reports=()
  for report in "$RUNS_DIR"/*/flood.json "$RUNS_DIR"/*/server.json; do
    [[ -f "$report" ]] || continue
    # LINK=linux's server.json holds the kernel's figures in this script's own shape, not a report.
    [[ "$LINK" == linux && "$report" == */server.json ]] && continue
    reports+=("$report")
  done
  if ((${#reports[@]} > 0)); then
    "$PYTHON" "$SW_REPO_ROOT/scripts/plot-report.py" "${reports[@]}" >"$SW_WORKDIR/plot-report.log" 2>&1 ||
      { sw_tail "$SW_WORKDIR/plot-report.log" 5; sw_log "WARNING: scripts/plot-report.py did not draw every run's report"; }
    sw_log "each run's reports and their plots: $RUNS_DIR/MODE-RATE-REPEAT/{server,flood}.{json,png}"
  fi
fi
