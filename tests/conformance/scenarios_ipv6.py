"""What only IPv6 has (group "listener", IPv6 run): Neighbor Discovery in place of ARP, and ICMPv6
echo. synwave answers a Neighbor Solicitation for its address, sent to the address or to its
solicited-node group, with a Neighbor Advertisement naming its MAC (RFC 4861 §7.2.3, §7.2.4); one
for another address, or one that crossed a router, is dropped and counted; an echo request is
answered (RFC 4443 §4.2). Each reply is checked field by field, its ICMPv6 checksum recomputed
here over the IPv6 pseudo-header."""

import random
import struct

from conformance import (FOREIGN_IP, SYNWAVE_IP, TESTER_IP, TESTER_MAC, Ether, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr,
                         IPv6, fail, multicast_mac, neighbor_solicitation, same_address, scenario,
                         upper6_checksum_ok)
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest

ND = "Neighbor Discovery is IPv6's (IPv4 resolves with ARP, whose answer every group's start-up checks)"
ECHO = "synwave answers no ICMP over IPv4"
ICMPV6 = 58
ALL_NODES = "ff02::1"


def frame_problems(pkt, synwave_mac, src, dst, eth_dst, hlim=None):
    """What is wrong with an ICMPv6 frame from synwave (a list, empty when all is right): its MAC
    and addresses, ICMPv6 right after the IPv6 header, the hop limit, the ICMPv6 checksum."""
    problems = []
    data = pkt.raw_bytes[14:]
    if pkt[Ether].src != synwave_mac or pkt[Ether].dst != eth_dst:
        problems.append(f"Ethernet {pkt[Ether].src} > {pkt[Ether].dst}, expected {synwave_mac} > {eth_dst}")
    ip = pkt[IPv6]
    if not same_address(ip.src, src) or not same_address(ip.dst, dst):
        problems.append(f"IPv6 {ip.src} > {ip.dst}, expected {src} > {dst}")
    if ip.nh != ICMPV6:
        problems.append(f"next header {ip.nh}, expected ICMPv6 right after the IPv6 header")
    if hlim is not None and ip.hlim != hlim:
        problems.append(f"hop limit {ip.hlim}, expected {hlim}")
    if not upper6_checksum_ok(data, ICMPV6):
        problems.append("bad ICMPv6 checksum")
    return problems


def check_advertisement(t, pkt, dst, eth_dst, solicited):
    """synwave's Neighbor Advertisement for its address (RFC 4861 §4.4, §7.2.4): from the target
    address, hop limit 255, Router clear, Solicited as asked, Override set (the address is its
    own), the target, and its MAC in a target link-layer address option."""
    problems = frame_problems(pkt, t.synwave_mac, SYNWAVE_IP, dst, eth_dst, hlim=255)
    na = pkt[ICMPv6ND_NA]
    if na.code != 0:
        problems.append(f"code {na.code}, expected 0")
    if (na.R, na.S, na.O) != (0, int(solicited), 1):
        problems.append(f"flags R={na.R} S={na.S} O={na.O}, expected R=0 S={int(solicited)} O=1")
    if not same_address(na.tgt, SYNWAVE_IP):
        problems.append(f"target {na.tgt}, expected {SYNWAVE_IP}")
    if ICMPv6NDOptDstLLAddr not in pkt:
        problems.append("no target link-layer address option")
    elif pkt[ICMPv6NDOptDstLLAddr].lladdr != t.synwave_mac:
        problems.append(f"target link-layer address {pkt[ICMPv6NDOptDstLLAddr].lladdr}, expected {t.synwave_mac}")
    if problems:
        fail("Neighbor Advertisement: " + "; ".join(problems) + f"\n      got: {pkt.summary()}")


def expect_advertisement(t, what):
    pkt = t.tap.expect_other(lambda p: ICMPv6ND_NA in p and same_address(p[ICMPv6ND_NA].tgt, SYNWAVE_IP), 3.0)
    if pkt is None:
        fail(f"no Neighbor Advertisement from synwave within 3 s; expected {what}")
    return pkt


def expect_no_advertisement(target, t, why, timeout=0.4):
    pkt = t.tap.expect_other(lambda p: ICMPv6ND_NA in p and same_address(p[ICMPv6ND_NA].tgt, target), timeout)
    if pkt is not None:
        fail(f"expected no Neighbor Advertisement ({why}), got {pkt.summary()}")


@scenario("listener", "nd-solicitation-answered", "RFC 4861 §7.1.1 §7.2.3 §7.2.4", family=6, why=ND)
def nd_solicitation(t):
    before = t.stats()
    # To the solicited-node group (address resolution), then to the address itself (a
    # reachability check, RFC 4861 §7.3.1): both answered to the soliciting host, Solicited set.
    t.tap.send(neighbor_solicitation(SYNWAVE_IP))
    check_advertisement(t, expect_advertisement(t, "the answer to a multicast solicitation"), TESTER_IP, TESTER_MAC, True)
    t.tap.send(neighbor_solicitation(SYNWAVE_IP, dst=SYNWAVE_IP, mac_dst=t.synwave_mac))
    check_advertisement(t, expect_advertisement(t, "the answer to a unicast solicitation"), TESTER_IP, TESTER_MAC, True)
    t.expect_counters(before, nd_solicitations_received=2, nd_advertisements_sent=2, drop_icmpv6_malformed=0)


