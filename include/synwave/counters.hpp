#pragma once
// Per-lcore event counters. One writer (the lcore that owns the engine), so plain increments;
// the control plane reads them with relaxed loads and sums across lcores. The list below is the
// single source of the counter names that appear in stats lines, JSON reports and telemetry.
#include <cstdint>
#include <string_view>

namespace synwave {

// X(name, description)
#define SYNWAVE_COUNTERS(X)                                                                 \
  X(rx_frames, "frames given to the engine")                                                \
  X(tx_frames, "frames the engine emitted")                                                 \
  X(rx_bytes, "payload bytes received in order")                                           \
  X(tx_bytes, "payload bytes sent, first transmissions only")                              \
  X(tx_retransmitted_bytes, "payload bytes sent again (timeout or fast retransmit)")         \
  X(arp_requests_received, "ARP requests for one of our addresses")                        \
  X(arp_replies_sent, "ARP replies we sent")                                               \
  X(arp_requests_sent, "ARP requests we sent to resolve a neighbour")                      \
  X(arp_replies_received, "ARP replies and gleaned entries learnt")                        \
  X(syn_received, "SYNs received for a listener")                                          \
  X(synack_sent, "SYN-ACKs sent, first transmissions")                                     \
  X(synack_retransmitted, "SYN-ACKs sent again by timer or duplicate SYN")                 \
  X(syn_sent, "SYNs sent by active opens, first transmissions")                            \
  X(syn_retransmitted, "SYNs sent again after a timeout")                                  \
  X(conn_opened, "active opens started")                                                   \
  X(conn_accepted, "passive opens that reached ESTABLISHED")                               \
  X(conn_established, "connections that reached ESTABLISHED, either side")                 \
  X(conn_completed, "connections that ran their workload and closed normally")            \
  X(conn_failed, "connections that ended abnormally (sum of the conn_failed_* reasons)")   \
  X(conn_failed_connect_timeout, "active open gave up after the SYN retries")              \
  X(conn_failed_refused, "active open answered with RST")                                  \
  X(conn_failed_reset, "connection reset by the peer after synchronisation")               \
  X(conn_failed_timeout, "retransmission retries exhausted on a synchronised connection") \
  X(conn_failed_fin_wait2_timeout, "FIN_WAIT_2 timed out")                                 \
  X(conn_failed_incomplete, "closed normally before the workload's exchange finished")   \
  X(conn_aborted_by_policy, "connections we reset on purpose (close policy rst)")          \
  X(retransmits, "segments sent again by RTO or fast retransmit (all kinds)")              \
  X(rto_expired, "retransmission timer expiries")                                          \
  X(fast_retransmits, "retransmissions triggered by three duplicate ACKs")                 \
  X(dup_acks, "duplicate ACKs received")                                                   \
  X(delayed_acks, "ACKs sent by the delayed-ACK timer")                                    \
  X(rst_sent, "RSTs sent")                                                                 \
  X(rst_received, "RSTs received and accepted")                                           \
  X(rst_ignored, "RSTs received and ignored (out of window, TIME_WAIT per RFC 1337)")     \
  X(challenge_acks, "challenge ACKs sent (RFC 5961)")                                      \
  X(challenge_acks_suppressed, "challenge ACKs withheld by the rate limit")                \
  X(half_open_evicted, "half-open entries evicted, oldest first, from a full SYN backlog")  \
  X(cookies_sent, "SYN-ACKs answered with a SYN cookie")                                  \
  X(cookies_valid, "final ACKs that carried a valid cookie (connection rebuilt)")        \
  X(cookies_invalid, "final ACKs whose cookie MAC was wrong (forged or mangled)")       \
  X(cookies_stale, "final ACKs whose cookie was older than two periods")                \
  X(accept_queue_overflow, "final ACKs refused because the accept queue was full")       \
  X(accepted_by_app, "connections the application took from the accept queue")          \
  X(time_wait_overflow, "connections that skipped TIME-WAIT: the table was full")        \
  X(conn_failed_idle_timeout, "automatic workload gave up on a silent peer")              \
  X(conn_failed_response_timeout, "client gave up waiting for the whole response")          \
  X(conn_failed_overload, "reset to free its record: retransmitting while the pool was nearly full") \
  X(reclaimed_exchange_over, "records freed like conn_failed_overload's but in LAST-ACK or CLOSING with only our FIN unacknowledged: counted as the ACK of that FIN would have counted them (complete when their workload was done)") \
  X(conn_failed_http_status, "client: a complete HTTP response whose status was not 2xx (or no HTTP/1.x status line)") \
  X(conn_failed_http_framing, "client: a malformed chunked body (the connection is reset)") \
  X(http_requests_read, "server: HTTP requests read (a kept connection reads several; each is answered)") \
  X(http_responses_read, "client: complete HTTP responses read (a kept connection reads several)") \
  X(http_keep_alive_closed, "server: a kept connection closed (FIN) after --idle-timeout without a next request") \
  X(http_server_kept_open, "client, --close server: the server kept the connection open 1 s after a complete response, so the client closed it") \
  X(syn_rcvd_timeout, "half-open connections dropped after the SYN-ACK retries")          \
  X(syn_rcvd_reset, "half-open connections ended by RST or a new SYN (back to LISTEN)")  \
  X(time_wait_entered, "connections that entered TIME_WAIT")                               \
  X(time_wait_reused, "TIME_WAIT tuples reused by a newer SYN (RFC 6191)")                 \
  X(last_ack_reused, "LAST-ACK or CLOSING records ended by a newer SYN for their tuple, whose peer had closed and lost the ACK of our FIN (RFC 6191's test, as in TIME-WAIT); counted as that ACK would have counted them") \
  X(syn_refused_time_wait, "SYNs that met a tuple in TIME-WAIT and could not reuse it (not newer: no timestamps and an ISN not above RCV.NXT, or an older TSval); answered with the TIME-WAIT ACK") \
  X(drop_eth_truncated, "drop: frame shorter than an Ethernet header")                     \
  X(drop_eth_not_for_us, "drop: destination MAC neither ours nor broadcast")               \
  X(drop_eth_unknown_type, "drop: EtherType neither IPv4 nor ARP")                        \
  X(drop_arp_malformed, "drop: ARP that is not Ethernet/IPv4 or is truncated")             \
  X(drop_arp_not_for_us, "drop: ARP request for an address we do not own")                 \
  X(drop_ip_truncated, "drop: IPv4 header or total length beyond the frame")               \
  X(drop_ip_bad_version, "drop: IP version is not 4")                                     \
  X(drop_ip_bad_header_length, "drop: IPv4 IHL below 5")                                  \
  X(drop_ip_bad_total_length, "drop: IPv4 total length inconsistent")                     \
  X(drop_ip_bad_checksum, "drop: IPv4 header checksum wrong")                             \
  X(drop_ip_fragment, "drop: IPv4 fragment (no reassembly by design)")                    \
  X(drop_ip_not_for_us, "drop: destination IP not ours")                                  \
  X(drop_ip_not_tcp, "drop: IP protocol other than TCP")                                  \
  X(drop_ip_bad_source, "drop: source address broadcast, multicast, zero or ours")       \
  X(drop_tcp_truncated, "drop: TCP header shorter than 20 bytes")                         \
  X(drop_tcp_bad_data_offset, "drop: TCP data offset below 5 or past the segment")        \
  X(drop_tcp_bad_checksum, "drop: TCP checksum wrong")                                    \
  X(tcp_bad_options, "segments whose options stopped parsing early (kept, per MUST-7)")   \
  X(drop_no_listener_rst, "segments for no connection and no listener (answered by RST)") \
  X(drop_no_connection, "segments for no connection that get no reply (RST, stray)")     \
  X(drop_unacceptable, "segments outside the receive window (answered by ACK)")           \
  X(drop_paws, "segments dropped by PAWS (RFC 7323 §5)")                                  \
  X(drop_ack_invalid, "segments whose ACK is unacceptable")                               \
  X(drop_out_of_order, "in-window data past RCV.NXT not held (not counted bytes, or no room): ACKed, resent later") \
  X(rx_out_of_order_held, "segments past a hole whose range was held until the hole filled") \
  X(loss_recovery_table_full, "losses recovered without the loss-recovery table (full): go-back-N") \
  X(recovery_retransmits, "NewReno: segments resent on a partial ACK (RFC 6582)")          \
  X(drop_syn_in_synchronised, "SYNs in a synchronised state (challenge ACK)")             \
  X(drop_tx_no_buffer, "segments not sent: no transmit buffer")                           \
  X(drop_no_neighbor, "segments not sent: peer MAC unknown (ARP pending)")                \
  X(drop_flow_table_full, "new connection refused: flow table full")                      \
  X(flow_probe_limit, "tuples refused a flow-table slot: none free within 64 of their home (crafted collisions); a SYN then gets a cookie when cookies are on overflow, else is dropped") \
  X(drop_pool_full, "new connection refused: no free connection record")                 \
  X(drop_syn_shed_pool, "SYNs dropped unprocessed: the record pool was at its shed watermark") \
  X(drop_syn_shed_busy, "SYNs dropped unprocessed (with --shed-reset: refused with RST): the lcore was saturated (rx bursts kept coming full)") \
  X(drop_data_after_close, "data received after our side was done reading")              \
  X(rx_ipv6_segments, "IPv6 TCP segments for one of our addresses, checksum good")         \
  X(nd_solicitations_received, "Neighbor Solicitations for one of our IPv6 addresses")     \
  X(nd_advertisements_sent, "Neighbor Advertisements we sent")                             \
  X(nd_solicitations_sent, "Neighbor Solicitations we sent to resolve a neighbour")        \
  X(nd_advertisements_received, "Neighbor Advertisements learnt")                          \
  X(icmpv6_echo_replies_sent, "ICMPv6 echo replies we sent")                               \
  X(drop_ipv6_malformed, "drop: IPv6 header or extension headers malformed or truncated") \
  X(drop_ipv6_fragment, "drop: IPv6 fragment (no reassembly by design)")                  \
  X(drop_ipv6_digest_collision, "drop: IPv6 source whose flow-key digest another source's tuple holds") \
  X(drop_icmpv6_malformed, "drop: ICMPv6 truncated, bad checksum, or invalid Neighbor Discovery") \
  X(drop_icmpv6_ignored, "drop: ICMPv6 we do not answer (router advertisements, errors, ...)") \
  X(drop_nd_not_for_us, "drop: Neighbor Solicitation for an address we do not own")   \
  X(drop_ipv6_routing_header, "drop: IPv6 routing header with segments left (for a router, RFC 8200 §4.4)") \
  X(drop_ipv6_unrecognized_option, "drop: IPv6 option whose type says discard if unrecognised (RFC 8200 §4.2)") \
  X(icmpv6_errors_sent, "ICMPv6 Parameter Problems we sent (rate-limited, RFC 4443 §2.4(f))") \
  X(ipv6_conn_established, "of conn_established: over IPv6 (the rest over IPv4)")       \
  X(ipv6_conn_completed, "of conn_completed: over IPv6")                                  \
  X(ipv6_conn_failed, "of conn_failed: over IPv6")

struct Counters {
#define SYNWAVE_COUNTER_FIELD(name, desc) std::uint64_t name = 0;
  SYNWAVE_COUNTERS(SYNWAVE_COUNTER_FIELD)
#undef SYNWAVE_COUNTER_FIELD

  // Calls f(name, value) for every counter, in declaration order.
  template <class F>
  void for_each(F&& f) const {
#define SYNWAVE_COUNTER_VISIT(name, desc) f(std::string_view{#name}, name);
    SYNWAVE_COUNTERS(SYNWAVE_COUNTER_VISIT)
#undef SYNWAVE_COUNTER_VISIT
  }

  Counters& operator+=(const Counters& o) {
#define SYNWAVE_COUNTER_ADD(name, desc) name += o.name;
    SYNWAVE_COUNTERS(SYNWAVE_COUNTER_ADD)
#undef SYNWAVE_COUNTER_ADD
    return *this;
  }
};

}  // namespace synwave
