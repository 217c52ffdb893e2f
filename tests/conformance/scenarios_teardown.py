"""Closing: FIN-WAIT-1/2, CLOSING, TIME-WAIT (group "closing": synwave sends its FIN right after
the handshake; TIME-WAIT lasts 2 s, FIN-WAIT-2 1 s)."""

import time

from conformance import ALL_OPTIONS, SYNWAVE_IP, TCP, TESTER_IP, check, fail, scenario


def handshake_and_fin(t, offer=ALL_OPTIONS):
    """A connection whose server side has closed: returns the peer and synwave's FIN."""
    p = t.peer()
    p.handshake(offer)
    fin = p.expect("synwave's FIN right after the handshake (--close server)")
    check(fin, flags="FA", seq=(p.rcv_nxt - 1) & 0xFFFFFFFF, ack=p.snd_nxt, window=p.established_window(),
          options=p.ts_opts(), payload_len=0, what="FIN")
    return p, fin


def reach_time_wait(t, offer=ALL_OPTIONS):
    """synwave in TIME-WAIT: its FIN acknowledged by our FIN+ACK, whose ACK it sent."""
    p, fin = handshake_and_fin(t, offer)
    before = t.stats()
    p.send("FA")
    p.expect_ack("the ACK of our FIN (FIN-WAIT-1 -> TIME-WAIT)")
    t.expect_counters(before, time_wait_entered=1)
    p.fin_seq = (p.snd_nxt - 1) & 0xFFFFFFFF
    return p


@scenario("closing", "teardown-fin-wait-1-fin-ack-to-time-wait", "RFC 9293 §3.10.7.4 (eighth), §3.6")
def fin_ack_to_time_wait(t):
    p = reach_time_wait(t)
    stats = t.stats()
    if stats["time_wait"] < 1:
        fail(f"no TIME-WAIT entry after the exchange: {stats['time_wait']}")


@scenario("closing", "teardown-fin-retransmitted-in-time-wait", "RFC 9293 §3.10.7.4 (TIME-WAIT: ACK, restart 2MSL)")
def fin_retransmitted(t):
    p = reach_time_wait(t)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # the FIN again, on purpose
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)  # and its ACK again
    before = t.stats()
    p.send("FA", seq=p.fin_seq)  # our ACK of the first FIN "was lost": the FIN again
    p.expect_ack("the same ACK again")
    t.expect_counters(before, time_wait_entered=0, rst_sent=0)


@scenario("closing", "teardown-rfc1337-rst-ignored-in-time-wait", "RFC 1337 §3 (F1)")
def rfc1337(t):
    p = reach_time_wait(t)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)
    before = t.stats()
    p.send("R", ack=0, advance=False, options=[])
    p.send("RA", advance=False, options=[])
    p.expect_nothing("an RST in TIME-WAIT is ignored, not answered")
    t.expect_counters(before, rst_ignored=2, rst_received=0)
    # TIME-WAIT survived: a retransmitted FIN is still acknowledged from it.
    p.send("FA", seq=p.fin_seq)
    p.expect_ack("TIME-WAIT's ACK after the RSTs")


@scenario("closing", "teardown-rfc6191-newer-timestamp-reuses-time-wait", "RFC 6191 §2")
def rfc6191_newer(t):
    p = reach_time_wait(t)
    t.allow("tcp.analysis.reused_ports", p)  # the point of the scenario
    before = t.stats()
    # A new SYN on the same tuple with a larger TSval (and ISN): TIME-WAIT ends, a new handshake.
    p.isn = (p.snd_nxt + 100000) & 0xFFFFFFFF
    p.snd_nxt = p.isn
    p.send_syn(ALL_OPTIONS)
    p.expect_synack()
    t.expect_counters(before, time_wait_reused=1, syn_received=1)
    p.reset()


@scenario("closing", "teardown-rfc6191-older-timestamp-gets-ack", "RFC 6191 §2, RFC 7323 §5.3")
def rfc6191_older(t):
    p = reach_time_wait(t)
    t.allow("tcp.analysis.reused_ports", p, ip_src=TESTER_IP)  # the old SYN on the same ports
    before = t.stats()
    last_good = p.tsval
    # A SYN whose TSval is older than TS.Recent is an old duplicate even with a larger ISN: it is
    # answered with TIME-WAIT's ACK (as Linux does), never with a SYN-ACK.
    syn = p.segment("S", seq=(p.snd_nxt + 100000) & 0xFFFFFFFF, ack=0,
                    options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (p.tsval - 1000, 0)),
                             ("NOP", None), ("WScale", 9)])
    p.send_frame(syn)
    p.expect_ack("TIME-WAIT's ACK", tsecr=last_good)
    t.expect_counters(before, time_wait_reused=0, syn_received=0)


