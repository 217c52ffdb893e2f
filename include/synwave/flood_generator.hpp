#pragma once
// A flood of spoofed TCP segments for resilience experiments against your own lab targets: SYN,
// ACK, RST or FIN+ACK from a source address and port range, to one destination, at a packet rate
// (token bucket), in bursts of 32 frames obtained through FrameIo, over IPv4 or IPv6. Plain core
// code: the data plane calls poll() once per loop pass and hands it received frames (ARP, or
// Neighbor Discovery over IPv6) through input().
//
// Every frame is a copy of a template built once, with the fields that vary patched in:
// source address and port (cycling deterministically through the range, so every tuple is new
// until the range is used up), sequence and acknowledgment numbers and TSval (a seeded PRNG), and
// the IP ID (IPv4 has one). The checksums are finished from sums of the template's constant part,
// so a frame costs a copy of 54 or 74 bytes (IPv6: 74 or 94) and a few additions, not a pass over
// its bytes. The family is fixed at construction and chosen once per burst, so the IPv4 path
// carries no per-frame test for IPv6.
#include <array>
#include <cstdint>
#include <string_view>

#include "synwave/frame.hpp"
#include "synwave/time.hpp"
#include "synwave/token_bucket.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv6.hpp"

namespace synwave {

enum class FloodKind : std::uint8_t {
  kSyn,  // SYN with the options of a Linux SYN: MSS, SACK-permitted, timestamps, window scale
  kAck,  // bare ACK, random sequence and acknowledgment numbers
  kRst,  // RST, random sequence number
  kFin,  // FIN+ACK, random sequence and acknowledgment numbers
  kSynPlain,  // SYN with no options, as hping3 -S sends it: 54 bytes, one cache line
};
inline constexpr FloodKind kFloodKinds[] = {FloodKind::kSyn, FloodKind::kSynPlain, FloodKind::kAck, FloodKind::kRst,
                                            FloodKind::kFin};

[[nodiscard]] std::string_view to_string(FloodKind kind);
// "syn", "syn-plain", "ack", "rst", "fin"; false for anything else.
[[nodiscard]] bool parse_flood_kind(std::string_view name, FloodKind& out);

// No limit on the rate: every poll sends a full burst (benchmarks, "as fast as possible").
inline constexpr std::uint64_t kFloodUnlimitedPps = ~std::uint64_t{0};

struct FloodConfig {
  MacAddr local_mac;                     // our port's MAC: the frames' Ethernet source
  std::uint32_t local_ip = 0;            // our own address: sender of ARP requests, answered for
  std::uint32_t next_hop_ip = 0;         // the destination, or the gateway towards it
  MacAddr next_hop_mac;                  // zero until learnt by ARP (or given)
  std::uint32_t src_ip_first = 0;        // spoofed source addresses, inclusive, host order
  std::uint32_t src_ip_last = 0;
  std::uint16_t src_port_first = 1024;   // source ports, inclusive
  std::uint16_t src_port_last = 65535;
  std::uint32_t dst_ip = 0;
  std::uint16_t dst_port = 80;
  FloodKind kind = FloodKind::kSyn;
  std::uint64_t pps = 0;                 // this generator's packets per second (0: none)
  std::uint64_t total = 0;               // packets to attempt, then finished (0: until stopped)
  TimeNs catch_up = TokenBucket::kDefaultDepth;  // how far behind a late poll may catch up (token_bucket.hpp)
  std::uint16_t share_count = 1;         // generators splitting the source tuples: this one takes
  std::uint16_t share_index = 0;         //   tuples share_index, share_index + share_count, ...
  std::uint64_t seed = 1;                // sequence numbers, TSvals
  std::uint8_t ttl = 64;
  bool checksum_offload = false;         // leave IP/TCP checksums to the NIC (pseudo-header in place)

  // IPv6 instead: these take the place of local_ip, next_hop_ip, src_ip_first/last and dst_ip
  // (ttl is the hop limit). As in every --src-ip range, the sources differ only in their last 32
  // bits; a range whose two ends differ before them is taken as src_ip6_first alone.
  bool ipv6 = false;
  Ipv6Addr local_ip6{};                  // ours: source of Neighbor Solicitations, answered for
  Ipv6Addr next_hop_ip6{};
  Ipv6Addr src_ip6_first{};
  Ipv6Addr src_ip6_last{};
  Ipv6Addr dst_ip6{};
};

// Every frame the rate called for ends in exactly one of sent, tx_queue_full and no_buffer; none
// is owed afterwards (a flood that falls behind does not make up for it later).
struct FloodStats {
  std::uint64_t sent = 0;           // frames the device accepted (FrameIo::transmit's count)
  std::uint64_t tx_queue_full = 0;  // frames built and refused by a full transmit queue
  std::uint64_t no_buffer = 0;      // frames that got no buffer to be built in
  std::uint64_t arp_requests_sent = 0;
  std::uint64_t arp_replies_sent = 0;
  std::uint64_t nd_solicitations_sent = 0;   // IPv6: ARP's requests
  std::uint64_t nd_advertisements_sent = 0;  // IPv6: ARP's replies

  // Frames the rate called for, whatever became of them.
  [[nodiscard]] std::uint64_t attempted() const { return sent + tx_queue_full + no_buffer; }

