#!/usr/bin/python3
"""Writes tests/data/scapy_ipv6_frames.hpp: IPv6 frames built by Scapy, with Scapy's dissection.

The IPv6 wire tests (tests/unit/wire_ipv6_test.cpp) parse these bytes with synwave's parsers and
compare every field, the upper-layer checksums and the verdicts on malformed chains with what
Scapy says; the messages synwave writes (Neighbor Advertisement, Solicitation, echo reply) are
compared byte for byte with the ones Scapy builds.

    /usr/bin/python3 tests/data/make_scapy_ipv6_frames.py > tests/data/scapy_ipv6_frames.hpp

Deterministic: every address, MAC and identifier is given. Addresses are from 2001:db8::/32.
"""
import ipaddress
import sys

import scapy
from scapy.all import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, TCP, Ether, Padding, Raw, in6_getnsma, in6_getnsmac, inet_pton, raw,
                       HBHOptUnknown, PadN,
                       socket)

PEER_MAC = "02:00:00:00:00:02"
OUR_MAC = "02:00:00:00:00:01"
PEER = "2001:db8::2"
US = "2001:db8::1"
SOLICITED_US = socket.inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, US)))
SOLICITED_US_MAC = in6_getnsmac(inet_pton(socket.AF_INET6, SOLICITED_US))


def eth(dst=OUR_MAC):
    return Ether(src=PEER_MAC, dst=dst)


def syn(**kw):
    return TCP(sport=40000, dport=80, flags="S", seq=0x12345678, window=64800,
               options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)], **kw)


def frames():
    """(name, error synwave must return, Scapy packet)."""
    return [
        ("tcp_syn", "kOk", eth() / IPv6(src=PEER, dst=US, hlim=64, tc=0x28, fl=0x12345) / syn()),
        ("tcp_syn_behind_extensions", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=[US], segleft=0)
         / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00\x00\x00")]) / syn()),
        # RFC 8200 §4.5, RFC 6946: an atomic fragment (offset 0, M clear) is the whole packet.
        ("atomic_fragment", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrFragment(id=9, m=0, offset=0) / syn()),
        # RFC 8200 §4.4: a routing header with segments left is for a router to forward; RFC 5095
        # forbids processing type 0: the pointer names its routing type (offset 42).
        ("routing_header_in_transit", "kRoutingHeader",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrRouting(addresses=["2001:db8::9"], segleft=1) / syn()),
        # RFC 8200 §4.2: an unrecognised option whose type's top bits are 01 (discard) or 10
        # (discard, Parameter Problem code 2 pointing at it: offset 42).
        ("unknown_option_discard", "kUnrecognizedOption",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x5e, optdata=b"ab")])
         / syn()),
        ("unknown_option_problem", "kUnrecognizedOption",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x9e, optdata=b"ab")])
         / syn()),
        ("unknown_option_skipped", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"ab")])
         / syn()),
        ("tcp_rst_padded", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / TCP(sport=40000, dport=80, flags="R", seq=1, window=0)
         / Padding(b"\x00" * 20)),
        ("tcp_data", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / TCP(sport=40000, dport=80, flags="PA", seq=2, ack=3, window=500)
         / Raw(b"GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n!")),
        ("fragment", "kFragment",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrFragment(id=7, m=1) / syn()),
        ("hop_by_hop_not_first", "kBadExtensionOrder",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / syn()),
        ("echo_request", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=64) / ICMPv6EchoRequest(id=0x1234, seq=7, data=b"synwave ping")),
        ("ns_for_us", "kOk",
         eth(SOLICITED_US_MAC) / IPv6(src=PEER, dst=SOLICITED_US, hlim=255) / ICMPv6ND_NS(tgt=US)
         / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC)),
        ("ns_dad_probe", "kOk",
         eth(SOLICITED_US_MAC) / IPv6(src="::", dst=SOLICITED_US, hlim=255) / ICMPv6ND_NS(tgt=US)),
        ("na_from_peer", "kOk",
         eth() / IPv6(src=PEER, dst=US, hlim=255) / ICMPv6ND_NA(tgt=PEER, R=0, S=1, O=1)
         / ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC)),
    ]


def addr_bytes(a):
    return "{" + ", ".join("0x%02x" % b for b in ipaddress.IPv6Address(a).packed) + "}"


def mac_bytes(mac):
    return "{" + ", ".join("0x" + b for b in mac.split(":")) + "}"


