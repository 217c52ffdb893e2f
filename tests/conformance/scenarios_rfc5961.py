"""RFC 5961 in ESTABLISHED: blind RST, SYN and data injection (group "listener")."""

import random

from conformance import ALL_OPTIONS, SYNWAVE_IP, TESTER_IP, check, scenario


def established(t, offer=ALL_OPTIONS):
    p = t.peer()
    p.handshake(offer)
    p.probe_alive("right after the handshake")
    return p


@scenario("listener", "rfc5961-rst-exactly-at-rcv-nxt", "RFC 5961 §3.2, RFC 9293 §3.10.7.4")
def rst_exact(t):
    p = established(t)
    before = t.stats()
    p.reset()
    p.expect_nothing("an RST at RCV.NXT resets the connection; it is never answered")
    t.expect_counters(before, rst_received=1)
    # The connection is gone: an ACK now reaches the listener and is refused.
    p.send("PA", payload=b"after the reset")
    rst = p.expect("RST: the connection no longer exists")
    check(rst, flags="R", seq=p.rcv_nxt, ack=0, payload_len=0)


@scenario("listener", "rfc5961-rst-in-window-challenge-ack", "RFC 5961 §3.2")
def rst_in_window(t):
    p = established(t)
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)  # the challenge ACK repeats the last
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # tshark believed the RST's seq
    before = t.stats()
    p.send("R", seq=(p.snd_nxt + 1000) & 0xFFFFFFFF, ack=0, options=[])
    # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>: the peer, if real, answers with an exact RST.
    p.expect_ack("a challenge ACK")
    t.expect_counters(before, challenge_acks=1, rst_ignored=1, rst_received=0)
    p.probe_alive("an in-window RST does not reset")
    p.reset()


@scenario("listener", "rfc5961-rst-out-of-window-ignored", "RFC 5961 §3.2, RFC 9293 §3.10.7.4")
def rst_out_of_window(t):
    p = established(t)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # tshark believed the RSTs' seq
    before = t.stats()
    p.send("R", seq=(p.snd_nxt + 0x40000000) & 0xFFFFFFFF, ack=0, options=[])
    p.send("R", seq=(p.snd_nxt - 1) & 0xFFFFFFFF, ack=0, options=[])
    p.expect_nothing("an RST outside the window is dropped silently")
    t.expect_counters(before, rst_ignored=2, rst_received=0, challenge_acks=0)
    p.probe_alive("out-of-window RSTs do not reset")
    p.reset()


@scenario("listener", "rfc5961-syn-in-established-challenge-ack", "RFC 5961 §4.2, RFC 9293 §3.10.7.4 (fourth)")
def syn_established(t):
    p = established(t)
    t.allow("tcp.analysis.*", p)  # SYNs in the middle of a connection confuse tshark's analysis
    before = t.stats()
    good = p.tsval
    # A SYN in a synchronised state, in the window or not, gets a challenge ACK and never an RST.
    # Its timestamp is not taken as TS.Recent (the SYN is not accepted, RFC 7323 §4.3).
    p.send("S", seq=(p.snd_nxt + 10) & 0xFFFFFFFF, ack=0, options=p.syn_options(ALL_OPTIONS))
    p.expect_ack("a challenge ACK for the SYN in the window", tsecr=good)
    p.send("S", seq=random.randrange(1 << 32), ack=0, options=p.syn_options(ALL_OPTIONS))
    p.expect_ack("a challenge ACK for the SYN anywhere", tsecr=good)
    t.expect_counters(before, challenge_acks=2, drop_syn_in_synchronised=2, rst_sent=0)
    p.probe_alive("a SYN does not reset")
    p.reset()


@scenario("listener", "rfc5961-ack-of-unsent-data-dropped", "RFC 9293 §3.10.7.4 (fifth), RFC 5961 §5.2")
def ack_too_new(t):
    p = established(t)
    t.allow("tcp.analysis.ack_lost_segment", p, ip_src=TESTER_IP)  # we ACK what was never sent
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # the probe where the dropped data was
    # ... or, when it follows the dropped data by less than tshark's reordering threshold (the
    # round-trip time: a few milliseconds here), out of order, with other bytes at that sequence
    # number than the dropped segment's (as in data-paws-old-timestamp-dropped)
    t.allow("tcp.analysis.out_of_order", p, ip_src=TESTER_IP)
    t.allow("_ws.malformed.reassembly", p, ip_src=TESTER_IP)
    before = t.stats()
    # SEG.ACK > SND.NXT: "send an ACK, drop the segment" (its data is not accepted).
    p.send("PA", payload=b"data", ack=(p.rcv_nxt + 100000) & 0xFFFFFFFF, seq=p.snd_nxt)
    p.expect_ack("an ACK that does not accept the data")
    t.expect_counters(before, drop_ack_invalid=1, rx_bytes=0)
    p.probe_alive("the connection goes on")
    p.reset()


@scenario("listener", "rfc5961-ack-too-old-challenge-ack", "RFC 5961 §5.2")
def ack_too_old(t):
    p = established(t)
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # the probe where the dropped data was
    # ... or, when it follows the dropped data by less than tshark's reordering threshold (the
    # round-trip time: a few milliseconds here), out of order, with other bytes at that sequence
    # number than the dropped segment's (as in data-paws-old-timestamp-dropped)
    t.allow("tcp.analysis.out_of_order", p, ip_src=TESTER_IP)
    t.allow("_ws.malformed.reassembly", p, ip_src=TESTER_IP)
    before = t.stats()
    # SEG.ACK < SND.UNA - MAX.SND.WND (our window is 256 KiB): a blind injection; challenge ACK,
    # and the data is not accepted.
    p.send("PA", payload=b"data", ack=(p.rcv_nxt - 400000) & 0xFFFFFFFF, seq=p.snd_nxt)
    p.expect_ack("a challenge ACK")
    t.expect_counters(before, drop_ack_invalid=1, challenge_acks=1, rx_bytes=0)
    p.probe_alive("the connection goes on")
    p.reset()
