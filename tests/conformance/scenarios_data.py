"""Data: PAWS, windows, MSS, FIN with data (groups "listener" and "http")."""

from conformance import ALL_OPTIONS, DEFAULT_MSS, FAMILY, OUR_MSS, SYNWAVE_IP, TCP, TESTER_IP, check, fail, scenario

BODY = 1200
RESPONSE_HEAD = (b"HTTP/1.1 200 OK\r\nServer: synwave\r\nContent-Length: 1200\r\nConnection: close\r\n\r\n")
RESPONSE_LEN = len(RESPONSE_HEAD) + BODY
# "Connection: close": these scenarios follow a response to the server's FIN (the server keeps
# connections otherwise, RFC 9112 §9.3).
HOST = f"[{SYNWAVE_IP}]" if FAMILY == 6 else SYNWAVE_IP
REQUEST = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: conformance\r\nConnection: close\r\n\r\n".encode()


@scenario("listener", "data-paws-old-timestamp-dropped", "RFC 7323 §5.3 R1")
def paws(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    p.probe_alive("before the old segment")
    t.allow("tcp.analysis.duplicate_ack", p, ip_src=SYNWAVE_IP)  # the ACK answering the drop
    # the next segment reuses the dropped one's sequence number with other bytes
    t.allow("tcp.analysis.out_of_order", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.retransmission", p, ip_src=TESTER_IP)
    t.allow("_ws.malformed.reassembly", p, ip_src=TESTER_IP)
    good = p.tsval
    before = t.stats()
    # In sequence, but with a TSval older than TS.Recent: an old duplicate. Dropped, and ACKed.
    p.send("PA", payload=b"old", seq=p.snd_nxt, ts=(good - 1000, p.ts_recent))
    p.expect_ack("the ACK of a PAWS drop (the data not accepted)", tsecr=good)
    t.expect_counters(before, drop_paws=1, rx_bytes=0)
    p.probe_alive("newer segments still accepted")
    p.reset()


@scenario("listener", "data-beyond-the-window-dropped", "RFC 9293 §3.10.7.4 (first), §3.8.6")
def beyond_window(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    t.allow("tcp.analysis.*", p)  # a segment far beyond the window looks "lost" to tshark, and so on
    before = t.stats()
    good = p.tsval
    # Our window is 256 KiB: a segment that starts 300000 bytes on is not acceptable: ACK, drop.
    p.send("PA", payload=b"far", seq=(p.snd_nxt + 300000) & 0xFFFFFFFF)
    p.expect_ack("an ACK of what was really received", tsecr=good)
    t.expect_counters(before, drop_unacceptable=1, rx_bytes=0)
    p.probe_alive("after the unacceptable segment")
    p.reset()


@scenario("listener", "data-out-of-order-in-window-acked", "RFC 9293 §3.10.7.4 (seventh), RFC 5681 §4.2")
def out_of_order(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    t.allow("tcp.analysis.*", p)  # the gap we leave on purpose (lost segment, duplicate ACK)
    before = t.stats()
    good = p.tsval
    # (RFC 7323 §4.3: TS.Recent only from a segment that starts at or before RCV.NXT.)
    p.send("PA", payload=b"later", seq=(p.snd_nxt + 100) & 0xFFFFFFFF)
    p.expect_ack("an immediate duplicate ACK pointing at the gap", tsecr=good)
    t.expect_counters(before, drop_out_of_order=1, rx_bytes=0)
    p.probe_alive("in-order data after the gap")
    p.reset()


@scenario("listener", "data-in-order-advances-rcv-nxt", "RFC 9293 §3.10.7.4 (seventh)")
def in_order(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    before = t.stats()
    # The last one full-sized: our MSS less the timestamp option (1448 over IPv4, 1428 over IPv6).
    chunks = (b"a" * 100, b"b" * 1000, b"c" * (OUR_MSS - 12))
    for chunk in chunks:
        p.send("PA", payload=chunk)
        p.expect_ack(f"the ACK of {len(chunk)} bytes")
    t.expect_counters(before, rx_bytes=sum(len(c) for c in chunks))
    p.reset()


def collect_response(p, first=None):
    """synwave's response segments up to and including its FIN; returns their payload sizes."""
    sizes = []
    pkt = first
    while True:
        if pkt is None:
            pkt = p.expect("response data")
        tcp = pkt[TCP]
        if tcp.seq != (p.rcv_nxt - len(bytes(tcp.payload)) - ("F" in str(tcp.flags))) & 0xFFFFFFFF:
            fail(f"response segment out of sequence: seq {tcp.seq}, expected {p.rcv_nxt}")
        if tcp.ack != p.snd_nxt:
            fail(f"response segment acks {tcp.ack}, expected {p.snd_nxt}")
        sizes.append(len(bytes(tcp.payload)))
        if "F" in str(tcp.flags):
            return sizes
        pkt = None


def finish(p, sizes):
    if sum(sizes) != RESPONSE_LEN:
        fail(f"response of {sum(sizes)} bytes in segments {sizes}, expected {RESPONSE_LEN}")
    p.send("FA")
    p.expect_ack("the ACK of our FIN (TIME-WAIT)")


@scenario("http", "http-fin-with-data", "RFC 9293 §3.10.7.4 (seventh and eighth)")
def fin_with_data(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    # The request and our FIN in one segment: the text is processed, then the FIN, and only then
    # does anything go out, so every segment of the response acknowledges the FIN as well (as
    # Linux's do), and no separate ACK of the FIN follows.
    p.send("FPA", payload=REQUEST)
    sizes = collect_response(p)  # each segment must ack p.snd_nxt: the request and our FIN
    if sum(sizes) != RESPONSE_LEN:
        fail(f"response of {sum(sizes)} bytes, expected {RESPONSE_LEN}")
    p.send("A")
    p.expect_nothing("our ACK of its FIN ends the connection; no late ACK of our FIN")


# 536 over IPv4, 1220 over IPv6 (the IPv6 minimum MTU, 1280, less 60): the scenario's name says which.
@scenario("http", f"http-no-mss-option-means-{DEFAULT_MSS}",
          "RFC 9293 §3.7.1, RFC 1122 §4.2.2.6" + (", RFC 8200 §5" if FAMILY == 6 else ""))
def mss_default(t):
    p = t.peer()
    p.handshake(())
    p.send("PA", payload=REQUEST)
    sizes = collect_response(p)
    if max(sizes) > DEFAULT_MSS or sizes[0] != DEFAULT_MSS:
        fail(f"segments of {sizes} bytes: a peer without an MSS option gets {DEFAULT_MSS}-byte segments")
    finish(p, sizes)


@scenario("http", "http-mss-minus-timestamp-option", "RFC 6691 §2, RFC 7323 §3")
def mss_with_ts(t):
    p = t.peer(mss=1000)
    p.handshake(ALL_OPTIONS)
    p.send("PA", payload=REQUEST)
    sizes = collect_response(p)
    # The 12 bytes of the timestamp option come out of the MSS: 988 bytes of data per segment.
    if sizes[0] != 988 or max(sizes) > 988:
        fail(f"segments of {sizes} bytes, expected at most and first 988 (MSS 1000 - 12)")
    finish(p, sizes)


@scenario("http", "http-send-window-respected", "RFC 9293 §3.8.6")
def send_window(t):
    p = t.peer()
    p.handshake(("mss", "ts"))
    t.allow("tcp.analysis.window_full", p, ip_src=SYNWAVE_IP)  # synwave fills the 100 bytes
    t.allow("tcp.analysis.window_update", p, ip_src=TESTER_IP)  # and we open it again
    p.send("PA", payload=REQUEST, window=100)
    first = p.expect("the first 100 bytes")
    check(first, flags="A", seq=p.rcv_nxt - 100, payload_len=100)
    p.send("A", window=65535)
    sizes = [100] + collect_response(p)
    finish(p, sizes)


@scenario("http", "http-zero-window-probe", "RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17")
def zero_window(t):
    p = t.peer()
    p.handshake(ALL_OPTIONS)
    t.allow("tcp.analysis.zero_window*", p)
    t.allow("tcp.analysis.window_update", p, ip_src=TESTER_IP)
    # tshark does not count the probe's byte as data: our ACK of it, and the data after it, look
    # like they skip a segment
    t.allow("tcp.analysis.ack_lost_segment", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.lost_segment", p, ip_src=SYNWAVE_IP)
    before = t.stats()
    p.send("PA", payload=REQUEST, window=0)
    p.expect_ack("the ACK of the request, no data into a zero window")
    # The persist timer: one byte beyond the window, until the window opens.
    probe = p.expect("a zero-window probe")
    check(probe, flags="A", seq=p.rcv_nxt - 1, payload_len=1)
    p.send("A", window=512)
    sizes = [1] + collect_response(p)
    t.expect_counters(before, conn_failed=0)
    finish(p, sizes)
