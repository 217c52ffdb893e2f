#!/usr/bin/python3
"""Writes tests/data/scapy_frames.hpp: frames built by Scapy, with Scapy's own dissection of them.

The wire tests parse these bytes with synwave's parsers and compare every field, and every
checksum, with what Scapy (an implementation nobody here wrote) says about the same bytes.

Run with Debian's interpreter, which has Scapy (python3-scapy):
    /usr/bin/python3 tests/data/make_scapy_frames.py > tests/data/scapy_frames.hpp
The output is deterministic: every field Scapy would otherwise fill from the host (MACs, IP id,
addresses) is given explicitly.
"""
import sys

import scapy
from scapy.all import (ARP, IP, TCP, UDP, Dot1Q, Ether, IPOption_NOP, IPOption_Router_Alert,
                       IPOption_RR, Padding, Raw, fragment, raw)

CLIENT_MAC = "02:00:00:00:00:02"
SERVER_MAC = "02:00:00:00:00:01"
CLIENT_IP = "198.18.0.2"
SERVER_IP = "198.18.0.1"
LINUX_SYN_OPTIONS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456789, 0)), ("NOP", None),
                     ("WScale", 7)]
HTTP_GET = b"GET /index.html HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: scapy\r\n\r\n"


def eth_c2s():
    return Ether(src=CLIENT_MAC, dst=SERVER_MAC)


def eth_s2c():
    return Ether(src=SERVER_MAC, dst=CLIENT_MAC)


def ip_c2s(**kw):
    kw.setdefault("flags", "DF")
    kw.setdefault("id", 0x1c46)
    kw.setdefault("ttl", 64)
    return IP(src=CLIENT_IP, dst=SERVER_IP, **kw)


def ip_s2c(**kw):
    kw.setdefault("flags", "DF")
    kw.setdefault("id", 0)
    kw.setdefault("ttl", 64)
    return IP(src=SERVER_IP, dst=CLIENT_IP, **kw)


