#!/usr/bin/python3
"""The conformance suite's framework: the real synwave binary on net_tap, and a Scapy tester.

Runs inside a network namespace made by run.sh (which also deletes it, by trap, whatever
happens). For each group of scenarios it starts synwave as a server on a fresh net_tap device
with the group's options, captures the tap with tcpdump, and plays the tester from the kernel
side of the tap through a raw AF_PACKET socket:

  - the tester's address, 198.18.0.3 with MAC 02:00:00:00:00:03, belongs to nobody in the
    namespace: the kernel side of the tap has no IPv4 address at all (and IPv6 is off), so the
    kernel neither answers our crafted segments' replies with RSTs nor sends anything of its
    own, and no nftables rule is needed. Frames synwave sends to 02:00:00:00:00:03 reach the
    kernel as "other host" frames, which its IP stack ignores and the packet socket still sees.
    The tester answers ARP requests for 198.18.0.3 itself (a reader thread).
  - every reply is checked field by field (flags, seq, ack, window, options, IP and TCP
    checksums recomputed here), silence is checked as "no segment for this port within T",
    and synwave's own counters (DPDK telemetry, /synwave/stats) must show each drop counted
    for the right reason.

Each scenario uses its own tester port, so leftovers of one never meet another. A scenario that
provokes something the tshark judge flags (a bad checksum, a malformed header, an out-of-window
segment and the duplicate ACK answering it) declares it, limited to its own frames; run.sh hands
the list to judge_capture (tests/system/lib.sh) with the group's capture.

Both address families, one set of scenarios: with --family 6 (or SW_FAMILY=6 in the environment)
the tester is 2001:db8::3 (same MAC) and synwave serves 2001:db8::2/64 beside its IPv4 address
(dual stack). Every segment is built on net() (IP() or IPv6()), read through ip_of(), and checked
against the constants of the family (addresses, our MSS, the MSS of a SYN without the option, the
cookie MSS table); the reader thread answers Neighbor Solicitations for 2001:db8::3 where it
answers ARP for 198.18.0.3, and synwave's MAC is learnt by soliciting it. The kernel side of the
tap keeps IPv6 disabled (run.sh's namespace), so the tester owns 2001:db8::3 alone and the kernel
still sends nothing. A scenario registered with family=4 (what only IPv4 has: the header
checksum, IHL, IPv4 fragments and options, the subnet broadcast) is skipped over IPv6 with its
reason printed; one with family=6 (fragment and extension headers, Neighbor Discovery, ICMPv6
echo) runs over IPv6 only.

Usage (root, inside the namespace):
  conformance.py [--family 4|6] SYNWAVE WORKDIR [GROUP_OR_SCENARIO_SUBSTRING...]
Prints one line per scenario and "N scenarios passed, M failed" (", K skipped" when some are not
for this family); exit 1 if any failed.
"""

import fnmatch
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

from scapy.all import (ARP, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IP,  # noqa: E402
                       IPv6, TCP, Ether, Raw, raw)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "system"))
import telemetry_client  # noqa: E402

TAP = "swtap0"
KERNEL_MAC = "02:00:00:00:00:01"
TESTER_MAC = "02:00:00:00:00:03"
TESTER_IP4 = "198.18.0.3"
SYNWAVE_IP4 = "198.18.0.2"
TESTER_IP6 = "2001:db8::3"
SYNWAVE_IP6 = "2001:db8::2"
LISTEN_PORT = 80
CLOSED_PORT = 81

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

# synwave's defaults that the replies show (include/synwave/engine_config.hpp): MSS from MTU 1500,
# window shift 7, receive window 262144 (65535 in a SYN-ACK, whose window is never scaled).
OUR_WSCALE = 7
RECEIVE_WINDOW = 262144
SYNACK_WINDOW = 65535

# What differs by address family. configure_family() sets these before the scenario files are
# imported (they import the names), so a scenario reads the values of the family it runs in.
FAMILIES = {
    4: dict(
        TESTER_IP=TESTER_IP4, SYNWAVE_IP=SYNWAVE_IP4, SYNWAVE_PREFIX=24,
        FOREIGN_IP="198.18.0.9",  # on the link, owned by nobody
        OUR_MSS=1460,  # MTU 1500 less 40
        DEFAULT_MSS=536,  # a SYN without the option (RFC 9293 §3.7.1)
        # include/synwave/syn_cookie.hpp kCookieMssTable
        COOKIE_MSS_TABLE=(536, 1024, 1240, 1300, 1360, 1420, 1440, 1460),
    ),
    6: dict(
        TESTER_IP=TESTER_IP6, SYNWAVE_IP=SYNWAVE_IP6, SYNWAVE_PREFIX=64,
        FOREIGN_IP="2001:db8::9",
        OUR_MSS=1440,  # the IPv6 header is 20 bytes longer (RFC 8200 §5)
        DEFAULT_MSS=1220,  # MTU 1280 less 60 (RFC 8200 §5)
        COOKIE_MSS_TABLE=(1220, 1340, 1360, 1380, 1420, 1432, 1440, 8940),  # kCookieMssTable6
    ),
}
FAMILY = 4
TESTER_IP = SYNWAVE_IP = FOREIGN_IP = None
SYNWAVE_PREFIX = OUR_MSS = DEFAULT_MSS = COOKIE_MSS_TABLE = None


