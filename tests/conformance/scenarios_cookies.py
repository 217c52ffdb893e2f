"""SYN cookies (group "cookies": --syn-cookies always, secrets rotated every second).

The cookie's layout (include/synwave/syn_cookie.hpp): our ISN = counter mod 4 (2 bits) | MSS
index (3 bits) | 27-bit MAC; window scale and SACK-permitted ride in our TSval when the SYN had
timestamps. The MSS index points into the family's table (kCookieMssTable, kCookieMssTable6)."""

import random
import time

from conformance import ALL_OPTIONS, COOKIE_MSS_TABLE, SYNWAVE_IP, TCP, TESTER_IP, check, fail, scenario

MSS_TABLE = COOKIE_MSS_TABLE


def mss_index(mss):
    return max(i for i, v in enumerate(MSS_TABLE) if v <= mss) if mss >= MSS_TABLE[0] else 0


@scenario("cookies", "cookie-valid-keeps-options", "RFC 4987 §3.6, RFC 7323 §1.3")
def cookie_valid(t):
    p = t.peer(mss=1400)
    before = t.stats()
    p.send_syn(ALL_OPTIONS)
    synack = p.expect_synack()  # with timestamps, the cookie keeps WS and SACK: all echoed
    t.expect_counters(before, cookies_sent=1, syn_received=1)
    got = (synack[TCP].seq >> 27) & 7
    if got != mss_index(1400):
        fail(f"cookie MSS index {got}, expected {mss_index(1400)} (1400 rounded down to {MSS_TABLE[mss_index(1400)]})")
    if t.stats()["half_open"] != 0:
        fail("a half-open entry was kept although every SYN gets a cookie")
    p.send("A")
    p.probe_alive("rebuilt from the cookie, window scaled")
    t.expect_counters(before, cookies_valid=1, conn_accepted=1)
    p.reset()


@scenario("cookies", "cookie-without-timestamps-drops-ws-and-sack", "RFC 4987 §3.6 (what a cookie cannot keep)")
def cookie_no_ts(t):
    p = t.peer()
    before = t.stats()
    p.send_syn(("mss", "wscale", "sack"))
    # Without timestamps the cookie has no room for window scale and SACK-permitted: the SYN-ACK
    # must not agree to what the connection could not remember.
    p.expect_synack(offer=("mss",))
    p.scaled = False
    p.send("A")
    p.probe_alive("rebuilt from the cookie, window unscaled")
    t.expect_counters(before, cookies_valid=1)
    p.reset()


@scenario("cookies", "cookie-forged-ack-gets-rst", "RFC 4987 §3.6, RFC 9293 §3.10.7.2")
def cookie_forged(t):
    p = t.peer()
    before = t.stats()
    ack = random.randrange(1 << 32)
    p.send("A", ack=ack)
    rst = p.expect("RST for a forged cookie")
    check(rst, flags="R", seq=ack, ack=0, payload_len=0, options={})
    t.expect_counters(before, cookies_invalid=1, cookies_valid=0, conn_accepted=0)


@scenario("cookies", "cookie-wrong-mss-index-gets-rst", "RFC 4987 §3.6 (the MAC covers the MSS index)")
def cookie_wrong_mss(t):
    p = t.peer()
    p.send_syn(ALL_OPTIONS)
    synack = p.expect_synack()
    cookie = synack[TCP].seq
    other = (((cookie >> 27) & 7) + 3) & 7
    tampered = (cookie & ~(7 << 27)) | (other << 27)
    # after the RST's zero window tshark takes our next segment for a window probe
    t.allow("tcp.analysis.zero_window_probe*", p, ip_src=TESTER_IP)
    t.allow("tcp.analysis.ack_lost_segment", p, ip_src=SYNWAVE_IP)
    before = t.stats()
    p.send("A", ack=(tampered + 1) & 0xFFFFFFFF, advance=False)
    rst = p.expect("RST for a cookie whose MSS index was changed")
    check(rst, flags="R", seq=(tampered + 1) & 0xFFFFFFFF, ack=0, payload_len=0)
    t.expect_counters(before, cookies_invalid=1, cookies_valid=0)
    # The genuine ACK still works: nothing was stored, nothing was spoilt.
    p.send("A")
    p.probe_alive("the genuine cookie after the tampered one")
    t.expect_counters(before, cookies_valid=1)
    p.reset()


@scenario("cookies", "cookie-stale-secret-gets-rst", "RFC 4987 §3.6 (cookies expire)")
def cookie_stale(t):
    p = t.peer()
    p.send_syn(ALL_OPTIONS)
    p.expect_synack()
    time.sleep(3.2)  # three rotations of a 1 s secret and counter period: the cookie is dead
    before = t.stats()
    p.send("A", advance=False)
    rst = p.expect("RST for a stale cookie")
    check(rst, flags="R", seq=p.rcv_nxt, ack=0, payload_len=0)
    after = t.stats()
    rejected = (after["cookies_invalid"] - before["cookies_invalid"]) + (after["cookies_stale"] - before["cookies_stale"])
    if rejected != 1 or after["cookies_valid"] != before["cookies_valid"]:
        fail(f"stale cookie: invalid+stale moved by {rejected}, valid by {after['cookies_valid'] - before['cookies_valid']}")


@scenario("cookies", "cookie-ack-carrying-data", "RFC 9293 §3.10.7.4 (data on the handshake's ACK)")
def cookie_ack_with_data(t):
    p = t.peer()
    p.send_syn(ALL_OPTIONS)
    p.expect_synack()
    before = t.stats()
    p.send("PA", payload=b"hello")
    p.expect_ack("the ACK of the data that rode on the cookie's ACK")
    t.expect_counters(before, cookies_valid=1, rx_bytes=5)
    p.reset()