def frames():
    """(name, what it exercises, Scapy packet)."""
    out = []
    out.append(("syn_linux_options", "SYN with MSS, SACK-permitted, timestamps, NOP, window scale in Linux's order",
                eth_c2s() / ip_c2s() / TCP(sport=40000, dport=80, flags="S", seq=0xdeadbeef, window=64240,
                                           options=LINUX_SYN_OPTIONS)))
    out.append(("syn_ack_linux_options", "SYN-ACK answering it",
                eth_s2c() / ip_s2c() / TCP(sport=80, dport=40000, flags="SA", seq=0x01020304, ack=0xdeadbef0,
                                           window=65160,
                                           options=[("MSS", 1460), ("SAckOK", b""),
                                                    ("Timestamp", (987654321, 123456789)), ("NOP", None),
                                                    ("WScale", 7)])))
    out.append(("syn_wrapping_seq", "SYN whose sequence number is the last before the wrap",
                eth_c2s() / ip_c2s() / TCP(sport=65535, dport=1, flags="S", seq=0xffffffff, window=1024,
                                           options=[("MSS", 536)])))
    out.append(("ack_data_psh", "data with PSH and timestamps (NOP NOP TS), odd payload length",
                eth_c2s() / ip_c2s() / TCP(sport=40000, dport=80, flags="PA", seq=0xdeadbef0, ack=0x01020305,
                                           window=502, options=[("NOP", None), ("NOP", None),
                                                                ("Timestamp", (123456790, 987654321))])
                / Raw(HTTP_GET + b"!")))
    out.append(("fin_ack", "FIN with ACK, no options",
                eth_s2c() / ip_s2c() / TCP(sport=80, dport=40000, flags="FA", seq=0x01020305,
                                           ack=0xdeadbef0 + len(HTTP_GET) + 1, window=509)))
    out.append(("rst_padded_to_60", "bare RST padded to the Ethernet minimum (IP length < frame)",
                eth_s2c() / ip_s2c() / TCP(sport=80, dport=40000, flags="R", seq=0x01020306, ack=0, window=0)
                / Padding(b"\x00" * 6)))
    out.append(("rst_ack", "RST with ACK",
                eth_s2c() / ip_s2c() / TCP(sport=80, dport=40001, flags="RA", seq=0, ack=0x11223345, window=0)))
    out.append(("syn_ece_cwr", "ECN-setup SYN (SYN ECE CWR)",
                eth_c2s() / ip_c2s(tos=0x02) / TCP(sport=40002, dport=80, flags="SEC", seq=7, window=65535)))
    out.append(("urgent_data", "URG with an urgent pointer",
                eth_c2s() / ip_c2s() / TCP(sport=40003, dport=80, flags="UA", seq=100, ack=200, window=100,
                                           urgptr=3) / Raw(b"abcdef")))
    out.append(("window_scale_20", "window scale shift 20 (above 14), unknown option kind 253, EOL",
                eth_c2s() / ip_c2s() / TCP(sport=40004, dport=80, flags="S", seq=1, window=512,
                                           options=[(253, b"\x12\x34"), ("MSS", 1400), ("WScale", 20)])))
    out.append(("ip_router_alert", "IPv4 with a Router Alert option (IHL 6)",
                eth_c2s() / ip_c2s(options=[IPOption_Router_Alert()]) / TCP(sport=40005, dport=80, flags="S",
                                                                            seq=42, window=29200,
                                                                            options=[("MSS", 1460)])))
    out.append(("ip_nop_options_ihl8", "IPv4 with 12 bytes of NOP options (IHL 8), data",
                eth_c2s() / ip_c2s(options=[IPOption_NOP()] * 12)
                / TCP(sport=40006, dport=80, flags="PA", seq=5, ack=6, window=1000) / Raw(b"hello")))
    out.append(("ip_record_route_ihl15", "IPv4 with the largest header (Record Route, IHL 15)",
                eth_c2s() / ip_c2s(options=[IPOption_RR(routers=["198.18.%d.1" % i for i in range(9)])])
                / TCP(sport=40007, dport=80, flags="A", seq=9, ack=10, window=1000)))
    datagram = ip_c2s(flags=0, id=0x4242) / TCP(sport=40008, dport=80, flags="PA", seq=1, ack=1, window=1000) \
        / Raw(bytes(range(64)))
    pieces = fragment(datagram, fragsize=24)
    out.append(("fragment_first", "first fragment: MF set, offset 0", eth_c2s() / pieces[0]))
    out.append(("fragment_middle", "middle fragment: MF set, offset 3 (24 bytes)", eth_c2s() / pieces[1]))
    out.append(("fragment_last", "last fragment: MF clear, offset 9 (72 bytes)", eth_c2s() / pieces[-1]))
    out.append(("bad_ip_checksum", "IPv4 header checksum field zeroed (wrong)",
                eth_c2s() / ip_c2s(chksum=0) / TCP(sport=40009, dport=80, flags="S", seq=3, window=1000)))
    out.append(("bad_tcp_checksum", "TCP checksum wrong, IPv4 fine",
                eth_c2s() / ip_c2s() / TCP(sport=40010, dport=80, flags="S", seq=3, window=1000, chksum=0xbeef)))
    out.append(("udp_datagram", "UDP: IPv4 parses, protocol 17",
                eth_c2s() / ip_c2s() / UDP(sport=5353, dport=5353) / Raw(b"x" * 7)))
    out.append(("vlan_tagged", "802.1Q-tagged IPv4/TCP: EtherType 0x8100, not ours",
                eth_c2s() / Dot1Q(vlan=5) / ip_c2s() / TCP(sport=40011, dport=80, flags="S", window=1000)))
    out.append(("arp_request", "who-has 198.18.0.1 tell 198.18.0.2 (broadcast, unpadded)",
                Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff")
                / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_IP, hwdst="00:00:00:00:00:00", pdst=SERVER_IP)))
    out.append(("arp_request_padded", "the same request padded to 60 bytes as a NIC delivers it",
                Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff")
                / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_IP, hwdst="00:00:00:00:00:00", pdst=SERVER_IP)
                / Padding(b"\x00" * 18)))
    out.append(("arp_reply", "198.18.0.1 is-at 02:00:00:00:00:01",
                eth_s2c() / ARP(op=2, hwsrc=SERVER_MAC, psrc=SERVER_IP, hwdst=CLIENT_MAC, pdst=CLIENT_IP)))
    return out