@scenario("closing", "teardown-time-wait-without-timestamps-isn-rule", "RFC 6191 §2, RFC 1122 §4.2.2.13")
def time_wait_isn_rule(t):
    p = reach_time_wait(t, ("mss", "wscale", "sack"))
    t.allow("tcp.analysis.reused_ports", p)
    # tshark takes the old-ISN SYN for a new session, so TIME-WAIT's ACK acks "unseen" data
    t.allow("tcp.analysis.ack_lost_segment", p, ip_src=SYNWAVE_IP)
    before = t.stats()
    # Without timestamps only the ISN can tell: one below RCV.NXT gets the ACK...
    p.send_frame(p.segment("S", seq=(p.snd_nxt - 100000) & 0xFFFFFFFF, ack=0, options=[("MSS", 1460)]))
    p.expect_ack("TIME-WAIT's ACK for a SYN with an older ISN")
    t.expect_counters(before, time_wait_reused=0)
    # ... one above reopens the tuple.
    p.isn = (p.snd_nxt + 100000) & 0xFFFFFFFF
    p.snd_nxt = p.isn
    p.send_syn(("mss",))
    p.expect_synack()
    t.expect_counters(before, time_wait_reused=1)
    p.reset()


@scenario("closing", "teardown-simultaneous-close", "RFC 9293 §3.6 figure 13, §3.10.7.4 (CLOSING)")
def simultaneous_close(t):
    p, fin = handshake_and_fin(t)
    before = t.stats()
    # Our FIN crossed synwave's: it acknowledges everything but synwave's FIN.
    p.send("FA", ack=fin[TCP].seq)
    p.expect_ack("the ACK of our FIN (FIN-WAIT-1 -> CLOSING)")
    p.send("A")  # now synwave's FIN: CLOSING -> TIME-WAIT, nothing to answer
    p.expect_nothing("an ACK is not answered")
    t.expect_counters(before, time_wait_entered=1, rst_sent=0)
    fin_seq = (p.snd_nxt - 1) & 0xFFFFFFFF
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)
    p.send("FA", seq=fin_seq)
    p.expect_ack("TIME-WAIT's ACK to our FIN sent again")


@scenario("closing", "teardown-fin-wait-2-timeout", "RFC 9293 §3.10.7.4 (FIN-WAIT-2), Linux tcp_fin_timeout")
def fin_wait_2_timeout(t):
    p, fin = handshake_and_fin(t)
    p.send("A")  # acknowledges synwave's FIN, sends none: synwave waits in FIN-WAIT-2
    p.expect_nothing("an ACK is not answered")
    before = t.stats()
    time.sleep(1.5)  # --fin-wait2-timeout 1
    t.expect_counters(before, conn_failed_fin_wait2_timeout=1, rst_sent=0)
    p.expect_nothing("the timeout ends the connection silently (as Linux does)", timeout=0.1)
    # The record is gone: our late data meets the listener and is refused.
    p.send("PA", payload=b"late")
    rst = p.expect("RST: no connection any more")
    check(rst, flags="R", seq=p.rcv_nxt, ack=0, payload_len=0)


@scenario("closing", "teardown-ack-of-fin-then-fin", "RFC 9293 §3.10.7.4 (FIN-WAIT-2 -> TIME-WAIT)")
def fin_wait_2_then_fin(t):
    p, fin = handshake_and_fin(t)
    p.send("A")
    p.expect_nothing("an ACK is not answered")
    before = t.stats()
    p.send("FA")
    p.expect_ack("the ACK of our FIN (FIN-WAIT-2 -> TIME-WAIT)")
    t.expect_counters(before, time_wait_entered=1)


@scenario("listener", "teardown-newer-syn-ends-last-ack", "RFC 6191 §2 in LAST-ACK (RFC 5961 §4.2 otherwise)")
def newer_syn_ends_last_ack(t):
    """A peer with no TIME-WAIT (dperf's client) that lost its ACK of synwave's FIN opens the tuple
    again, without timestamps. A SYN that is not newer than the old incarnation gets the challenge
    ACK; one whose ISN lies above RCV.NXT ends LAST-ACK and is answered with a SYN-ACK."""
    offer = ("mss", "wscale", "sack")
    p = t.peer()
    p.handshake(offer)
    t.allow("tcp.analysis.*", p)  # a SYN on a tuple still open, on purpose
    before = t.stats()
    p.send("FA")
    p.expect_ack("synwave's FIN with the ACK of ours (--close client: CLOSE-WAIT -> LAST-ACK)", flags="FA")
    # Our ACK of that FIN "is lost": the next thing synwave hears is a SYN on the same tuple.
    p.send("S", advance=False, ack=0, window=65535, options=p.syn_options(offer))  # ISN = RCV.NXT: not newer
    p.expect_ack("a challenge ACK: a SYN not newer than the old incarnation does not end LAST-ACK")
    t.expect_counters(before, challenge_acks=1, last_ack_reused=0)
    p.isn = p.snd_nxt = (p.snd_nxt + 1) & 0xFFFFFFFF  # as dperf's next ISN: one above RCV.NXT
    p.send_syn(offer)
    p.expect_synack(offer)
    p.send("A")
    t.expect_counters(before, challenge_acks=1, last_ack_reused=1, conn_completed=1, rst_sent=0)
    p.probe_alive("the new incarnation is established")
    p.reset()
