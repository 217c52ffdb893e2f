#pragma once
// The TCP header and its options (RFC 9293 §3.1, §3.2; RFC 7323 window scale and timestamps;
// RFC 2018 SACK-permitted). Parsing never reads past the bytes present; malformed options are
// survived the way Linux survives them (stop at the first silly or truncated option, keep what
// was parsed so far, keep the segment), which meets RFC 9293 MUST-7 and MUST-68 without
// turning a middlebox's garbage into lost connections.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "synwave/byte_order.hpp"
#include "synwave/seq_num.hpp"

namespace synwave {

namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flags

namespace tcp_option {
inline constexpr std::uint8_t kEol = 0;
inline constexpr std::uint8_t kNop = 1;
inline constexpr std::uint8_t kMss = 2;
inline constexpr std::uint8_t kWindowScale = 3;
inline constexpr std::uint8_t kSackPermitted = 4;
inline constexpr std::uint8_t kSack = 5;
inline constexpr std::uint8_t kTimestamps = 8;
}  // namespace tcp_option

inline constexpr std::uint16_t kDefaultMss = 536;     // RFC 9293 §3.7.1, when no MSS option
inline constexpr std::uint16_t kDefaultMss6 = 1220;   // the same over IPv6 (RFC 8200 §5: 1280 - 60)
inline constexpr std::uint8_t kMaxWindowScale = 14;  // RFC 7323 §2.3

// A SACK block (RFC 2018 §3): the first sequence number of a block the receiver holds, and the one
// after its last.
struct SackBlock {
  std::uint32_t left;
  std::uint32_t right;
};

struct TcpOptions {
  static constexpr std::uint8_t kMaxSackBlocks = 4;  // what 40 bytes of options can carry
  bool has_mss = false;
  bool has_window_scale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  bool malformed = false;   // a silly or truncated option stopped the parse
  std::uint8_t window_scale = 0;  // clamped to 14
  std::uint8_t sack_count = 0;
  std::uint16_t mss = 0;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  SackBlock sack[kMaxSackBlocks];  // the first sack_count are valid (not cleared per segment)

  // Everything before the SACK blocks, in one go (sack_count 0 says they are absent).
  void reset() { std::memset(static_cast<void*>(this), 0, offsetof(TcpOptions, sack)); }
};

struct TcpSegment {
  static constexpr std::size_t kMinHeaderSize = 20;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  std::uint8_t header_len = 0;  // bytes
  std::uint8_t flags = 0;
  std::uint16_t window = 0;     // raw, not scaled
  std::uint16_t urgent = 0;
  TcpOptions options;
  const std::uint8_t* payload = nullptr;
  std::uint32_t payload_len = 0;