def mac_bytes(mac):
    return "{" + ", ".join("0x" + b for b in mac.split(":")) + "}"


def ip_u32(addr):
    a, b, c, d = (int(x) for x in addr.split("."))
    return "0x%08x" % ((a << 24) | (b << 16) | (c << 8) | d)


def b(v):
    return "true" if v else "false"


def c_bytes(data):
    return '"' + data.hex() + '"'


def options_of(tcp):
    """Scapy's dissection of the options, reduced to what TcpOptions holds (raw shift, unclamped)."""
    o = dict(has_mss=False, mss=0, has_ws=False, ws=0, sackok=False, has_ts=False, tsval=0, tsecr=0)
    for opt in tcp.options:
        kind, value = opt
        if kind == "MSS":
            o.update(has_mss=True, mss=value)
        elif kind == "WScale":
            o.update(has_ws=True, ws=value)
        elif kind == "SAckOK":
            o.update(sackok=True)
        elif kind == "Timestamp":
            o.update(has_ts=True, tsval=value[0], tsecr=value[1])
    return o


def correct_checksum(pkt, layer):
    fixed = pkt.copy()
    del fixed[layer].chksum
    return Ether(raw(fixed))[layer].chksum


def emit(name, what, built):
    data = raw(built)
    pkt = Ether(data)  # Scapy's dissection of the bytes, not the packet we asked for
    lines = []
    lines.append("    // %s" % what)
    lines.append("    {.name = \"%s\"," % name)
    lines.append("     .hex = %s," % c_bytes(data))
    lines.append("     .eth = {.dst = %s, .src = %s, .ether_type = 0x%04x}," % (
        mac_bytes(pkt.dst), mac_bytes(pkt.src), pkt.type))
    is_ip = pkt.type == 0x0800 and IP in pkt
    if is_ip:
        ip = pkt[IP]
        lines.append("     .is_ipv4 = true,")
        lines.append(("     .ip = {.header_len = %d, .tos = 0x%02x, .total_len = %d, .id = 0x%04x, .dont_fragment = %s, "
                      ".more_fragments = %s, .fragment_offset = %d, .ttl = %d, .protocol = %d, "
                      ".checksum_on_wire = 0x%04x, .checksum_correct = 0x%04x, .src = %s, .dst = %s},") % (
            ip.ihl * 4, ip.tos, ip.len, ip.id, b(ip.flags.DF), b(ip.flags.MF), ip.frag, ip.ttl, ip.proto,
            ip.chksum, correct_checksum(built, IP), ip_u32(ip.src), ip_u32(ip.dst)))
    else:
        lines.append("     .is_ipv4 = false,")
        lines.append("     .ip = {},")
    is_tcp = is_ip and TCP in pkt and pkt[IP].frag == 0 and not pkt[IP].flags.MF
    if is_tcp:
        tcp = pkt[TCP]
        o = options_of(tcp)
        payload = tcp[Raw].load if Raw in tcp else b""
        lines.append("     .is_tcp = true,")
        lines.append(("     .tcp = {.src_port = %d, .dst_port = %d, .seq = 0x%08x, .ack = 0x%08x, .header_len = %d, "
                      ".flags = 0x%02x, .window = %d, .checksum_on_wire = 0x%04x, .checksum_correct = 0x%04x, "
                      ".urgent = %d, .has_mss = %s, .mss = %d, .has_window_scale = %s, .window_scale_raw = %d, "
                      ".sack_permitted = %s, .has_timestamps = %s, .ts_val = %d, .ts_ecr = %d, .payload = %s},") % (
            tcp.sport, tcp.dport, tcp.seq, tcp.ack, tcp.dataofs * 4, int(tcp.flags), tcp.window, tcp.chksum,
            correct_checksum(built, TCP), tcp.urgptr, b(o["has_mss"]), o["mss"], b(o["has_ws"]), o["ws"],
            b(o["sackok"]), b(o["has_ts"]), o["tsval"], o["tsecr"], c_bytes(payload)))
    else:
        lines.append("     .is_tcp = false,")
        lines.append("     .tcp = {},")
    if pkt.type == 0x0806:
        arp = pkt[ARP]
        lines.append("     .is_arp = true,")
        lines.append("     .arp = {.operation = %d, .sender_mac = %s, .sender_ip = %s, .target_mac = %s, .target_ip = %s}},"
                     % (arp.op, mac_bytes(arp.hwsrc), ip_u32(arp.psrc), mac_bytes(arp.hwdst), ip_u32(arp.pdst)))
    else:
        lines.append("     .is_arp = false,")
        lines.append("     .arp = {}},")
    return "\n".join(lines)


