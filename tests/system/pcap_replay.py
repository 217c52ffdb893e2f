#!/usr/bin/python3
"""Frames for the net_pcap replay test, and the check of synwave's answers (Scapy).

  pcap_replay.py write IN.pcap MAC    writes the input frames, TCP ones addressed to MAC
  pcap_replay.py check OUT.pcap       checks OUT holds exactly the expected replies

Why not a whole connection (SYN, ACK, request, FIN)? The ACK that completes the handshake must
acknowledge synwave's initial sequence number, and that is unpredictable by design: RFC 6528's
keyed hash of the 4-tuple (secret keys drawn at start-up, no option to fix them) plus a clock
term. Any ACK written in advance is unacceptable, synwave would answer it with a RST, and the
test would check nothing but that. So the input is a set of segments whose every reply is fully
determined by RFC 9293 and RFC 826, one per rule:

  1. ARP request for 198.18.0.2                 -> ARP reply (RFC 826)
  2. SYN to closed port 81                      -> <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> (§3.10.7.1)
  3. SYN to listening port 80                   -> SYN-ACK, ACK = SEG.SEQ+1, MSS option (§3.10.7.2)
  4. bare ACK to port 80, no connection         -> <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2 second)
  5. first IP fragment of a SYN to port 80      -> nothing (no reassembly by design)
  6. SYN to port 80 with a wrong TCP checksum   -> nothing (§3.1: dropped)
  7. SYN with a wrong IP header checksum        -> nothing (RFC 791)
"""

import sys

from scapy.all import ARP, IP, TCP, Ether, Raw, rdpcap, wrpcap  # noqa: E402

KERNEL_MAC = "02:00:00:00:00:01"
KERNEL_IP = "198.18.0.1"
SYNWAVE_IP = "198.18.0.2"
BROADCAST = "ff:ff:ff:ff:ff:ff"

CLOSED_PORT = 81
LISTEN_PORT = 80

SYN_CLOSED = dict(sport=40001, seq=1000)
SYN_LISTEN = dict(sport=40002, seq=2000)
BARE_ACK = dict(sport=40003, seq=3000, ack=5555)
FRAGMENT = dict(sport=40004, seq=4000)
BAD_TCP_CSUM = dict(sport=40005, seq=5000)
BAD_IP_CSUM = dict(sport=40006, seq=6000)

def tcp_frame(dst_mac, dport, sport, seq, tcp_flags, ack=0, options=None, **ip_fields):
    return (Ether(src=KERNEL_MAC, dst=dst_mac) /
            IP(src=KERNEL_IP, dst=SYNWAVE_IP, ttl=64, id=sport, **ip_fields) /
            TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=tcp_flags, window=64240,
                options=options if options is not None else [("MSS", 1460)]))


