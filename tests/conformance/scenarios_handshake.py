"""Handshake variants against a listener (group "listener")."""

import itertools

from conformance import (ALL_OPTIONS, CLOSED_PORT, SYNWAVE_IP, TCP, TESTER_IP, check, fail, scenario)

OPTION_NAMES = {"mss": "mss", "wscale": "ws", "sack": "sack", "ts": "ts"}


def combo_name(combo):
    return "+".join(OPTION_NAMES[o] for o in combo) or "none"


# Every combination of the four SYN options: the SYN-ACK answers MSS always and echoes exactly
# the others the SYN offered; the connection then uses what was agreed (scaled window, timestamps).
for size in range(len(ALL_OPTIONS) + 1):
    for combo in itertools.combinations(ALL_OPTIONS, size):
        def options_combination(t, combo=combo):
            p = t.peer()
            p.send_syn(combo)
            p.expect_synack()  # options, window 65535 (never scaled in a SYN), ack = ISN + 1
            p.send("A")
            # Established with what was agreed: one byte is acknowledged with the window scaled by
            # 2^7 only if the SYN offered window scaling, and with a timestamp only if it offered them.
            p.probe_alive("established")
            before = t.stats()
            p.reset()
            p.expect_nothing("an RST at RCV.NXT is believed and not answered")
            t.expect_counters(before, rst_received=1)

        scenario("listener", f"handshake-options-{combo_name(combo)}",
                 "RFC 9293 §3.7.1, RFC 7323 §1.3 §2.2 §3.2, RFC 2018 §2")(options_combination)


@scenario("listener", "handshake-syn-with-data", "RFC 9293 §3.10.7.2")
def syn_with_data(t):
    # Data on a SYN may be queued or dropped; synwave (like Linux without TFO) keeps only the SYN,
    # so the SYN-ACK acknowledges the SYN alone and the client sends the data again.
    p = t.peer()
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # the data sent again
    p.send_syn(ALL_OPTIONS, payload=b"early data")
    p.expect_synack()  # ack = ISN + 1, not ISN + 1 + 10
    p.snd_nxt = (p.isn + 1) & 0xFFFFFFFF
    p.send("A")
    p.send("PA", payload=b"early data")
    p.expect_ack("the ACK of the data sent again after the handshake")
    p.reset()


@scenario("listener", "handshake-syn-fin-dropped", "RFC 9293 §3.10.7.2 (Linux drops SYN+FIN in LISTEN)")
def syn_fin(t):
    p = t.peer()
    before = t.stats()
    p.send("SF", options=p.syn_options(ALL_OPTIONS))
    p.expect_nothing("SYN+FIN is nonsense and is dropped")
    t.expect_counters(before, syn_received=0, synack_sent=0, drop_no_connection=1)


@scenario("listener", "handshake-duplicate-syn-in-syn-received", "RFC 9293 §3.10.7.4, RFC 4987 §3.3")
def duplicate_syn(t):
    p = t.peer()
    t.allow("tcp.analysis.retransmission", p)  # the SYN again, and so the SYN-ACK
    t.allow("tcp.analysis.window_update", p, ip_src=TESTER_IP)  # our ACK after the second SYN
    p.send_syn(("mss", "wscale", "sack", "ts"))
    first = p.expect_synack()
    before = t.stats()
    # The same SYN again (same ISN; a retransmission): the same SYN-ACK, nothing new kept. Its
    # TSecr still echoes the first SYN: the copy is not in the window (RFC 7323 §4.3), and Linux's
    # tcp_check_req answers a retransmitted SYN the same way.
    p.snd_nxt = p.isn
    p.send("S", options=p.syn_options(p.offered), window=65535)
    again = p.expect_synack()
    if again[TCP].seq != first[TCP].seq:
        fail(f"the second SYN-ACK has ISS {again[TCP].seq}, the first {first[TCP].seq}")
    t.expect_counters(before, synack_retransmitted=1, syn_received=0)
    p.send("A")
    p.probe_alive("established after the duplicate SYN")
    p.reset()


@scenario("listener", "handshake-syn-to-closed-port", "RFC 9293 §3.10.7.1")
def syn_closed_port(t):
    p = t.peer(dport=CLOSED_PORT)
    before = t.stats()
    p.send_syn(ALL_OPTIONS)
    rst = p.expect("RST/ACK")
    # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting the SYN.
    check(rst, flags="RA", seq=0, ack=(p.isn + 1) & 0xFFFFFFFF, window=0, options={}, payload_len=0)
    t.expect_counters(before, drop_no_listener_rst=1, rst_sent=1)


@scenario("listener", "handshake-rst-to-closed-port-ignored", "RFC 9293 §3.10.7.1")
def rst_closed_port(t):
    p = t.peer(dport=CLOSED_PORT)
    before = t.stats()
    p.send("R", ack=0)
    p.send("RA", ack=12345)
    p.expect_nothing("an RST is never answered")
    t.expect_counters(before, drop_no_connection=2, rst_sent=0)


