// SYN-ACKs from templates must be byte for byte what the generic writers (wire/*.hpp) build from
// the same values, checksums included, for every option layout, with checksums computed and
// offloaded; and they must parse back, checksums verified, with the values put in.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "synwave/checksum.hpp"
#include "synwave/synack_template.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::test {
namespace {

constexpr std::uint32_t kLocalIp = (198u << 24) | (18u << 16) | 1;
constexpr std::uint32_t kRemoteIp = (198u << 24) | (19u << 16) | (0xfe << 8) | 0xfd;
const MacAddr kLocalMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x09}};

constexpr std::uint8_t kSynAck = tcp_flags::kSyn | tcp_flags::kAck;

SynAckTemplates::Settings settings(bool offload, std::uint8_t flags = kSynAck) {
  return SynAckTemplates::Settings{kLocalMac, 61, 64240, 1460, 7, offload, flags};
}

SynAckFields fields(std::uint8_t options) {
  // Values with every 16-bit half non-zero and carries in the sums.
  return SynAckFields{&kPeerMac, kLocalIp, kRemoteIp, 80, 0xfedc, 0xfffefdfcu, 0x8000ffffu, 0xabcd, options,
                      0xffff0001u, 0x7fffffffu};
}

// The same SYN-ACK through write_ethernet / write_ipv4 / write_tcp_header / write_tcp_options.
std::array<std::uint8_t, SynAckTemplates::kMaxFrame> reference(const SynAckFields& f, bool offload, std::uint8_t flags,
                                                               std::uint16_t& len) {
  std::array<std::uint8_t, SynAckTemplates::kMaxFrame> b{};
  TcpOptionsOut o;
  o.mss = true;
  o.mss_value = 1460;
  o.timestamps = (f.options & synack_options::kTimestamps) != 0;
  o.sack_permitted = (f.options & synack_options::kSackPermitted) != 0;
  o.window_scale = (f.options & synack_options::kWindowScale) != 0;
  o.window_scale_shift = 7;
  o.ts_val = f.ts_val;
  o.ts_ecr = f.ts_ecr;
  const auto tcp_len = static_cast<std::uint16_t>(20 + tcp_options_size(o));
  len = static_cast<std::uint16_t>(34 + tcp_len);
  write_ethernet(b.data(), *f.dst_mac, kLocalMac, kEtherTypeIpv4);
  write_ipv4(b.data() + 14, f.local_ip, f.remote_ip, kIpProtoTcp, static_cast<std::uint16_t>(20 + tcp_len), f.ip_id, 61,
             offload);
  std::uint8_t* tcp = b.data() + 34;
  write_tcp_header(tcp, f.local_port, f.remote_port, SeqNum(f.seq), SeqNum(f.ack), static_cast<std::uint8_t>(tcp_len),
                   flags, 64240);
  write_tcp_options(tcp + 20, o);
  const std::uint64_t pseudo = pseudo_header_sum(f.local_ip, f.remote_ip, kIpProtoTcp, tcp_len);
  store_be16(tcp + 16, offload ? checksum_fold(pseudo) : checksum_finish(checksum_add(tcp, tcp_len, pseudo)));
  return b;
}

TEST(SynAckTemplate, EveryLayoutMatchesTheGenericWritersByteForByte) {
  for (const std::uint8_t flags : {kSynAck, tcp_flags::kSyn})
  for (bool offload : {false, true}) {
    const SynAckTemplates templates(settings(offload, flags));
    EXPECT_EQ(templates.tx_flags(), offload ? frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum : 0);
    for (std::uint8_t set = 0; set < synack_options::kCount; ++set) {
      const SynAckFields f = fields(set);
      std::array<std::uint8_t, SynAckTemplates::kMaxFrame> out{};
      const std::uint16_t len = templates.write(out.data(), f);
      std::uint16_t want_len = 0;
      const auto want = reference(f, offload, flags, want_len);
      ASSERT_EQ(len, want_len) << "options " << int{set};
      EXPECT_EQ(templates.frame_size(set), want_len);
      for (std::uint16_t i = 0; i < len; ++i) {
        EXPECT_EQ(out[i], want[i]) << "flags " << int{flags} << " options " << int{set} << " offload " << offload
                                   << " byte " << i;
      }
    }
  }
}

TEST(SynAckTemplate, ParsesBackWithValidChecksums) {
  const SynAckTemplates templates(settings(false));
  for (std::uint8_t set = 0; set < synack_options::kCount; ++set) {
    SynAckFields f = fields(set);
    f.ip_id = static_cast<std::uint16_t>(set * 7919);  // a second set of values through the same template
    std::array<std::uint8_t, SynAckTemplates::kMaxFrame> out{};
    const std::uint16_t len = templates.write(out.data(), f);
    EthernetHeader eth;
    ASSERT_EQ(parse_ethernet(out.data(), len, eth), EthernetError::kOk);
    EXPECT_EQ(eth.dst, kPeerMac);
    EXPECT_EQ(eth.src, kLocalMac);
    Ipv4Header ip;
    ASSERT_EQ(parse_ipv4(out.data() + 14, len - 14u, ip, true), Ipv4Error::kOk);
    EXPECT_EQ(ip.src, kLocalIp);
    EXPECT_EQ(ip.dst, kRemoteIp);
    EXPECT_EQ(ip.id, f.ip_id);
    EXPECT_EQ(ip.ttl, 61);
    EXPECT_TRUE(ip.dont_fragment);
    const std::uint16_t tcp_len = static_cast<std::uint16_t>(ip.total_len - 20);
    EXPECT_EQ(checksum_fold(checksum_add(out.data() + 34, tcp_len, pseudo_header_sum(kLocalIp, kRemoteIp, kIpProtoTcp, tcp_len))),
              0xffff);
    TcpSegment seg;
    ASSERT_EQ(parse_tcp(out.data() + 34, tcp_len, seg), TcpError::kOk);
    EXPECT_EQ(seg.src_port, 80);
    EXPECT_EQ(seg.dst_port, 0xfedc);
    EXPECT_EQ(seg.seq.raw(), f.seq);
    EXPECT_EQ(seg.ack.raw(), f.ack);
    EXPECT_EQ(seg.flags, tcp_flags::kSyn | tcp_flags::kAck);
    EXPECT_EQ(seg.window, 64240);
    EXPECT_TRUE(seg.options.has_mss);
    EXPECT_EQ(seg.options.mss, 1460);
    EXPECT_EQ(seg.options.has_timestamps, (set & synack_options::kTimestamps) != 0);
    EXPECT_EQ(seg.options.sack_permitted, (set & synack_options::kSackPermitted) != 0);
    EXPECT_EQ(seg.options.has_window_scale, (set & synack_options::kWindowScale) != 0);
    if (seg.options.has_timestamps) {
      EXPECT_EQ(seg.options.ts_val, f.ts_val);
      EXPECT_EQ(seg.options.ts_ecr, f.ts_ecr);
    }
    if (seg.options.has_window_scale) {
      EXPECT_EQ(seg.options.window_scale, 7);
    }
    EXPECT_FALSE(seg.options.malformed);
  }
}

}  // namespace
}  // namespace synwave::test
