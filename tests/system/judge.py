#!/usr/bin/python3
"""An independent judge of a capture: tshark reads it with IP and TCP checksum validation on and
every flaw it reports must be on the caller's allow-list.

A flaw is any of, per frame:
  - a malformed packet (_ws.malformed: a dissector ran out of bytes or met nonsense);
  - an expert item of severity Warning or Error (bad checksum, short segment, ...);
  - any tcp.analysis.* flag whatever its severity (retransmission, duplicate ACK, out of order,
    lost segment, zero window, window full, reused ports, ...);
  - a bad IP or TCP checksum.
One thing is excused for everyone: a TCP checksum of 0xffff where Wireshark computes 0x0000. In
one's complement both are zero and every receiver that verifies by summing accepts either (RFC 1071
§1, RFC 1624 §3); the kernel (CSUM_MANGLED_0) and DPDK 22.11's net_tap software checksum both
write it for a zero result, about 1 segment in 65536 (see sw_check_checksums in lib.sh).

Always allowed: tcp.connection.rst, the Warning tshark attaches to every RST. An RST is ordinary
TCP; whether each one is right is for the test to say (the system tests count them, the
conformance suite checks each one field by field).

Allow-list entries: ISSUE[,FIELD=VALUE...]
  ISSUE  the name of the expert item's field as tshark's PDML gives it, fnmatch globs allowed:
         tcp.analysis.retransmission, tcp.analysis.duplicate_ack, tcp.analysis.*,
         tcp.checksum_bad.expert, ip.checksum_bad.expert, _ws.malformed.expert, tcp.short_segment,
         tcp.option.len.invalid, ... (the judge prints the names it finds)
  FIELD=VALUE  conditions on the frame, against the PDML "show" value of any field in it
         (ip.src=198.18.0.3, tcp.port=40012 (either port), tcp.srcport=..., ip.id=0x5eed,
         frame.len=26); all must hold.
  @FILE  reads entries from FILE, one per line (blank lines and # comments skipped).

Usage: judge.py PCAP [ENTRY...]; exit 0 when every flaw is allowed, 1 otherwise, 2 on bad use.
"""

import fnmatch
import subprocess
import sys
import xml.etree.ElementTree as ET

WARNING = 0x00600000  # _ws.expert.severity: Chat 0x200000, Note 0x400000, Warning 0x600000, Error 0x800000
FLAWS = ("_ws.malformed || _ws.expert.severity >= 0x600000 || tcp.analysis.flags || "
         "tcp.checksum.status == 0 || ip.checksum.status == 0")
EXPERT_META = {"_ws.expert.message", "_ws.expert.severity", "_ws.expert.group"}


def read_entries(args):
    entries = []
    for arg in args:
        if arg.startswith("@"):
            with open(arg[1:]) as f:
                lines = [line.strip() for line in f]
            entries += read_entries([line for line in lines if line and not line.startswith("#")])
            continue
        issue, *conds = arg.split(",")
        fields = []
        for cond in conds:
            name, sep, value = cond.partition("=")
            if not sep:
                sys.exit(f"judge: bad condition '{cond}' in '{arg}' (FIELD=VALUE)")
            fields.append((name.strip(), value.strip()))
        entries.append({"text": arg, "issue": issue.strip(), "fields": fields, "used": 0})
    return entries


def frame_fields(packet):
    """Every field's show values in a PDML packet, by name."""
    values = {}
    for el in packet.iter():
        if el.tag in ("field", "proto") and el.get("name"):
            values.setdefault(el.get("name"), set()).add(el.get("show", ""))
    return values