@scenario("listener", "handshake-bare-ack-to-listener", "RFC 9293 §3.10.7.2")
def bare_ack_listener(t):
    p = t.peer()
    before = t.stats()
    p.send("A", ack=0x12345678)
    rst = p.expect("RST")
    # Any ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>. Cookies are on overflow only and this
    # listener has sent none, so it is not checked as a cookie (as Linux does).
    check(rst, flags="R", seq=0x12345678, ack=0, window=0, options={}, payload_len=0)
    t.expect_counters(before, rst_sent=1, drop_no_listener_rst=1, cookies_invalid=0, conn_accepted=0)


@scenario("listener", "handshake-rst-to-listener-ignored", "RFC 9293 §3.10.7.2")
def rst_listener(t):
    p = t.peer()
    before = t.stats()
    p.send("R", ack=0)
    p.expect_nothing("an RST to a listener is ignored")
    t.expect_counters(before, drop_no_connection=1, rst_sent=0)


@scenario("listener", "handshake-bad-ack-in-syn-received", "RFC 9293 §3.10.7.4 (fifth, SYN-RECEIVED)")
def bad_ack_syn_received(t):
    p = t.peer()
    p.send_syn(ALL_OPTIONS)
    synack = p.expect_synack()
    t.allow("tcp.analysis.ack_lost_segment", p)  # acks what was never sent
    # ... and after the RST's zero window, our next segment looks like a window probe to tshark
    t.allow("tcp.analysis.zero_window_probe*", p)
    wrong = (synack[TCP].seq + 1000) & 0xFFFFFFFF
    p.send("A", ack=wrong, advance=False)
    rst = p.expect("RST for the unacceptable ACK")
    check(rst, flags="R", seq=wrong, ack=0, options={}, payload_len=0)
    # The half-open entry stays: the right ACK still completes the handshake.
    p.send("A")
    p.probe_alive("established after the bad ACK")
    p.reset()


@scenario("listener", "handshake-rst-at-rcv-nxt-in-syn-received", "RFC 5961 §3.2, RFC 9293 §3.10.7.4")
def rst_exact_syn_received(t):
    p = t.peer()
    p.send_syn(ALL_OPTIONS)
    synack = p.expect_synack()
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)  # the ACK after the RST
    before = t.stats()
    p.send("R", ack=0, advance=False, options=[])
    p.expect_nothing("an RST exactly at RCV.NXT ends the half-open entry silently")
    t.expect_counters(before, rst_received=1, syn_rcvd_reset=1)
    # Nothing is left: the handshake's ACK now meets the bare listener and is refused.
    p.send("A")
    rst = p.expect("RST: no half-open entry any more")
    check(rst, flags="R", seq=(synack[TCP].seq + 1) & 0xFFFFFFFF, ack=0, payload_len=0)


@scenario("listener", "handshake-rst-in-window-in-syn-received", "RFC 5961 §3.2")
def rst_window_syn_received(t):
    p = t.peer()
    p.send_syn(("mss", "wscale", "sack"))  # no timestamps: the challenge ACK then has no options
    synack = p.expect_synack()
    # tshark takes the RST's sequence number as the stream's, so the ACK after it looks resent,
    # and the challenge ACK's window (scaled now) as an update
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.out_of_order", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.window_update", p, ip_src=SYNWAVE_IP)
    before = t.stats()
    p.send("R", seq=(p.snd_nxt + 1000) & 0xFFFFFFFF, ack=0, options=[])
    ack = p.expect("a challenge ACK")
    check(ack, flags="A", seq=(synack[TCP].seq + 1) & 0xFFFFFFFF, ack=p.snd_nxt, options={}, payload_len=0)
    t.expect_counters(before, challenge_acks=1, rst_ignored=1, rst_received=0)
    p.send("A")
    p.probe_alive("the handshake still completes")
    p.reset()


@scenario("listener", "handshake-unacceptable-segment-in-syn-received-gets-ack", "RFC 9293 §3.10.7.4 (first check)")
def unacceptable_syn_received(t):
    p = t.peer()
    p.send_syn(("mss", "wscale", "sack"))
    synack = p.expect_synack()
    t.allow("tcp.analysis.*", p, ip_src=TESTER_IP)  # a segment from before the window, on purpose
    t.allow("tcp.analysis.window_update", p, ip_src=SYNWAVE_IP)  # the ACK's window is scaled, the SYN-ACK's not
    before = t.stats()
    # An ACK of our SYN but with a sequence number before the window: not acceptable, so
    # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and drop (Linux's tcp_check_req does the same); the
    # half-open entry stays.
    p.send("A", seq=(p.snd_nxt - 5000) & 0xFFFFFFFF, advance=False)
    ack = p.expect("an ACK for the unacceptable segment")
    check(ack, flags="A", seq=(synack[TCP].seq + 1) & 0xFFFFFFFF, ack=p.snd_nxt, options={}, payload_len=0)
    t.expect_counters(before, drop_unacceptable=1, conn_accepted=0)
    p.send("A")
    p.probe_alive("the handshake still completes")
    p.reset()