def configure_family(family):
    global FAMILY
    FAMILY = family
    globals().update(FAMILIES[family])


configure_family(4)

# How long a reply may take, and how long silence must last to count as "no reply". The machine
# is shared and busy: generous for replies (a pass costs nothing), modest for silence.
REPLY_TIMEOUT = 3.0
SILENCE = 0.4

ANY = object()  # matches any value in a field check


class Failure(Exception):
    pass


def fail(message):
    raise Failure(message)


# ---------------------------------------------------------------------------------------------
# Checksums, computed here so that a reply is judged by the tester and not by its sender.

def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def pseudo_header(src, dst, proto, length):
    """The pseudo-header an upper-layer checksum covers: RFC 9293 §3.1 over IPv4, RFC 8200 §8.1
    over IPv6 (addresses as text, either family)."""
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
                struct.pack("!IxxxB", length, proto))
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length)


def ip_checksum_ok(ip_bytes):
    ihl = (ip_bytes[0] & 0x0F) * 4
    return ones_sum(ip_bytes[:ihl]) == 0xFFFF


def tcp_checksum_ok(ip_bytes):
    ihl = (ip_bytes[0] & 0x0F) * 4
    total_len = struct.unpack("!H", ip_bytes[2:4])[0]
    segment = ip_bytes[ihl:total_len]
    pseudo = ip_bytes[12:20] + struct.pack("!BBH", 0, 6, len(segment))
    return ones_sum(pseudo + segment) == 0xFFFF


def upper6_checksum_ok(ip6_bytes, proto):
    """The checksum of the upper-layer message right after a bare IPv6 header (synwave sends no
    extension headers), over the IPv6 pseudo-header (RFC 8200 §8.1)."""
    payload_len = struct.unpack("!H", ip6_bytes[4:6])[0]
    message = ip6_bytes[40:40 + payload_len]
    pseudo = ip6_bytes[8:40] + struct.pack("!IxxxB", len(message), proto)
    return ones_sum(pseudo + message) == 0xFFFF


def same_address(a, b):
    """Equal addresses whatever their spelling (2001:db8::3 is 2001:0db8:0:0:0:0:0:3)."""
    if a is None or b is None or (":" in a) != (":" in b):
        return False
    if ":" in a:
        return socket.inet_pton(socket.AF_INET6, a) == socket.inet_pton(socket.AF_INET6, b)
    return a == b


def solicited_node(address):
    """The solicited-node multicast group of an IPv6 address (RFC 4291 §2.7.1)."""
    low = socket.inet_pton(socket.AF_INET6, address)[13:]
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff02" + "00" * 9 + "01ff") + low)


def multicast_mac(group):
    """The Ethernet address of an IPv6 multicast group (RFC 2464 §7)."""
    low = socket.inet_pton(socket.AF_INET6, group)[12:]
    return "33:33:" + ":".join(f"{b:02x}" for b in low)


def neighbor_solicitation(target, dst=None, src=None, hlim=255, lladdr=TESTER_MAC, mac_dst=None):
    """A Neighbor Solicitation from the tester (RFC 4861 §4.3) for target, to its solicited-node
    group unless dst is given, with our link-layer address unless lladdr is None."""
    src = TESTER_IP6 if src is None else src
    dst = solicited_node(target) if dst is None else dst
    if mac_dst is None:
        mac_dst = multicast_mac(dst) if dst.lower().startswith("ff") else None
    frame = (Ether(src=TESTER_MAC, dst=mac_dst) / IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target))
    if lladdr is not None:
        frame = frame / ICMPv6NDOptSrcLLAddr(lladdr=lladdr)
    return frame


def is_advertisement_of(pkt, target):
    return ICMPv6ND_NA in pkt and same_address(pkt[ICMPv6ND_NA].tgt, target)


# ---------------------------------------------------------------------------------------------
# The network layer by family: every segment the scenarios build goes through net(), every reply
# is read through ip_of().

def net(src=None, dst=None, ttl=64, proto=None, **fields):
    """IP() or IPv6() from the tester (by default) to synwave; ttl is the hop limit over IPv6 and
    proto the next header. Other fields are the family's own (IPv4's flags, id, options...)."""
    src = TESTER_IP if src is None else src
    dst = SYNWAVE_IP if dst is None else dst
    if FAMILY == 6:
        if proto is not None:
            fields["nh"] = proto
        return IPv6(src=src, dst=dst, hlim=ttl, **fields)
    if proto is not None:
        fields["proto"] = proto
    return IP(src=src, dst=dst, ttl=ttl, **fields)


def ip_of(pkt):
    """The network layer of a frame, either family (None when it has none)."""
    if IP in pkt:
        return pkt[IP]
    if IPv6 in pkt:
        return pkt[IPv6]
    return None


def options_of(tcp):
    """The options of a parsed TCP layer as a dict; padding (NOP, EOL) left out."""
    out = {}
    for name, value in tcp.options:
        if name in ("NOP", "EOL"):
            continue
        if name == "SAckOK":
            value = True
        out[name] = value
    return out