def write(path, synwave_mac):
    frames = [
        Ether(src=KERNEL_MAC, dst=BROADCAST) /
        ARP(op=1, hwsrc=KERNEL_MAC, psrc=KERNEL_IP, hwdst="00:00:00:00:00:00", pdst=SYNWAVE_IP),
        tcp_frame(synwave_mac, CLOSED_PORT, SYN_CLOSED["sport"], SYN_CLOSED["seq"], "S"),
        tcp_frame(synwave_mac, LISTEN_PORT, SYN_LISTEN["sport"], SYN_LISTEN["seq"], "S"),
        tcp_frame(synwave_mac, LISTEN_PORT, BARE_ACK["sport"], BARE_ACK["seq"], "A", ack=BARE_ACK["ack"], options=[]),
        tcp_frame(synwave_mac, LISTEN_PORT, FRAGMENT["sport"], FRAGMENT["seq"], "S", flags="MF"),
    ]
    bad_tcp = tcp_frame(synwave_mac, LISTEN_PORT, BAD_TCP_CSUM["sport"], BAD_TCP_CSUM["seq"], "S")
    bad_tcp = Ether(bytes(bad_tcp))  # checksums computed
    bad_tcp[TCP].chksum ^= 0x0101
    frames.append(bad_tcp)
    bad_ip = Ether(bytes(tcp_frame(synwave_mac, LISTEN_PORT, BAD_IP_CSUM["sport"], BAD_IP_CSUM["seq"], "S")))
    bad_ip[IP].chksum ^= 0x0101
    frames.append(bad_ip)
    # Pad to the Ethernet minimum as a real link would (ARP is 42 bytes otherwise).
    frames = [Ether(bytes(f).ljust(60, b"\0")) if len(bytes(f)) < 60 else f for f in frames]
    wrpcap(path, frames)
    print(f"wrote {len(frames)} frames to {path}")


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, what, got, want):
        if got != want:
            self.failures.append(f"{what}: got {got!r}, expected {want!r}")

    def check_checksums(self, label, frame):
        """IP and TCP checksums as Scapy recomputes them from the bytes on the wire."""
        if IP not in frame:
            return
        fresh = Ether(bytes(frame))
        ip_sum, tcp_sum = fresh[IP].chksum, fresh[TCP].chksum if TCP in fresh else None
        del fresh[IP].chksum
        if TCP in fresh:
            del fresh[TCP].chksum
        rebuilt = Ether(bytes(fresh))
        self.expect(f"{label}: IP checksum", ip_sum, rebuilt[IP].chksum)
        if tcp_sum is not None:
            self.expect(f"{label}: TCP checksum", tcp_sum, rebuilt[TCP].chksum)

    def check_ip(self, label, frame, synwave_mac):
        self.expect(f"{label}: Ethernet src", frame[Ether].src, synwave_mac)
        self.expect(f"{label}: Ethernet dst", frame[Ether].dst, KERNEL_MAC)
        self.expect(f"{label}: is IPv4/TCP", IP in frame and TCP in frame, True)
        if IP not in frame or TCP not in frame:
            return False
        ip = frame[IP]
        self.expect(f"{label}: IP src", ip.src, SYNWAVE_IP)
        self.expect(f"{label}: IP dst", ip.dst, KERNEL_IP)
        self.expect(f"{label}: IP version/IHL", (ip.version, ip.ihl), (4, 5))
        self.expect(f"{label}: IP fragment fields (DF may be set, nothing else)", (int(ip.flags) & ~2, ip.frag), (0, 0))
        self.expect(f"{label}: IP total length (headers only, no payload)", ip.len, 20 + frame[TCP].dataofs * 4)
        self.expect(f"{label}: IP TTL > 0", ip.ttl > 0, True)
        self.check_checksums(label, frame)
        return True