def upper(pkt):
    """The upper-layer packet after the extension headers, and its checksum as Scapy computes it."""
    layer = pkt[IPv6].payload
    while isinstance(layer, (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment)):
        layer = layer.payload
    return layer


def emit(name, error, pkt):
    built = Ether(raw(pkt))
    ip = built[IPv6]
    up = upper(built)
    upper_offset = len(raw(ip)) - len(raw(up))  # both hold any padding
    next_header = 6 if isinstance(up, TCP) else 58
    lines = ["    {.name = \"%s\", .bytes = \"%s\", .error = Ipv6Error::%s," % (name, raw(built).hex(), error),
             "     .traffic_class = %d, .flow_label = 0x%05x, .payload_len = %d, .next_header = %d, "
             ".upper_offset = %d, .hop_limit = %d," % (ip.tc, ip.fl, ip.plen, next_header, upper_offset, ip.hlim),
             "     .src = %s, .dst = %s," % (addr_bytes(ip.src), addr_bytes(ip.dst)),
             "     .upper_checksum = 0x%04x}," % (up.chksum if hasattr(up, "chksum") else 0)]
    return "\n".join(lines)


# The messages synwave writes, as Scapy builds them.
def expected_writes():
    na = ICMPv6ND_NA(tgt=US, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=OUR_MAC)
    na_pkt = IPv6(src=US, dst=PEER, hlim=255) / na
    ns = ICMPv6ND_NS(tgt=PEER) / ICMPv6NDOptSrcLLAddr(lladdr=OUR_MAC)
    peer_group = socket.inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, PEER)))
    ns_pkt = IPv6(src=US, dst=peer_group, hlim=255) / ns
    reply_pkt = IPv6(src=US, dst=PEER, hlim=64) / ICMPv6EchoReply(id=0x1234, seq=7, data=b"synwave ping")
    out = []
    for name, pkt in (("kNeighborAdvertisement", na_pkt), ("kNeighborSolicitation", ns_pkt), ("kEchoReply", reply_pkt)):
        out.append('inline constexpr const char* %s = "%s";' % (name, raw(pkt)[40:].hex()))
    out.append("inline constexpr std::array<std::uint8_t, 16> kPeerSolicitedNode = %s;" % addr_bytes(peer_group))
    out.append("inline constexpr std::array<std::uint8_t, 6> kPeerSolicitedNodeMac = %s;"
               % mac_bytes(in6_getnsmac(inet_pton(socket.AF_INET6, peer_group))))
    return "\n".join(out)


HEADER = """\
#pragma once
// GENERATED by tests/data/make_scapy_ipv6_frames.py -- do not edit; regenerate with
//   /usr/bin/python3 tests/data/make_scapy_ipv6_frames.py > tests/data/scapy_ipv6_frames.hpp
// Built by Scapy %s; every expected value is Scapy's dissection of the same bytes.
#include <array>
#include <cstdint>

#include "synwave/wire/ipv6.hpp"

namespace synwave::test::scapy_ipv6 {

inline constexpr std::array<std::uint8_t, 16> kPeer = %s;
inline constexpr std::array<std::uint8_t, 16> kUs = %s;
inline constexpr std::array<std::uint8_t, 6> kPeerMac = %s;
inline constexpr std::array<std::uint8_t, 6> kOurMac = %s;

struct Ipv6Frame {
  const char* name;
  const char* bytes;  // hex, the whole Ethernet frame
  Ipv6Error error;
  std::uint8_t traffic_class;
  std::uint32_t flow_label;
  std::uint16_t payload_len;
  std::uint8_t next_header;    // the upper layer's
  std::uint16_t upper_offset;  // from the IPv6 header's start
  std::uint8_t hop_limit;
  std::array<std::uint8_t, 16> src;
  std::array<std::uint8_t, 16> dst;
  std::uint16_t upper_checksum;  // as on the wire (Scapy computed it)
};

inline const Ipv6Frame kFrames[] = {
"""


def main():
    sys.stdout.write(HEADER % (scapy.VERSION, addr_bytes(PEER), addr_bytes(US), mac_bytes(PEER_MAC), mac_bytes(OUR_MAC)))
    for name, error, pkt in frames():
        sys.stdout.write(emit(name, error, pkt) + "\n")
    sys.stdout.write("};\n\n// What synwave must write, as Scapy builds it (the ICMPv6 message, IPv6 header excluded).\n")
    sys.stdout.write(expected_writes() + "\n\n}  // namespace synwave::test::scapy_ipv6\n")


if __name__ == "__main__":
    main()