  [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
  // Sequence space the segment occupies: data, plus one each for SYN and FIN (RFC 9293 §3.4).
  [[nodiscard]] std::uint32_t seg_len() const {
    return payload_len + (has(tcp_flags::kSyn) ? 1u : 0u) + (has(tcp_flags::kFin) ? 1u : 0u);
  }
};

enum class TcpError : std::uint8_t {
  kOk,
  kTruncated,         // fewer than 20 bytes
  kBadDataOffset,     // data offset < 5, or past the end of the segment
  kBadChecksum,
};

inline void parse_tcp_options(const std::uint8_t* p, std::size_t len, TcpOptions& out) {
  // Every segment after the handshake between timestamp users carries exactly NOP NOP TS
  // (RFC 7323 Appendix A's layout, what Linux and we send): one compare instead of the walk.
  if (len == 12 && load_be32(p) == 0x0101080au) {
    out.has_timestamps = true;
    out.ts_val = load_be32(p + 4);
    out.ts_ecr = load_be32(p + 8);
    return;
  }
  // Linux's SYN and SYN-ACK (and ours, and the flood's) carry MSS, SACK-permitted, TS, NOP, WS
  // in this order: three compares instead of the walk, for every connection's handshake.
  if (len == 20 && load_be16(p) == 0x0204u && load_be32(p + 4) == 0x0402080au &&
      (load_be32(p + 16) & 0xffffff00u) == 0x01030300u) {
    out.has_mss = true;
    out.mss = load_be16(p + 2);
    out.sack_permitted = true;
    out.has_timestamps = true;
    out.ts_val = load_be32(p + 8);
    out.ts_ecr = load_be32(p + 12);
    out.has_window_scale = true;
    // RFC 7323 §2.3: a shift above 14 is used as 14.
    out.window_scale = p[19] > kMaxWindowScale ? kMaxWindowScale : p[19];
    return;
  }
  std::size_t i = 0;
  while (i < len) {
    const std::uint8_t kind = p[i];
    if (kind == tcp_option::kEol) return;
    if (kind == tcp_option::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) {
      out.malformed = true;
      return;
    }
    const std::uint8_t opt_len = p[i + 1];
    if (opt_len < 2 || i + opt_len > len) {
      out.malformed = true;
      return;
    }
    const std::uint8_t* v = p + i + 2;
    switch (kind) {
      case tcp_option::kMss:
        if (opt_len == 4) {
          out.has_mss = true;
          out.mss = load_be16(v);
        }
        break;
      case tcp_option::kWindowScale:
        if (opt_len == 3) {
          out.has_window_scale = true;
          // RFC 7323 §2.3: a shift above 14 is used as 14.
          out.window_scale = v[0] > kMaxWindowScale ? kMaxWindowScale : v[0];
        }
        break;
      case tcp_option::kSackPermitted:
        if (opt_len == 2) out.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        if (opt_len == 10) {
          out.has_timestamps = true;
          out.ts_val = load_be32(v);
          out.ts_ecr = load_be32(v + 4);
        }
        break;
      default:
        // (SACK here, not as a case: a case beside 2, 3, 4 and 8 turns the switch into a jump
        // table that costs every SYN more.)
        if (kind == tcp_option::kSack && opt_len >= 10 && (opt_len - 2) % 8 == 0) [[unlikely]] {
          const std::uint8_t n = static_cast<std::uint8_t>((opt_len - 2) / 8);
          out.sack_count = n < TcpOptions::kMaxSackBlocks ? n : TcpOptions::kMaxSackBlocks;
          for (std::uint8_t b = 0; b < out.sack_count; ++b) {
            out.sack[b] = {load_be32(v + 8 * b), load_be32(v + 8 * b + 4)};
          }
        }
        break;  // unknown options are skipped by their length (RFC 9293 MUST-6)
    }
    i += opt_len;
  }
}

// p/len: the TCP header and payload (len from the IP total length, not the frame length).
[[nodiscard]] inline TcpError parse_tcp(const std::uint8_t* p, std::size_t len, TcpSegment& out) {
  if (len < TcpSegment::kMinHeaderSize) return TcpError::kTruncated;
  const std::uint8_t data_offset = static_cast<std::uint8_t>((p[12] >> 4) * 4);
  if (data_offset < TcpSegment::kMinHeaderSize || data_offset > len) return TcpError::kBadDataOffset;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.seq = SeqNum(load_be32(p + 4));
  out.ack = SeqNum(load_be32(p + 8));
  out.header_len = data_offset;
  out.flags = p[13];
  out.window = load_be16(p + 14);
  out.urgent = load_be16(p + 18);
  out.options.reset();
  parse_tcp_options(p + 20, data_offset - 20u, out.options);
  out.payload = p + data_offset;
  out.payload_len = static_cast<std::uint32_t>(len - data_offset);
  return TcpError::kOk;
}

// What a segment we send carries in its options. The layout is fixed so the header length is
// known before writing: MSS(4) NOP NOP SACKOK(2)... packed the way Linux packs them.
struct TcpOptionsOut {
  bool mss = false;
  bool window_scale = false;
  bool sack_permitted = false;
  bool timestamps = false;
  std::uint8_t window_scale_shift = 0;
  std::uint16_t mss_value = 0;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
};

// SACK blocks (RFC 2018 §4) follow the other options of a segment that reports held data; they are
// written apart (almost no segment carries them), at most three (what fits beside timestamps).
inline constexpr std::uint8_t kMaxSackBlocksOut = 3;

[[nodiscard]] inline std::size_t sack_option_size(std::uint8_t blocks) { return blocks == 0 ? 0 : 4 + 8u * blocks; }

// NOP NOP SACK(len) and the blocks; returns the bytes written (sack_option_size).
inline std::size_t write_sack_option(std::uint8_t* p, const SackBlock* blocks, std::uint8_t n) {
  p[0] = tcp_option::kNop;
  p[1] = tcp_option::kNop;
  p[2] = tcp_option::kSack;
  p[3] = static_cast<std::uint8_t>(2 + 8 * n);
  for (std::uint8_t b = 0; b < n; ++b) {
    store_be32(p + 4 + 8 * b, blocks[b].left);
    store_be32(p + 8 + 8 * b, blocks[b].right);
  }
  return sack_option_size(n);
}

// The sum of what write_sack_option writes, from the values (as tcp_options_sum).
[[nodiscard]] inline std::uint64_t sack_option_sum(const SackBlock* blocks, std::uint8_t n) {
  std::uint64_t sum = (std::uint64_t{tcp_option::kNop} << 8 | tcp_option::kNop) +
                      (std::uint64_t{tcp_option::kSack} << 8 | static_cast<std::uint8_t>(2 + 8 * n));
  for (std::uint8_t b = 0; b < n; ++b) {
    sum += (blocks[b].left >> 16) + (blocks[b].left & 0xffff) + (blocks[b].right >> 16) + (blocks[b].right & 0xffff);
  }
  return sum;
}

[[nodiscard]] inline std::size_t tcp_options_size(const TcpOptionsOut& o) {
  std::size_t n = 0;
  if (o.mss) n += 4;
  if (o.sack_permitted && o.timestamps) n += 12;  // SACKOK TS (2 + 10)
  else {
    if (o.timestamps) n += 12;                    // NOP NOP TS
    if (o.sack_permitted) n += 4;                 // NOP NOP SACKOK
  }
  if (o.window_scale) n += 4;                     // NOP WS
  return n;
}

// Returns the bytes written (== tcp_options_size(o), always a multiple of 4).
inline std::size_t write_tcp_options(std::uint8_t* p, const TcpOptionsOut& o) {
  std::uint8_t* start = p;
  if (o.mss) {
    p[0] = tcp_option::kMss;
    p[1] = 4;
    store_be16(p + 2, o.mss_value);
    p += 4;
  }
  auto put_ts = [&](std::uint8_t* q) {
    q[0] = tcp_option::kTimestamps;
    q[1] = 10;
    store_be32(q + 2, o.ts_val);
    store_be32(q + 6, o.ts_ecr);
  };
  if (o.sack_permitted && o.timestamps) {
    p[0] = tcp_option::kSackPermitted;
    p[1] = 2;
    put_ts(p + 2);
    p += 12;
  } else {
    if (o.timestamps) {
      p[0] = tcp_option::kNop;
      p[1] = tcp_option::kNop;
      put_ts(p + 2);
      p += 12;
    }
    if (o.sack_permitted) {
      p[0] = tcp_option::kNop;
      p[1] = tcp_option::kNop;
      p[2] = tcp_option::kSackPermitted;
      p[3] = 2;
      p += 4;
    }
  }
  if (o.window_scale) {
    p[0] = tcp_option::kNop;
    p[1] = tcp_option::kWindowScale;
    p[2] = 3;
    p[3] = o.window_scale_shift;
    p += 4;
  }
  return static_cast<std::size_t>(p - start);
}

// The sum (RFC 1071, unfolded) of the 16-bit words write_tcp_options(o) writes, computed from the
// values rather than read back: a wide load over bytes just written by narrow stores cannot be
// forwarded from the store buffer and stalls (measured: the read-back was 17 % of the core's time
// per connection). Same layout as write_tcp_options; tests check the two agree for every mix.
[[nodiscard]] inline std::uint64_t tcp_options_sum(const TcpOptionsOut& o) {
  constexpr auto word = [](std::uint8_t hi, std::uint8_t lo) { return std::uint64_t{hi} << 8 | lo; };
  std::uint64_t sum = 0;
  if (o.mss) sum += word(tcp_option::kMss, 4) + o.mss_value;
  const std::uint64_t ts = word(tcp_option::kTimestamps, 10) + (o.ts_val >> 16) + (o.ts_val & 0xffff) +
                           (o.ts_ecr >> 16) + (o.ts_ecr & 0xffff);
  if (o.sack_permitted && o.timestamps) {
    sum += word(tcp_option::kSackPermitted, 2) + ts;
  } else {
    if (o.timestamps) sum += word(tcp_option::kNop, tcp_option::kNop) + ts;
    if (o.sack_permitted) sum += word(tcp_option::kNop, tcp_option::kNop) + word(tcp_option::kSackPermitted, 2);
  }
  if (o.window_scale) sum += word(tcp_option::kNop, tcp_option::kWindowScale) + word(3, o.window_scale_shift);
  return sum;
}

// The sum of the words write_tcp_header writes with these values (checksum field zero).
[[nodiscard]] inline std::uint64_t tcp_header_sum(std::uint16_t src_port, std::uint16_t dst_port, SeqNum seq, SeqNum ack,
                                                  std::uint8_t header_len, std::uint8_t flags, std::uint16_t window) {
  return std::uint64_t{src_port} + dst_port + (seq.raw() >> 16) + (seq.raw() & 0xffff) + (ack.raw() >> 16) +
         (ack.raw() & 0xffff) + (std::uint64_t{static_cast<std::uint8_t>((header_len / 4) << 4)} << 8 | flags) + window;
}

// Writes the fixed 20-byte header; the checksum field is left zero for the caller to fill.
inline void write_tcp_header(std::uint8_t* p, std::uint16_t src_port, std::uint16_t dst_port, SeqNum seq,
                             SeqNum ack, std::uint8_t header_len, std::uint8_t flags, std::uint16_t window) {
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be32(p + 4, seq.raw());
  store_be32(p + 8, ack.raw());
  p[12] = static_cast<std::uint8_t>((header_len / 4) << 4);
  p[13] = flags;
  store_be16(p + 14, window);
  p[16] = 0;
  p[17] = 0;
  p[18] = 0;
  p[19] = 0;
}

}  // namespace synwave
