"""Broken and foreign frames (group "listener"): each must be dropped silently and counted for
its reason, or, where the RFCs say to tolerate it, answered normally.

Over IPv6 the same frames are built on an IPv6 header; what only IPv4 has (the header checksum,
IPv4 fragments and options, the subnet broadcast) is skipped there, and IPv6's own counterparts
(fragment and extension headers) run over IPv6 only."""

import struct

from conformance import (ALL_OPTIONS, FAMILY, FOREIGN_IP, IP, OUR_MSS, SYNWAVE_IP, TCP, TESTER_IP, TESTER_MAC,
                         Ether, Raw, check, fail, net, scenario, tcp_header)
from scapy.layers.inet import IPOption_Router_Alert
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, PadN, RouterAlert


def syn_bytes(p, **kw):
    """A SYN from peer p as raw TCP bytes (MSS option), with tcp_header's overrides."""
    fields = dict(options=struct.pack("!BBH", 2, 4, OUR_MSS))
    fields.update(kw)
    return tcp_header(TESTER_IP, SYNWAVE_IP, p.sport, p.dport, p.isn, 0, "S", **fields)


def ip_frame(p, tcp_bytes, **ip_fields):
    """TCP bytes on the family's network layer (net()); ip_fields are passed on to it."""
    return Ether(src=TESTER_MAC, dst=p.t.synwave_mac) / net(proto=6, **ip_fields) / Raw(tcp_bytes)


def dropped(t, p, frame, why, **counters):
    before = t.stats()
    p.send_frame(frame)
    p.expect_nothing(why)
    t.expect_counters(before, syn_received=0, **counters)


@scenario("listener", "malformed-bad-tcp-checksum", "RFC 9293 §3.1 (checksum), MUST-2/3")
def bad_tcp_checksum(t):
    p = t.peer()
    t.allow("tcp.checksum_bad.expert", p, ip_src=TESTER_IP)
    dropped(t, p, ip_frame(p, syn_bytes(p, checksum_delta=0x1111)), "a bad TCP checksum",
            drop_tcp_bad_checksum=1)


@scenario("listener", "malformed-bad-ip-checksum", "RFC 791 §3.1 (header checksum), RFC 1122 §3.2.1.2",
          family=4, why="IPv6 has no header checksum (RFC 8200 §3)")
def bad_ip_checksum(t):
    p = t.peer()
    t.allow("ip.checksum_bad.expert", p, ip_src=TESTER_IP)
    dropped(t, p, ip_frame(p, syn_bytes(p), chksum=0x1234), "a bad IP header checksum", drop_ip_bad_checksum=1)


@scenario("listener", "malformed-truncated-tcp-header", "RFC 9293 §3.1 (20-byte minimum header)")
def truncated_tcp(t):
    p = t.peer()
    t.allow("_ws.malformed*", p)
    t.allow("tcp.short_segment", p)  # tshark names the 12-byte TCP header, rightly
    length = dict(ipv6_plen="12") if FAMILY == 6 else dict(ip_len="32")
    t.allow("_ws.malformed*", ip_src=TESTER_IP, **length)
    t.allow("tcp.short_segment", ip_src=TESTER_IP, **length)
    dropped(t, p, ip_frame(p, syn_bytes(p, options=b"")[:12]), "a 12-byte TCP header", drop_tcp_truncated=1)


@scenario("listener", "malformed-truncated-ip-header",
          "RFC 8200 §3 (40-byte header)" if FAMILY == 6 else "RFC 791 §3.1 (IHL), RFC 1122 §3.2.1")
def truncated_ip(t):
    p = t.peer()
    # An IPv4 header cut at 12 bytes, or an IPv6 one at 20: short of the fixed header either way.
    cut, ethertype = (20, 0x86DD) if FAMILY == 6 else (12, 0x0800)
    frame_len = str(14 + cut)
    t.allow("_ws.malformed*", eth_src=TESTER_MAC, frame_len=frame_len)
    t.allow("ipv6.invalid_header" if FAMILY == 6 else "ip.bogus_ip_length", eth_src=TESTER_MAC, frame_len=frame_len)
    header = bytes(net(proto=6) / Raw(syn_bytes(p)))[:cut]
    frame = Ether(src=TESTER_MAC, dst=t.synwave_mac, type=ethertype) / Raw(header)
    counter = "drop_ipv6_malformed" if FAMILY == 6 else "drop_ip_truncated"
    dropped(t, p, frame, f"an IPv{FAMILY} header cut at {cut} bytes", **{counter: 1})


@scenario("listener", "malformed-data-offset-too-small", "RFC 9293 §3.1 (Data Offset >= 5)")
def data_offset_small(t):
    p = t.peer()
    t.allow("_ws.malformed*", p)
    t.allow("tcp.hdr_len*", p)
    t.allow("tcp.bogus_header_length*", p)
    dropped(t, p, ip_frame(p, syn_bytes(p, options=b"", data_offset=4)), "data offset 4",
            drop_tcp_bad_data_offset=1)