def check(path):
    frames = rdpcap(path)
    c = Checker()
    print(f"{path}: {len(frames)} frames")
    for i, f in enumerate(frames):
        print(f"  {i}: {f.summary()}")

    # The four replies are found by what they answer, not by position: with two lcores (the
    # software dispatcher) a keyed hash picks which lcore answers each flow, so their order varies.
    # A retransmission of the SYN-ACK is the one extra frame that may legitimately follow, and only
    # after its retransmission timeout (RFC 6298 §2.1: 1 s): the test stops synwave well before
    # that, but a very busy machine can delay the stop.
    expected_count = 4
    if len(frames) < expected_count:
        c.failures.append(f"OUT holds {len(frames)} frames, expected {expected_count}")
    used = set()

    def find(what, pred):
        for i, f in enumerate(frames):
            if i not in used and pred(f):
                used.add(i)
                return f
        c.failures.append(f"OUT holds no {what}")
        return None

    def tcp_to(port):
        return lambda f: TCP in f and f[TCP].dport == port

    arp = find("ARP reply", lambda f: ARP in f)
    rst_closed = find("RST/ACK for the closed port", tcp_to(SYN_CLOSED["sport"]))
    syn_ack_frame = find("SYN-ACK", tcp_to(SYN_LISTEN["sport"]))
    rst_bare = find("RST for the bare ACK", tcp_to(BARE_ACK["sport"]))

    synwave_mac = None
    # 1. ARP reply.
    if arp is not None:
        a = arp[ARP]
        synwave_mac = a.hwsrc
        c.expect("ARP: operation", a.op, 2)
        c.expect("ARP: sender IP", a.psrc, SYNWAVE_IP)
        c.expect("ARP: target MAC", a.hwdst, KERNEL_MAC)
        c.expect("ARP: target IP", a.pdst, KERNEL_IP)
        c.expect("ARP: hardware/protocol types", (a.hwtype, a.ptype, a.hwlen, a.plen), (1, 0x0800, 6, 4))
        c.expect("ARP: Ethernet src is the sender MAC", arp[Ether].src, a.hwsrc)
        c.expect("ARP: Ethernet dst", arp[Ether].dst, KERNEL_MAC)
        c.expect("ARP: sender MAC is unicast", int(a.hwsrc.split(":")[0], 16) & 1, 0)

    # 2. RST/ACK for the SYN to the closed port.
    if rst_closed is not None and c.check_ip("RST for closed port", rst_closed, synwave_mac):
        t = rst_closed[TCP]
        c.expect("RST for closed port: ports", (t.sport, t.dport), (CLOSED_PORT, SYN_CLOSED["sport"]))
        c.expect("RST for closed port: flags", str(t.flags), "RA")
        c.expect("RST for closed port: seq", t.seq, 0)
        c.expect("RST for closed port: ack = SYN's seq + 1", t.ack, SYN_CLOSED["seq"] + 1)
        c.expect("RST for closed port: no payload", len(bytes(t.payload)), 0)

    # 3. SYN-ACK from the listener.
    syn_ack = None
    if syn_ack_frame is not None and c.check_ip("SYN-ACK", syn_ack_frame, synwave_mac):
        t = syn_ack_frame[TCP]
        c.expect("SYN-ACK: ports", (t.sport, t.dport), (LISTEN_PORT, SYN_LISTEN["sport"]))
        c.expect("SYN-ACK: flags", str(t.flags), "SA")
        c.expect("SYN-ACK: ack = SYN's seq + 1", t.ack, SYN_LISTEN["seq"] + 1)
        c.expect("SYN-ACK: window > 0", t.window > 0, True)
        c.expect("SYN-ACK: no payload", len(bytes(t.payload)), 0)
        options = dict((name, value) for name, value in t.options if isinstance(name, str))
        c.expect("SYN-ACK: MSS option present", "MSS" in options, True)
        if "MSS" in options:
            # Our MTU 1500 - 40, and never above what the peer announced (1460).
            c.expect("SYN-ACK: MSS value", options["MSS"], 1460)
        # The SYN carried no window scale or timestamps: RFC 7323 §1.3/§3.2 forbid sending them.
        c.expect("SYN-ACK: no window scale (the SYN had none)", "WScale" in options, False)
        c.expect("SYN-ACK: no timestamps (the SYN had none)", "Timestamp" in options, False)
        c.expect("SYN-ACK: no SACK-permitted (the SYN had none)", "SAckOK" in options, False)
        syn_ack = (t.seq, t.ack, str(t.flags), syn_ack_frame.time)

    # 4. RST for the bare ACK.
    if rst_bare is not None and c.check_ip("RST for bare ACK", rst_bare, synwave_mac):
        t = rst_bare[TCP]
        c.expect("RST for bare ACK: ports", (t.sport, t.dport), (LISTEN_PORT, BARE_ACK["sport"]))
        c.expect("RST for bare ACK: flags", str(t.flags), "R")
        c.expect("RST for bare ACK: seq = the ACK's ack", t.seq, BARE_ACK["ack"])
        c.expect("RST for bare ACK: no payload", len(bytes(t.payload)), 0)

    # Nothing for the fragment or the bad checksums; at most SYN-ACK retransmissions after 1 s.
    for i, f in enumerate(frames):
        if i in used:
            continue
        is_retransmission = (syn_ack is not None and TCP in f and
                             (f[TCP].seq, f[TCP].ack, str(f[TCP].flags)) == syn_ack[:3] and
                             float(f.time - syn_ack[3]) >= 0.9)
        if is_retransmission:
            print(f"  note: frame {i} is the SYN-ACK retransmitted after {float(f.time - syn_ack[3]):.2f} s")
        else:
            c.failures.append(f"unexpected frame {i}: {f.summary()}")

    if c.failures:
        for line in c.failures:
            print(f"FAIL: {line}", file=sys.stderr)
        return 1
    print("OUT holds exactly: ARP reply, RST/ACK (closed port), SYN-ACK with MSS, RST (bare ACK); "
          "nothing for the fragment and the bad checksums")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "write":
        write(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