@scenario("listener", "nd-solicitation-for-another-address-ignored", "RFC 4861 §7.2.3", family=6, why=ND)
def nd_other_target(t):
    before = t.stats()
    # For an address on the link that synwave does not own, to that address's group (which
    # synwave's MAC filter lets in: it takes every IPv6 multicast frame).
    t.tap.send(neighbor_solicitation(FOREIGN_IP))
    expect_no_advertisement(FOREIGN_IP, t, "the target is not synwave's")
    t.expect_counters(before, drop_nd_not_for_us=1, nd_advertisements_sent=0)


@scenario("listener", "nd-solicitation-from-beyond-the-link-dropped", "RFC 4861 §7.1.1 (hop limit 255)",
          family=6, why=ND)
def nd_bad_hop_limit(t):
    before = t.stats()
    # A hop limit below 255 means a router forwarded it: a forged solicitation from off the link,
    # which must not reach the neighbour cache.
    t.tap.send(neighbor_solicitation(SYNWAVE_IP, hlim=64))
    expect_no_advertisement(SYNWAVE_IP, t, "a solicitation with hop limit 64 is invalid")
    t.expect_counters(before, drop_icmpv6_malformed=1, nd_advertisements_sent=0)


@scenario("listener", "nd-duplicate-address-probe-answered-to-all-nodes", "RFC 4861 §7.2.4, RFC 4862 §5.4.3",
          family=6, why=ND)
def nd_dad(t):
    before = t.stats()
    # Duplicate address detection: from the unspecified address, to the solicited-node group, no
    # link-layer address option. The answer defends the address to all nodes, Solicited clear.
    t.tap.send(neighbor_solicitation(SYNWAVE_IP, src="::", lladdr=None))
    pkt = expect_advertisement(t, "the answer to a duplicate address probe")
    check_advertisement(t, pkt, ALL_NODES, multicast_mac(ALL_NODES), False)
    t.expect_counters(before, nd_solicitations_received=1, nd_advertisements_sent=1)


def echo_request(t, ident, seq, data, chksum=None):
    fields = {} if chksum is None else {"cksum": chksum}
    return (Ether(src=TESTER_MAC, dst=t.synwave_mac) / IPv6(src=TESTER_IP, dst=SYNWAVE_IP, hlim=64) /
            ICMPv6EchoRequest(id=ident, seq=seq, data=data, **fields))


def expect_echo_reply(t, ident, timeout):
    return t.tap.expect_other(lambda p: ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == ident, timeout)


@scenario("listener", "icmpv6-echo-answered", "RFC 4443 §4.1 §4.2", family=6, why=ECHO)
def echo(t):
    before = t.stats()
    ident = random.randrange(1 << 16)
    seq = random.randrange(1 << 16)
    data = bytes(random.randrange(256) for _ in range(56))
    t.tap.send(echo_request(t, ident, seq, data))
    pkt = expect_echo_reply(t, ident, 3.0)
    if pkt is None:
        fail("no echo reply within 3 s")
    # The reply: from the address the request went to, the same identifier, sequence and data.
    problems = frame_problems(pkt, t.synwave_mac, SYNWAVE_IP, TESTER_IP, TESTER_MAC)
    reply = pkt[ICMPv6EchoReply]
    if reply.code != 0:
        problems.append(f"code {reply.code}, expected 0")
    if reply.seq != seq:
        problems.append(f"sequence {reply.seq}, expected {seq}")
    if bytes(reply.data) != data:
        problems.append(f"data of {len(bytes(reply.data))} bytes differs from the request's {len(data)}")
    if problems:
        fail("echo reply: " + "; ".join(problems) + f"\n      got: {pkt.summary()}")
    t.expect_counters(before, icmpv6_echo_replies_sent=1)


@scenario("listener", "icmpv6-echo-bad-checksum-dropped", "RFC 4443 §2.3 (checksum), §4.2", family=6, why=ECHO)
def echo_bad_checksum(t):
    ident = random.randrange(1 << 16)
    good = bytes(echo_request(t, ident, 1, b"spoilt"))
    spoilt = struct.unpack("!H", good[14 + 40 + 2:14 + 40 + 4])[0] ^ 0x1111
    t.allow("icmpv6.checksum_bad.expert", **{"ipv6.src": TESTER_IP, "icmpv6.echo.identifier": f"0x{ident:04x}"})
    before = t.stats()
    t.tap.send(echo_request(t, ident, 1, b"spoilt", chksum=spoilt))
    if expect_echo_reply(t, ident, 0.4) is not None:
        fail("an echo request with a bad checksum was answered")
    t.expect_counters(before, drop_icmpv6_malformed=1, icmpv6_echo_replies_sent=0)