@scenario("listener", "malformed-data-offset-too-large", "RFC 9293 §3.1 (Data Offset within the segment)")
def data_offset_large(t):
    p = t.peer()
    t.allow("_ws.malformed*", p)
    t.allow("tcp.hdr_len*", p)
    t.allow("tcp.bogus_header_length*", p)
    t.allow("tcp.short_segment", p)
    dropped(t, p, ip_frame(p, syn_bytes(p, options=b"", data_offset=15)), "data offset 15 in a 20-byte segment",
            drop_tcp_bad_data_offset=1)


def tolerated_option(t, name, options, missing):
    """A SYN whose option list breaks after a good MSS: RFC 9293 MUST-7 says to tolerate it, and
    Linux (tcp_parse_options) stops parsing there and goes on with the SYN. The SYN-ACK must not
    agree to the options that came after the break."""
    p = t.peer()
    t.allow("tcp.option.len.invalid", p, ip_src=TESTER_IP)
    t.allow("_ws.malformed*", p, ip_src=TESTER_IP)
    t.allow("tcp.options.*", p, ip_src=TESTER_IP)
    before = t.stats()
    # MSS, then the broken option, then (never reached) SACK-permitted.
    opts = struct.pack("!BBH", 2, 4, 1400) + options + bytes([4, 2])
    p.send_frame(ip_frame(p, tcp_header(TESTER_IP, SYNWAVE_IP, p.sport, p.dport, p.isn, 0, "S", options=opts)))
    synack = p.expect(f"a SYN-ACK despite the {name}")
    p.offered = ("mss",)
    check(synack, flags="SA", ack=(p.isn + 1) & 0xFFFFFFFF, options={"MSS": OUR_MSS}, payload_len=0,
          what=f"SYN-ACK ({missing} must not be echoed)")
    t.expect_counters(before, tcp_bad_options=1, syn_received=1)
    p.snd_nxt = (p.isn + 1) & 0xFFFFFFFF
    p.reset()


@scenario("listener", "malformed-option-length-0", "RFC 9293 §3.1 MUST-7, §3.2")
def option_len_0(t):
    tolerated_option(t, "option of length 0", bytes([8, 0]), "nothing after it")


@scenario("listener", "malformed-option-length-1", "RFC 9293 §3.1 MUST-7, §3.2")
def option_len_1(t):
    tolerated_option(t, "option of length 1", bytes([3, 1]), "nothing after it")


@scenario("listener", "malformed-option-past-the-end", "RFC 9293 §3.1 MUST-7, §3.2")
def option_past_end(t):
    p = t.peer()
    t.allow("tcp.option.len.invalid", p, ip_src=TESTER_IP)
    t.allow("_ws.malformed*", p, ip_src=TESTER_IP)
    t.allow("tcp.options.*", p, ip_src=TESTER_IP)
    before = t.stats()
    # MSS, then a timestamp option claiming 10 bytes with 4 left in the header.
    opts = struct.pack("!BBH", 2, 4, 1400) + bytes([8, 10, 0, 0])
    p.send_frame(ip_frame(p, tcp_header(TESTER_IP, SYNWAVE_IP, p.sport, p.dport, p.isn, 0, "S", options=opts)))
    synack = p.expect("a SYN-ACK despite the option running past the header")
    check(synack, flags="SA", ack=(p.isn + 1) & 0xFFFFFFFF, options={"MSS": OUR_MSS}, payload_len=0,
          what="SYN-ACK (no timestamps: the option was cut)")
    t.expect_counters(before, tcp_bad_options=1, syn_received=1)
    p.snd_nxt = (p.isn + 1) & 0xFFFFFFFF
    p.reset()


@scenario("listener", "malformed-ip-fragments-dropped", "RFC 791 §3.2 (no reassembly by design; RFC 1122 §3.3.2 allows it)",
          family=4, why="IPv4's fragment fields; IPv6 has a fragment header (malformed-ipv6-fragments-dropped)")
def ip_fragments(t):
    p = t.peer()
    before = t.stats()
    # A first fragment (MF) and a last one (offset 8): synwave does not reassemble, it drops both.
    p.send_frame(ip_frame(p, syn_bytes(p), flags="MF", id=0x5eed))
    p.send_frame(ip_frame(p, b"\0" * 16, frag=1, id=0x5eed))
    p.expect_nothing("fragments are dropped")
    t.expect_counters(before, drop_ip_fragment=2, syn_received=0)


@scenario("listener", "malformed-ip-options-tolerated", "RFC 1122 §3.2.1.8, RFC 791 §3.1 (options)",
          family=4, why="IPv6 has no header options; extension headers instead (malformed-ipv6-extension-headers-tolerated)")