def flaws_of(packet, values):
    """(name, severity, message) of each flaw in one PDML packet."""
    found = []
    for expert in packet.iter("field"):
        if expert.get("name") != "_ws.expert":
            continue
        children = list(expert)
        names = [c.get("name") for c in children if c.get("name") not in EXPERT_META]
        meta = {c.get("name"): c.get("show") for c in children if c.get("name") in EXPERT_META}
        name = names[0] if names else "?"
        severity = int(meta.get("_ws.expert.severity", "0"))
        message = meta.get("_ws.expert.message", "")
        if severity >= WARNING or name.startswith("tcp.analysis."):
            found.append((name, severity, message))
    # A bad checksum without its expert item (never seen, but the status is what counts).
    for proto in ("ip", "tcp"):
        if "0" in values.get(f"{proto}.checksum.status", ()) and not any(f[0] == f"{proto}.checksum_bad.expert" for f in found):
            found.append((f"{proto}.checksum_bad.expert", 0x800000, f"Bad {proto.upper()} checksum"))
    if "_ws.malformed" in values and not any(f[0].startswith("_ws.malformed") for f in found):
        found.append(("_ws.malformed.expert", 0x800000, "Malformed packet"))
    # The negative-zero TCP checksum (see the docstring).
    if values.get("tcp.checksum") == {"0xffff"} and values.get("tcp.checksum_calculated") == {"0x0000"}:
        found = [f for f in found if f[0] not in ("tcp.checksum_bad.expert", "tcp.checksum.ffff")]
    return found


def matches(entry, name, values):
    if not fnmatch.fnmatchcase(name, entry["issue"]):
        return False
    for field, want in entry["fields"]:
        if field == "tcp.port":
            if want not in values.get("tcp.srcport", set()) | values.get("tcp.dstport", set()):
                return False
        elif want not in values.get(field, ()):
            return False
    return True


def analysis_flags():
    """Every tcp.analysis.* flag this tshark knows (the expert items under tcp.analysis.flags)."""
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True).stdout
    return sorted({cols[2] for cols in (line.split("\t") for line in out.splitlines())
                   if len(cols) > 3 and cols[2].startswith("tcp.analysis.") and cols[3] == "FT_NONE"
                   and cols[2] != "tcp.analysis.flags"})


def display_filter(entries):
    """FLAWS, minus the frames whose only flaw is a flag allowed everywhere (reused ports in a
    capture of 20000 connections: thousands of frames tshark would otherwise describe in PDML, for
    nothing). A frame with any other flaw is still examined in full."""
    everywhere = [e["issue"] for e in entries if not e["fields"] and e["issue"].startswith("tcp.analysis.")
                  and not any(ch in e["issue"] for ch in "*?[")]
    if not everywhere:
        return FLAWS
    others = [f for f in analysis_flags() if f not in everywhere]
    other_flaws = " || ".join(["_ws.malformed", "_ws.expert.severity >= 0x600000", "tcp.checksum.status == 0",
                               "ip.checksum.status == 0"] + others)
    only_allowed = " || ".join(everywhere)
    return f"({FLAWS}) && !(({only_allowed}) && !({other_flaws}))"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pcap = sys.argv[1]
    entries = read_entries(["tcp.connection.rst"] + sys.argv[2:])
    dfilter = display_filter(entries)
    proc = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                           "-Y", dfilter, "-T", "pdml"], capture_output=True, text=True)
    errors = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("Running as user")]
    if proc.returncode != 0 or errors:
        print(f"judge: tshark cannot read {pcap}: {' '.join(errors) or proc.returncode}", file=sys.stderr)
        return 1
    count = subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True).stdout
    frames = next((line.split(":")[-1].strip() for line in count.splitlines() if "Number of packets" in line), "?")
    root = ET.fromstring(proc.stdout) if proc.stdout.strip() else ET.Element("pdml")
    bad = []
    allowed = 0
    for packet in root.iter("packet"):
        values = frame_fields(packet)
        number = next(iter(values.get("frame.number", {"?"})))
        for name, severity, message in flaws_of(packet, values):
            entry = next((e for e in entries if matches(e, name, values)), None)
            if entry is not None:
                entry["used"] += 1
                allowed += 1
                continue
            src = next(iter(values.get("ip.src") or values.get("ipv6.src") or {"?"}))
            ports = "/".join(sorted(values.get("tcp.srcport", set()))) + ">" + "/".join(sorted(values.get("tcp.dstport", set())))
            bad.append(f"frame {number} from {src} ports {ports}: {name}: {message}")
    used = ", ".join(f"{e['text']} x{e['used']}" for e in entries if e["used"])
    if dfilter != FLAWS:
        used += (", " if used else "") + "frames whose only flaw is allowed everywhere not counted"
    print(f"judge: {pcap}: {frames} frames, {allowed} allowed flaw(s){' (' + used + ')' if used else ''}, "
          f"{len(bad)} not allowed")
    for line in bad[:30]:
        print(f"judge:   {line}")
    if len(bad) > 30:
        print(f"judge:   ... and {len(bad) - 30} more")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