def flags_str(tcp):
    return str(tcp.flags)


def describe(pkt):
    if TCP not in pkt:
        return pkt.summary()
    t = pkt[TCP]
    ip = ip_of(pkt)
    return (f"{ip.src}:{t.sport} > {ip.dst}:{t.dport} [{flags_str(t)}] seq={t.seq} ack={t.ack} "
            f"win={t.window} len={len(bytes(t.payload))} opts={options_of(t)}")


# ---------------------------------------------------------------------------------------------
# The tap: a raw socket on the kernel side, a reader thread that answers ARP and Neighbor
# Solicitations for the tester and files synwave's TCP segments by the tester port they are
# addressed to.

class Tap:
    def __init__(self, ifname):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, ETH_P_ALL))
        self.cond = threading.Condition()
        self.by_port = {}
        self.other = []  # frames from synwave that are not TCP to the tester (ARP replies, ...)
        self.synwave_mac = None
        self.arp_requests = 0
        self.nd_solicitations = 0  # synwave's Neighbor Solicitations for the tester, answered
        self.sent = 0  # frames written to the tap: synwave's rx_frames catches up with it
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()

    def send(self, frame):
        data = frame if isinstance(frame, (bytes, bytearray)) else raw(frame)
        self.sock.send(data)
        self.sent += 1

    def _read(self):
        while self.running:
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            try:
                pkt = Ether(data)
            except Exception:  # noqa: BLE001 - anything undecodable is kept as is
                continue
            if ARP in pkt and pkt[ARP].op == 1 and pkt[ARP].pdst == TESTER_IP4:
                self.arp_requests += 1
                reply = (Ether(src=TESTER_MAC, dst=pkt[ARP].hwsrc) /
                         ARP(op=2, hwsrc=TESTER_MAC, psrc=TESTER_IP4, hwdst=pkt[ARP].hwsrc, pdst=pkt[ARP].psrc))
                self.send(reply)
                continue
            if ICMPv6ND_NS in pkt and self._answer_solicitation(pkt):
                continue
            pkt.raw_bytes = data  # as synwave sent it, for the checksums
            with self.cond:
                # Filed by port whatever the destination address (a reply to a spoofed source counts).
                ip = ip_of(pkt)
                if ip is not None and TCP in pkt and same_address(ip.src, SYNWAVE_IP):
                    self.by_port.setdefault(pkt[TCP].dport, []).append(pkt)
                else:
                    self.other.append(pkt)
                self.cond.notify_all()

    def _answer_solicitation(self, pkt):
        """A Neighbor Solicitation for the tester's IPv6 address, to the address or to its
        solicited-node group, gets the Neighbor Advertisement a host would send (RFC 4861 §7.2.4):
        Solicited and Override set, our MAC as the target link-layer address."""
        ns = pkt[ICMPv6ND_NS]
        ip6 = pkt[IPv6]
        if not same_address(ns.tgt, TESTER_IP6) or not (same_address(ip6.dst, TESTER_IP6) or
                                                       same_address(ip6.dst, solicited_node(TESTER_IP6))):
            return False
        if same_address(ip6.src, "::"):
            return False  # duplicate address detection: synwave does none; kept for a scenario to see
        self.nd_solicitations += 1
        dst_mac = pkt[ICMPv6NDOptSrcLLAddr].lladdr if ICMPv6NDOptSrcLLAddr in pkt else pkt[Ether].src
        reply = (Ether(src=TESTER_MAC, dst=dst_mac) / IPv6(src=TESTER_IP6, dst=ip6.src, hlim=255) /
                 ICMPv6ND_NA(tgt=TESTER_IP6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=TESTER_MAC))
        self.send(reply)
        return True

    def expect(self, port, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                queue = self.by_port.get(port)
                if queue:
                    return queue.pop(0)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def expect_other(self, match, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, pkt in enumerate(self.other):
                    if match(pkt):
                        return self.other.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def drain(self, port):
        with self.cond:
            return self.by_port.pop(port, [])


# ---------------------------------------------------------------------------------------------
# One run of the synwave binary with a group's options.

LIVE = []  # every Synwave started, killed on the way out whatever happens


class Synwave:
    def __init__(self, binary, workdir, group, options):
        self.binary = binary
        self.workdir = workdir
        self.group = group
        self.options = options
        self.prefix = f"swconf{os.getpid()}{group.replace('-', '')}"
        self.log_path = os.path.join(workdir, f"{group}.log")
        self.report_path = os.path.join(workdir, f"{group}.report.json")
        self.pcap_path = os.path.join(workdir, f"{group}.pcap")
        self.proc = None
        self.tcpdump = None
        self.tap = None
        self.report = None

    def start(self):
        deadline = time.monotonic() + 20
        while os.path.exists(f"/sys/class/net/{TAP}"):  # the previous group's tap goes with its process
            if time.monotonic() > deadline:
                fail(f"{TAP} still exists 20 s after the previous synwave exited")
            time.sleep(0.05)
        cmd = [self.binary, "--no-huge", "-m", "256", "--no-pci", "--vdev", f"net_tap0,iface={TAP}", "-l", "0",
               f"--file-prefix={self.prefix}", "--", "server", "--ip", f"{SYNWAVE_IP4}/24"]
        if FAMILY == 6:
            cmd += ["--ip", f"{SYNWAVE_IP6}/64"]  # dual stack: the IPv4 address stays
        cmd += ["--listen", str(LISTEN_PORT), "--max-connections", "1024", "--max-time-wait", "1024",
               "--syn-backlog", "256", "--mbufs", "4095", "--stats-interval", "0",
               "--report", self.report_path] + self.options
        with open(self.log_path, "w") as log:
            log.write("synwave " + " ".join(cmd[1:]) + "\n")
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        LIVE.append(self)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                fail(f"synwave exited during start-up (status {self.proc.returncode}): {self.tail()}")
            if os.path.exists(f"/sys/class/net/{TAP}") and " mode on " in open(self.log_path).read():
                break
            if time.monotonic() > deadline:
                fail(f"synwave not ready after 30 s: {self.tail()}")
            time.sleep(0.05)
        # Starting the port copied its MAC onto the kernel interface: give the kernel side its own
        # (and no IPv4 address: the kernel must own nothing the tester uses).
        if FAMILY == 6:
            # Nor any IPv6 one: with IPv6 on, the kernel would send MLD reports, DAD probes and
            # router solicitations, and answer the tester's frames. run.sh's namespace has it off.
            with open(f"/proc/sys/net/ipv6/conf/{TAP}/disable_ipv6") as f:
                if f.read().strip() != "1":
                    fail(f"IPv6 is enabled on the kernel side of {TAP}: the kernel would not stay silent")
        subprocess.run(["ip", "link", "set", TAP, "address", KERNEL_MAC], check=True)
        subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
        tcpdump_log = open(self.pcap_path + ".log", "w")
        self.tcpdump = subprocess.Popen(["tcpdump", "-i", TAP, "-n", "-U", "--immediate-mode", "-s", "0",
                                         "-w", self.pcap_path], stdout=tcpdump_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while "listening on" not in open(self.pcap_path + ".log").read():
            if time.monotonic() > deadline or self.tcpdump.poll() is not None:
                fail("tcpdump did not start: " + open(self.pcap_path + ".log").read())
            time.sleep(0.05)
        self.tap = Tap(TAP)
        telemetry_client.wait_for_commands(self.prefix, ("/synwave/stats",), 15)
        # Learn synwave's MAC the way any host would: ARP, or a Neighbor Solicitation to its
        # solicited-node group (RFC 4861 §7.2.2), which also tells synwave ours.
        if FAMILY == 6:
            self.tap.send(neighbor_solicitation(SYNWAVE_IP6))
            reply = self.tap.expect_other(lambda p: is_advertisement_of(p, SYNWAVE_IP6), REPLY_TIMEOUT)
            if reply is None:
                fail("no Neighbor Advertisement from synwave")
            if ICMPv6NDOptDstLLAddr not in reply or reply[ICMPv6NDOptDstLLAddr].lladdr != reply[Ether].src:
                fail(f"synwave's Neighbor Advertisement names no link-layer address or another one: {reply.summary()}")
            self.tap.synwave_mac = reply[ICMPv6NDOptDstLLAddr].lladdr
            return
        self.tap.send(Ether(src=TESTER_MAC, dst="ff:ff:ff:ff:ff:ff") /
                      ARP(op=1, hwsrc=TESTER_MAC, psrc=TESTER_IP4, pdst=SYNWAVE_IP4))
        reply = self.tap.expect_other(lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == SYNWAVE_IP4,
                                      REPLY_TIMEOUT)
        if reply is None:
            fail("no ARP reply from synwave")
        self.tap.synwave_mac = reply[ARP].hwsrc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stats(self):
        return telemetry_client.query(self.prefix, "/synwave/stats")

    def tail(self, lines=15):
        try:
            return "\n" + "".join(open(self.log_path).readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        """Orderly stop; returns an error message or None."""
        error = None
        if self.tap is not None:
            self.tap.close()
            self.tap = None
        if self.tcpdump is not None:
            time.sleep(0.3)
            self.tcpdump.send_signal(signal.SIGINT)
            try:
                self.tcpdump.wait(10)
            except subprocess.TimeoutExpired:
                self.tcpdump.kill()
                error = "tcpdump did not stop"
            log = open(self.pcap_path + ".log").read()
            if not re.search(r"^0 packets dropped by kernel$", log, re.M):
                error = f"tcpdump lost frames: {log.strip()}"
            self.tcpdump = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    error = error or "synwave did not exit within 15 s of SIGINT"
            if self.proc.returncode != 0:
                error = error or f"synwave exited with {self.proc.returncode}: {self.tail()}"
            self.proc = None
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"], check=False)
        if error is None:
            try:
                with open(self.report_path) as f:
                    self.report = json.load(f)
            except (OSError, ValueError) as e:
                error = f"no report: {e}"
        return error

    def kill(self):
        for p in (self.tcpdump, self.proc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"], check=False)


# ---------------------------------------------------------------------------------------------
# The tester's side of one connection: its own port, ISN and timestamp clock.

ALL_OPTIONS = ("mss", "wscale", "sack", "ts")


class Peer:
    def __init__(self, t, port, dport=LISTEN_PORT, mss=None, wscale=9):
        self.t = t
        self.sport = port
        self.dport = dport
        self.isn = random.randrange(1 << 32)
        self.snd_nxt = self.isn
        self.rcv_nxt = None  # synwave's next sequence number, once known
        self.server_isn = None
        self.tsval = random.randrange(1 << 20, 1 << 30)
        self.ts_recent = 0  # synwave's last TSval
        self.mss = OUR_MSS if mss is None else mss  # a peer on the same Ethernet link
        self.wscale = wscale
        self.use_ts = False
        self.offered = ()
        self.scaled = False  # window scaling on (synwave always agrees when the SYN offers it)
        self.synack = None

    # --- sending ---------------------------------------------------------------------------
    def next_tsval(self):
        self.tsval = (self.tsval + 1) & 0xFFFFFFFF
        return self.tsval

    def syn_options(self, offer):
        opts = []
        if "mss" in offer:
            opts.append(("MSS", self.mss))
        if "sack" in offer:
            opts.append(("SAckOK", b""))
        if "ts" in offer:
            opts.append(("Timestamp", (self.next_tsval(), 0)))
        if "wscale" in offer:
            opts += [("NOP", None), ("WScale", self.wscale)]
        return opts

    def segment(self, flags, seq=None, ack=None, payload=b"", window=None, options=None, ts=None,
                ip=None, tcp=None):
        """A frame from the tester; by default in sequence, acknowledging what synwave sent, with a
        timestamp when the connection uses them. ts: (TSval, TSecr) to override."""
        if options is None:
            options = []
            if self.use_ts:
                tsv, tse = ts if ts is not None else (self.next_tsval(), self.ts_recent)
                options = [("NOP", None), ("NOP", None), ("Timestamp", (tsv, tse))]
        if window is None:
            # 512 << 9 = 256 KiB once scaled; unscaled, the largest window there is.
            window = 512 if self.scaled and "S" not in flags else 65535
        tcp_fields = dict(sport=self.sport, dport=self.dport, flags=flags,
                          seq=self.snd_nxt if seq is None else seq,
                          ack=(self.rcv_nxt or 0) if ack is None else ack, window=window, options=options)
        tcp_fields.update(tcp or {})
        frame = Ether(src=TESTER_MAC, dst=self.t.synwave_mac) / net(**(ip or {})) / TCP(**tcp_fields)
        if payload:
            frame = frame / Raw(payload)
        return frame

    def send(self, flags, payload=b"", advance=True, **kw):
        frame = self.segment(flags, payload=payload, **kw)
        self.t.tap.send(frame)
        if advance and kw.get("seq") is None:
            self.snd_nxt = (self.snd_nxt + len(payload) + ("S" in flags) + ("F" in flags)) & 0xFFFFFFFF
        return frame

    def send_frame(self, frame):
        self.t.tap.send(frame)

    # --- receiving -------------------------------------------------------------------------
    def expect(self, what="a segment", timeout=REPLY_TIMEOUT, absorb=True):
        pkt = self.t.tap.expect(self.sport, timeout)
        if pkt is None:
            fail(f"no reply from synwave within {timeout} s; expected {what}")
        self.t.check_frame(pkt)
        tcp = pkt[TCP]
        opts = options_of(tcp)
        if "Timestamp" in opts:
            self.ts_recent = opts["Timestamp"][0]
        if absorb and self.rcv_nxt is not None and tcp.seq == self.rcv_nxt:
            self.rcv_nxt = (self.rcv_nxt + len(bytes(tcp.payload)) + ("F" in flags_str(tcp))) & 0xFFFFFFFF
        return pkt

    def expect_nothing(self, why, timeout=SILENCE):
        pkt = self.t.tap.expect(self.sport, timeout)
        if pkt is not None:
            fail(f"expected no reply ({why}), got {describe(pkt)}")

    # --- the handshake -----------------------------------------------------------------------
    def send_syn(self, offer=ALL_OPTIONS, payload=b""):
        self.offered = tuple(offer)
        self.use_ts = "ts" in offer
        self.scaled = "wscale" in offer
        frame = self.send("S", payload=payload, options=self.syn_options(offer), window=65535)
        self.syn_tsval = self.tsval
        return frame

    def expect_synack(self, offer=None, mss=None, wscale=OUR_WSCALE):
        """The SYN-ACK answering our SYN, checked field by field (RFC 9293 §3.10.7.2, RFC 7323
        §1.3 and RFC 2018 §2: a SYN-ACK carries only the options the SYN offered, and MSS)."""
        offer = self.offered if offer is None else offer
        pkt = self.expect("SYN-ACK", absorb=False)
        want = {"MSS": OUR_MSS if mss is None else mss}
        if "wscale" in offer:
            want["WScale"] = wscale
        if "sack" in offer:
            want["SAckOK"] = True
        if "ts" in offer:
            want["Timestamp"] = (ANY, self.syn_tsval)
        check(pkt, flags="SA", ack=(self.isn + 1) & 0xFFFFFFFF, window=SYNACK_WINDOW, options=want, payload_len=0)
        self.server_isn = pkt[TCP].seq
        self.rcv_nxt = (pkt[TCP].seq + 1) & 0xFFFFFFFF
        self.synack = pkt
        return pkt

    def handshake(self, offer=ALL_OPTIONS):
        self.send_syn(offer)
        self.expect_synack(offer)
        self.send("A")
        return self

    def established_window(self):
        """The window synwave advertises once established (RFC 7323 §2.3: scaled when both SYNs
        carried the option)."""
        return RECEIVE_WINDOW >> OUR_WSCALE if self.scaled else min(RECEIVE_WINDOW, 65535)

    def ts_opts(self, tsecr=None):
        """The timestamp option synwave's segments carry: TSecr echoes our latest TSval (RFC 7323
        §4.3) unless told otherwise."""
        return {"Timestamp": (ANY, self.tsval if tsecr is None else tsecr)} if self.use_ts else {}

    def expect_ack(self, what="an ACK", ack=None, seq=None, flags="A", payload_len=0, tsecr=None):
        """An ACK in the established connection: seq = synwave's SND.NXT, ack = our SND.NXT."""
        pkt = self.expect(what, absorb=False)
        check(pkt, flags=flags, seq=self.rcv_nxt if seq is None else seq,
              ack=self.snd_nxt if ack is None else ack, window=self.established_window(),
              options=self.ts_opts(tsecr), payload_len=payload_len, what=what)
        if "F" in flags:
            self.rcv_nxt = (pkt[TCP].seq + payload_len + 1) & 0xFFFFFFFF
        return pkt

    def probe_alive(self, what="the connection is still open"):
        """One byte of data in sequence: an open connection acknowledges it."""
        self.send("PA", payload=b"x")
        self.expect_ack(f"the ACK of one byte ({what})")

    def reset(self):
        """Ends the connection with an RST exactly at RCV.NXT (believed per RFC 5961 §3.2)."""
        self.send("R", ack=0, advance=False, options=[])


def check(pkt, flags=None, seq=None, ack=None, window=None, options=None, payload_len=None, what="reply"):
    """Field-by-field check of a segment from synwave; every mismatch is named."""
    tcp = pkt[TCP]
    problems = []
    if flags is not None and flags_str(tcp) != flags:
        problems.append(f"flags {flags_str(tcp)}, expected {flags}")
    if seq is not None and seq is not ANY and tcp.seq != seq:
        problems.append(f"seq {tcp.seq}, expected {seq}")
    if ack is not None and ack is not ANY and tcp.ack != ack:
        problems.append(f"ack {tcp.ack}, expected {ack}")
    if window is not None and tcp.window != window:
        problems.append(f"window {tcp.window}, expected {window}")
    if payload_len is not None and len(bytes(tcp.payload)) != payload_len:
        problems.append(f"payload {len(bytes(tcp.payload))} bytes, expected {payload_len}")
    if options is not None:
        got = options_of(tcp)
        if set(got) != set(options):
            problems.append(f"options {sorted(got)}, expected {sorted(options)}")
        for name, want in options.items():
            if name not in got:
                continue
            value = got[name]
            if isinstance(want, tuple):
                if len(value) != len(want) or any(w is not ANY and v != w for v, w in zip(value, want)):
                    problems.append(f"option {name} = {value}, expected {want}".replace(str(ANY), "any"))
            elif want is not ANY and value != want:
                problems.append(f"option {name} = {value}, expected {want}")
    if problems:
        fail(f"{what}: " + "; ".join(problems) + f"\n      got: {describe(pkt)}")


# ---------------------------------------------------------------------------------------------
# Hand-built TCP headers, for what Scapy will not build wrong on purpose.

def tcp_header(src_ip, dst_ip, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b"",
               data_offset=None, checksum_delta=0):
    """TCP header + payload bytes with a correct checksum (plus checksum_delta, to spoil it) for
    either family's pseudo-header; data_offset in 32-bit words overrides the one the options imply."""
    if len(options) % 4:
        options += b"\0" * (4 - len(options) % 4)
    words = 5 + len(options) // 4 if data_offset is None else data_offset
    flag_bits = sum(bit for ch, bit in zip("FSRPAUEC", (1, 2, 4, 8, 16, 32, 64, 128)) if ch in flags)
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, words << 4, flag_bits, window, 0, 0) + options
    segment = header + payload
    pseudo = pseudo_header(src_ip, dst_ip, 6, len(segment))
    csum = (0xFFFF - ones_sum(pseudo + segment) + checksum_delta) & 0xFFFF
    return segment[:16] + struct.pack("!H", csum) + segment[18:]


# ---------------------------------------------------------------------------------------------
# Scenarios and groups

# The groups, in the order they run: one synwave run each, with the options the scenarios need.
# --delayed-ack 0: every ACK synwave owes goes out at once, so "the ACK" is one segment to wait for.
GROUPS = {
    "listener": (["--close", "client", "--delayed-ack", "0", "--time-wait", "2"],
                 "a server that waits for the client's FIN: handshakes, RFC 5961, data, malformed frames"),
    "closing": (["--close", "server", "--delayed-ack", "0", "--time-wait", "2", "--fin-wait2-timeout", "1"],
                "a server that closes first, right after the handshake: FIN-WAIT, CLOSING, TIME-WAIT"),
    "cookies": (["--syn-cookies", "always", "--cookie-rotation", "1", "--close", "client", "--delayed-ack", "0"],
                "SYN cookies for every SYN, secrets rotated every second"),
    "http": (["--http", "1200", "--close", "server", "--delayed-ack", "0", "--time-wait", "2"],
             "an HTTP server (1200-byte body) that closes after its response: MSS, windows, FIN with data"),
}

SCENARIOS = []  # in registration order

class Scenario:
    def __init__(self, group_name, name, ref, fn, family=None, why=None):
        self.group = group_name
        self.name = name
        self.ref = ref
        self.fn = fn
        self.family = family  # None: both
        self.why = why  # why it is for one family only

    def skip_reason(self):
        """None when the scenario runs in the current family, else why not."""
        if self.family is None or self.family == FAMILY:
            return None
        return f"IPv{self.family} only: {self.why}"

    @property
    def full_name(self):
        return f"{self.group}/{self.name}"


def scenario(group_name, name, ref, family=None, why=None):
    """Registers a scenario; family=4 or 6 (with why) for one that only that family has."""
    assert (family is None) == (why is None), f"{name}: family= needs why= and the other way round"

    def register(fn):
        SCENARIOS.append(Scenario(group_name, name, ref, fn, family, why))
        return fn
    return register


class Tester:
    """What a scenario gets: the running synwave, fresh peers, counters, the judge's allow-list."""

    def __init__(self, synwave, allow_file):
        self.synwave = synwave
        self.tap = synwave.tap
        self.synwave_mac = synwave.tap.synwave_mac
        self.next_port = 40000 + 1000 * random.randrange(20)
        self.allow_file = allow_file
        self.ports = []

    def peer(self, dport=LISTEN_PORT, **kw):
        port = self.next_port
        self.next_port += 1
        self.ports.append(port)
        return Peer(self, port, dport=dport, **kw)

    def check_frame(self, pkt):
        """Every frame synwave sends must be of the family spoken to it, have valid IP and TCP
        checksums and come from its MAC. Over IPv6: TCP right after the fixed header (synwave
        sends no extension headers), a payload length the frame holds, the TCP checksum over the
        IPv6 pseudo-header (RFC 8200 §8.1; IPv6 has no header checksum)."""
        data = pkt.raw_bytes[14:]
        ethertype = struct.unpack("!H", pkt.raw_bytes[12:14])[0]
        if FAMILY == 6:
            if ethertype != 0x86DD or data[0] >> 4 != 6:
                fail(f"an IPv4 frame (EtherType {ethertype:#06x}) answers IPv6: {describe(pkt)}")
            if data[6] != 6:
                fail(f"next header {data[6]} after synwave's IPv6 header, expected TCP (6): {describe(pkt)}")
            payload_len = struct.unpack("!H", data[4:6])[0]
            if 40 + payload_len > len(data):
                fail(f"IPv6 payload length {payload_len} beyond the frame's {len(data) - 40} bytes: {describe(pkt)}")
            if not upper6_checksum_ok(data, 6):
                fail(f"bad TCP checksum in {describe(pkt)}")
        else:
            if ethertype != 0x0800:
                fail(f"EtherType {ethertype:#06x} answers IPv4: {describe(pkt)}")
            if not ip_checksum_ok(data):
                fail(f"bad IP header checksum in {describe(pkt)}")
            if not tcp_checksum_ok(data):
                fail(f"bad TCP checksum in {describe(pkt)}")
        if pkt[Ether].src != self.synwave_mac or pkt[Ether].dst != TESTER_MAC:
            fail(f"Ethernet {pkt[Ether].src} > {pkt[Ether].dst}, expected {self.synwave_mac} > {TESTER_MAC}")

    def stats(self):
        """synwave's counters once it has taken in every frame the tester sent. The worker publishes
        its counters every few milliseconds, as one snapshot: when the snapshot's rx_frames counts
        all our frames, its other counters show what they caused."""
        deadline = time.monotonic() + 3
        while True:
            s = self.synwave.stats()
            if s["rx_frames"] >= self.tap.sent:
                return s
            if time.monotonic() > deadline:
                fail(f"synwave took in {s['rx_frames']} frames of the {self.tap.sent} the tester sent")
            time.sleep(0.02)

    def expect_counters(self, before, **deltas):
        """Each named counter moved by exactly this much since `before`. Counters are written by the
        lcore as it handles each frame; the silence waited for before calling this lets them settle."""
        deadline = time.monotonic() + 1.0
        while True:
            after = self.stats()
            wrong = {k: (after[k] - before[k], v) for k, v in deltas.items() if after[k] - before[k] != v}
            if not wrong or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if wrong:
            fail("counters: " + ", ".join(f"{k} moved by {got}, expected {want}" for k, (got, want) in wrong.items()))

    def allow(self, issue, peer=None, **fields):
        """Tells the judge that `issue` (a tshark expert name, glob allowed) is expected on the frames
        this scenario provoked: those of peer's port (both directions unless ip_src= is given), or
        matching the given PDML fields (e.g. ip_id="0x5eed"; ip_src and ip_dst name ipv6.src and
        ipv6.dst over IPv6)."""
        conds = []
        for k, v in fields.items():
            name = k.replace('_', '.', 1)
            if FAMILY == 6 and name in ("ip.src", "ip.dst"):
                name = "ipv6" + name[2:]  # ip_src=TESTER_IP, whichever the family
            conds.append(f"{name}={v}")
        if peer is not None:
            conds.append(f"tcp.port={peer.sport}")
        with open(self.allow_file, "a") as f:
            f.write(",".join([issue] + conds) + "\n")


def run(binary, workdir, selectors):
    # Scenario files register themselves on import.
    import scenarios_handshake  # noqa: F401
    import scenarios_rfc5961  # noqa: F401
    import scenarios_teardown  # noqa: F401
    import scenarios_cookies  # noqa: F401
    import scenarios_data  # noqa: F401
    import scenarios_malformed  # noqa: F401
    import scenarios_ipv6  # noqa: F401

    chosen = [s for s in SCENARIOS if not selectors or any(sel in s.full_name for sel in selectors)]
    passed = failed = 0
    failures = []
    skipped = [s for s in chosen if s.skip_reason()]
    print(f"=== IPv{FAMILY}: tester {TESTER_IP}, synwave {SYNWAVE_IP}/{SYNWAVE_PREFIX}"
          f"{' (and ' + SYNWAVE_IP4 + '/24: dual stack)' if FAMILY == 6 else ''}", flush=True)
    for s in skipped:
        print(f"skip {s.full_name} [{s.ref}]: {s.skip_reason()}", flush=True)
    chosen = [s for s in chosen if not s.skip_reason()]
    for group_name, (options, description) in GROUPS.items():
        members = [s for s in chosen if s.group == group_name]
        if not members:
            continue
        print(f"=== group {group_name}: {description}\n    synwave server {' '.join(options)}", flush=True)
        allow_file = os.path.join(workdir, f"{group_name}.allow")
        open(allow_file, "w").close()
        sw = Synwave(binary, workdir, group_name, options)
        try:
            sw.start()
        except Failure as e:
            sw.kill()
            for s in members:
                failed += 1
                failures.append(s.full_name)
                print(f"FAIL {s.full_name} [{s.ref}]: group did not start: {e}", flush=True)
            continue
        tester = Tester(sw, allow_file)
        for s in members:
            started = time.monotonic()
            try:
                if not sw.alive():
                    fail(f"synwave is no longer running{sw.tail()}")
                s.fn(tester)
                passed += 1
                print(f"ok   {s.full_name} [{s.ref}] ({time.monotonic() - started:.1f} s)", flush=True)
            except Failure as e:
                failed += 1
                failures.append(s.full_name)
                print(f"FAIL {s.full_name} [{s.ref}]: {e}", flush=True)
            except Exception:  # noqa: BLE001 - a broken scenario is a failure, not a crash
                failed += 1
                failures.append(s.full_name)
                print(f"FAIL {s.full_name} [{s.ref}]: error in the scenario\n{traceback.format_exc()}", flush=True)
        error = sw.stop()
        if error:
            failed += 1
            failures.append(f"{group_name} (stop)")
            print(f"FAIL {group_name}: {error}", flush=True)
        else:
            # The report is synwave's own account: a conformance run must not leak records or
            # run out of buffers.
            dp = sw.report["data_plane"]
            if dp["mbuf_alloc_failures"] or dp["tx_ring_full_drops"] or sw.report["counters"]["drop_tx_no_buffer"]:
                failed += 1
                failures.append(f"{group_name} (report)")
                print(f"FAIL {group_name}: buffer or ring drops in the report: {dp}", flush=True)
    print(f"{passed} scenarios passed, {failed} failed"
          f"{f', {len(skipped)} skipped (not for IPv{FAMILY})' if skipped else ''}", flush=True)
    if failures:
        print("failed: " + ", ".join(failures), flush=True)
    return 0 if failed == 0 else 1


def main():
    args = sys.argv[1:]
    family = os.environ.get("SW_FAMILY", "4")
    if args and args[0].startswith("--family"):
        if args[0] == "--family" and len(args) > 1:
            family, args = args[1], args[2:]
        elif args[0].startswith("--family="):
            family, args = args[0].split("=", 1)[1], args[1:]
    if family not in ("4", "6") or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    configure_family(int(family))  # before the scenario files import the family's constants
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    # run.sh stops us with TERM (its watchdog) or INT: unwind so that every child is killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args[0], args[1], args[2:])
    finally:
        for sw in LIVE:
            sw.kill()


if __name__ == "__main__":
    # The scenario files import this module by name: run that copy, not __main__.
    import conformance

    sys.exit(conformance.main())