  FloodStats& operator+=(const FloodStats& o) {
    sent += o.sent;
    tx_queue_full += o.tx_queue_full;
    no_buffer += o.no_buffer;
    arp_requests_sent += o.arp_requests_sent;
    arp_replies_sent += o.arp_replies_sent;
    nd_solicitations_sent += o.nd_solicitations_sent;
    nd_advertisements_sent += o.nd_advertisements_sent;
    return *this;
  }
};

// What input() did with a received frame.
enum class FloodInput : std::uint8_t {
  kIgnored,         // not for us (SYN-ACKs and RSTs the target sends to spoofed sources): free it
  kLearnedNextHop,  // an ARP packet or Neighbor Advertisement from the next hop: its MAC is known
                    // now; free the frame
  kReplied,         // an ARP request or Neighbor Solicitation for our address, rewritten in place
                    // as the reply: transmit it
};

class FloodGenerator {
 public:
  static constexpr std::uint32_t kBurst = 32;
  static constexpr std::uint16_t kSynFrameSize = 74;    // 14 + 20 + 20 + 20 bytes of options
  static constexpr std::uint16_t kPlainFrameSize = 54;  // 14 + 20 + 20
  static constexpr std::uint16_t kSynFrameSize6 = 94;   // 14 + 40 + 20 + 20 bytes of options
  static constexpr std::uint16_t kPlainFrameSize6 = 74; // 14 + 40 + 20

  FloodGenerator(const FloodConfig& config, const FrameIo& io, TimeNs now);
  ~FloodGenerator() { release_held(); }
  FloodGenerator(const FloodGenerator&) = delete;
  FloodGenerator& operator=(const FloodGenerator&) = delete;

  // Sends what the bucket allows, one burst at most; nothing until the next hop's MAC is known.
  // Returns the work done: the frames built and handed to the device (accepted or not), or
  // with FrameIo::offer, the frames built plus those the device took.
  std::uint32_t poll(TimeNs now);
  // With FrameIo::offer: gives back the frames built that the device has not taken yet, counted
  // as refused by the full queue (at the end of a run, on the lcore that built them).
  void release_held();

  // A received frame (the flood does not keep connections: only ARP, or over IPv6 Neighbor
  // Discovery, concerns it).
  FloodInput input(Frame& frame);
  // Builds the question for the next hop's MAC in `frame`: an ARP request, or over IPv6 a
  // Neighbor Solicitation to its solicited-node group; false when it does not fit.
  bool build_next_hop_request(Frame& frame);

  // Whether a received frame is for the probes' engine (local address probe_ip, or probe_ip6)
  // that shares this generator's queue, rather than for the generator: their TCP segments, and
  // ARP or Neighbor Solicitations for their address when it is not the generator's own. Neighbor
  // Discovery otherwise stays with the generator, which resolves the next hop and answers for
  // its own address even when the probes share it.
  [[nodiscard]] bool for_probes(const Frame& frame, std::uint32_t probe_ip, const Ipv6Addr& probe_ip6) const;

  void set_next_hop_mac(const MacAddr& mac);
  // Forgets credit accrued so far: the flood starts at its rate from `now`, not with the burst
  // the time since construction (ARP resolution, start-up) would allow.
  void restart_rate(TimeNs now) { bucket_.restart(now); }
  [[nodiscard]] bool resolved() const { return !config_.next_hop_mac.is_zero(); }
  [[nodiscard]] const MacAddr& next_hop_mac() const { return config_.next_hop_mac; }
  [[nodiscard]] bool finished() const { return config_.total != 0 && stats_.attempted() >= config_.total; }
  [[nodiscard]] const FloodStats& stats() const { return stats_; }
  [[nodiscard]] const FloodConfig& config() const { return config_; }
  [[nodiscard]] std::uint16_t frame_size() const { return frame_size_; }
  // Source tuples this generator cycles through before repeating one.
  [[nodiscard]] std::uint64_t tuples() const;

  // Fills one frame with the next segment (exposed for tests; poll() builds whole bursts with
  // the family chosen once).
  void build(Frame& frame);

 private:
  template <bool kIpv6>
  void build_frame(Frame& frame);
  // Builds frames[0..got) (dropping those too small), packed to the front; returns how many.
  template <bool kIpv6>
  std::uint32_t build_burst(Frame* frames, std::uint32_t got);
  FloodInput input_ipv6(Frame& frame, const EthernetHeader& eth);
  [[nodiscard]] std::uint32_t take_due(TimeNs now);
  // Lends up to `due` frames and builds them; counts those without a buffer; returns how many.
  std::uint32_t build_into(Frame* frames, std::uint32_t due);
  std::uint32_t offer_burst(std::uint32_t due);
  void build_template();
  void advance_source();
  std::uint64_t next_random();

  FloodConfig config_;
  FrameIo io_;
  FloodStats stats_;

  TokenBucket bucket_;
  // With FrameIo::offer: frames built that the device has not taken yet, oldest first.
  std::array<Frame, kBurst> held_{};
  std::uint32_t held_count_ = 0;

  std::uint64_t rng_ = 0;
  std::uint16_t ip_id_ = 0;
  std::uint32_t src6_low_first_ = 0;  // IPv6: the last 32 bits of the first source
  std::uint64_t ip_count_ = 1;      // addresses in the range (2^32 for all of them)
  std::uint64_t port_count_ = 1;    // ports in the range
  std::uint64_t ip_index_ = 0;      // the next tuple: address first + ip_index_, port first + port_index_
  std::uint64_t port_index_ = 0;

  alignas(64) std::uint8_t template_[kSynFrameSize6] = {};
  std::uint16_t frame_size_ = kPlainFrameSize;
  std::uint16_t tcp_len_ = 20;
  std::uint64_t ip_sum_base_ = 0;   // the IPv4 header's sum without source address and ID
  std::uint64_t tcp_sum_base_ = 0;  // pseudo-header and TCP header without the varying fields
  std::uint64_t pseudo_sum_base_ = 0;  // IPv6, offload: the pseudo-header without the source's last 32 bits
};

}  // namespace synwave