HEADER = """\
#pragma once
// GENERATED by tests/data/make_scapy_frames.py -- do not edit; regenerate with
//   /usr/bin/python3 tests/data/make_scapy_frames.py > tests/data/scapy_frames.hpp
// Origin: every frame below was built by Scapy %s (Python %s) and every expected value is
// Scapy's own dissection of those bytes (checksum_correct: Scapy's checksum for the same packet
// with the checksum field left for Scapy to compute). Window scale is Scapy's raw shift, unclamped.
#include <array>
#include <cstdint>

namespace synwave::test::scapy {

inline constexpr const char* kScapyVersion = "%s";

struct ExpectedEthernet {
  std::array<std::uint8_t, 6> dst{};
  std::array<std::uint8_t, 6> src{};
  std::uint16_t ether_type = 0;
};

struct ExpectedIpv4 {
  std::uint8_t header_len = 0;  // bytes
  std::uint8_t tos = 0;
  std::uint16_t total_len = 0;
  std::uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in 8-byte units
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  std::uint16_t checksum_on_wire = 0;
  std::uint16_t checksum_correct = 0;
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
};

struct ExpectedTcp {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t header_len = 0;  // bytes
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::uint16_t checksum_on_wire = 0;
  std::uint16_t checksum_correct = 0;
  std::uint16_t urgent = 0;
  bool has_mss = false;
  std::uint16_t mss = 0;
  bool has_window_scale = false;
  std::uint8_t window_scale_raw = 0;
  bool sack_permitted = false;
  bool has_timestamps = false;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  const char* payload = "";  // hex
};

struct ExpectedArp {
  std::uint16_t operation = 0;
  std::array<std::uint8_t, 6> sender_mac{};
  std::uint32_t sender_ip = 0;
  std::array<std::uint8_t, 6> target_mac{};
  std::uint32_t target_ip = 0;
};

struct ScapyFrame {
  const char* name = "";
  const char* hex = "";  // the whole Ethernet frame
  ExpectedEthernet eth;
  bool is_ipv4 = false;
  ExpectedIpv4 ip;
  bool is_tcp = false;  // TCP in an unfragmented IPv4 packet
  ExpectedTcp tcp;
  bool is_arp = false;
  ExpectedArp arp;
};

inline constexpr ScapyFrame kFrames[] = {
"""

FOOTER = """\
};

}  // namespace synwave::test::scapy
"""


def main():
    version = "%d.%d.%d" % sys.version_info[:3]
    sys.stdout.write(HEADER % (scapy.VERSION, version, scapy.VERSION))
    for name, what, built in frames():
        sys.stdout.write(emit(name, what, built) + "\n")
    sys.stdout.write(FOOTER)


if __name__ == "__main__":
    main()