def ip_options(t):
    p = t.peer()
    frame = Ether(src=TESTER_MAC, dst=t.synwave_mac) / IP(src=TESTER_IP, dst=SYNWAVE_IP, options=[IPOption_Router_Alert()]) / \
        TCP(sport=p.sport, dport=p.dport, seq=p.isn, flags="S", window=65535, options=[("MSS", 1460)])
    p.offered = ("mss",)
    p.send_frame(frame)
    synack = p.expect("a SYN-ACK: IP options are legal and skipped")
    check(synack, flags="SA", ack=(p.isn + 1) & 0xFFFFFFFF, options={"MSS": OUR_MSS}, payload_len=0)
    if synack[IP].ihl != 5:
        fail(f"the SYN-ACK's IP header has IHL {synack[IP].ihl}: synwave sends no IP options")
    p.snd_nxt = (p.isn + 1) & 0xFFFFFFFF
    p.reset()


@scenario("listener", "malformed-foreign-destination-mac", "RFC 894, RFC 1122 §2.4 (link-layer filtering)")
def foreign_mac(t):
    p = t.peer()
    frame = p.segment("S", options=p.syn_options(ALL_OPTIONS))
    frame[Ether].dst = "02:00:00:00:00:99"
    dropped(t, p, frame, "a frame for another MAC", drop_eth_not_for_us=1)


@scenario("listener", "malformed-foreign-destination-ip", "RFC 1122 §3.3.4.2 (not a router: no forwarding)")
def foreign_ip(t):
    p = t.peer()
    frame = p.segment("S", options=p.syn_options(ALL_OPTIONS), ip={"dst": FOREIGN_IP})
    dropped(t, p, frame, "a segment for another address", drop_ip_not_for_us=1)


@scenario("listener", "malformed-broadcast-source", "RFC 1122 §3.2.1.3, RFC 9293 §3.10.7.2",
          family=4, why="IPv6 has no broadcast address (RFC 4291 §2); multicast sources run in both")
def broadcast_source(t):
    p = t.peer()
    frame = p.segment("S", options=p.syn_options(ALL_OPTIONS), ip={"src": "198.18.0.255"})
    dropped(t, p, frame, "a SYN from the subnet broadcast address", drop_ip_bad_source=1)


@scenario("listener", "malformed-multicast-source",
          "RFC 4291 §2.7, RFC 9293 §3.10.7.2" if FAMILY == 6 else "RFC 1122 §3.2.1.3, RFC 9293 §3.10.7.2")
def multicast_source(t):
    p = t.peer()
    # A multicast address never sends (all nodes on the link over IPv6, all systems over IPv4):
    # no connection with it.
    source = "ff02::1" if FAMILY == 6 else "224.0.0.1"
    frame = p.segment("S", options=p.syn_options(ALL_OPTIONS), ip={"src": source})
    dropped(t, p, frame, f"a SYN from the multicast address {source}", drop_ip_bad_source=1)


@scenario("listener", "malformed-ipv6-fragments-dropped", "RFC 8200 §4.5 (no reassembly by design)",
          family=6, why="the fragment header is IPv6's; IPv4 fragments: malformed-ip-fragments-dropped")
def ipv6_fragments(t):
    p = t.peer()
    before = t.stats()
    # A first fragment (M set) and a last one (offset 8 bytes): synwave does not reassemble, it
    # drops both, and counts them apart from IPv4's.
    first = Ether(src=TESTER_MAC, dst=t.synwave_mac) / IPv6(src=TESTER_IP, dst=SYNWAVE_IP) / \
        IPv6ExtHdrFragment(nh=6, offset=0, m=1, id=0x5eed) / Raw(syn_bytes(p))
    last = Ether(src=TESTER_MAC, dst=t.synwave_mac) / IPv6(src=TESTER_IP, dst=SYNWAVE_IP) / \
        IPv6ExtHdrFragment(nh=6, offset=1, m=0, id=0x5eed) / Raw(b"\0" * 16)
    p.send_frame(first)
    p.send_frame(last)
    p.expect_nothing("fragments are dropped")
    t.expect_counters(before, drop_ipv6_fragment=2, drop_ip_fragment=0, syn_received=0)


@scenario("listener", "malformed-ipv6-extension-headers-tolerated", "RFC 8200 §4 §4.3 §4.6",
          family=6, why="extension headers are IPv6's; IPv4 options: malformed-ip-options-tolerated")
def ipv6_extension_headers(t):
    p = t.peer()
    # Hop-by-hop options (a router alert, RFC 2711) then destination options (padding) before TCP:
    # both are skipped and the SYN is answered; the SYN-ACK carries no extension header (checked
    # for every frame by check_frame: TCP right after the IPv6 header).
    frame = Ether(src=TESTER_MAC, dst=t.synwave_mac) / IPv6(src=TESTER_IP, dst=SYNWAVE_IP) / \
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / \
        TCP(sport=p.sport, dport=p.dport, seq=p.isn, flags="S", window=65535, options=[("MSS", OUR_MSS)])
    p.offered = ("mss",)
    before = t.stats()
    p.send_frame(frame)
    synack = p.expect("a SYN-ACK: extension headers before TCP are skipped")
    check(synack, flags="SA", ack=(p.isn + 1) & 0xFFFFFFFF, options={"MSS": OUR_MSS}, payload_len=0)
    t.expect_counters(before, syn_received=1, drop_ipv6_malformed=0)
    p.snd_nxt = (p.isn + 1) & 0xFFFFFFFF
    p.reset()
