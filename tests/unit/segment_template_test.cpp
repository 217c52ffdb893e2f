// A synchronised connection's segments from templates must be byte for byte what the generic
// writers (wire/*.hpp) build from the same values, checksums included, with and without
// timestamps, with checksums computed and offloaded, for payloads of odd and even lengths; and
// they must parse back, checksums verified.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "synwave/checksum.hpp"
#include "synwave/segment_template.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::test {
namespace {

constexpr std::uint32_t kLocalIp = (198u << 24) | (18u << 16) | 1;
constexpr std::uint32_t kRemoteIp = (198u << 24) | (19u << 16) | (0xfe << 8) | 0xfd;
const MacAddr kLocalMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x09}};
constexpr std::uint8_t kTtl = 61;
constexpr std::size_t kFrameBytes = 256;

// Values with every 16-bit half non-zero and carries in the sums.
SegmentFields fields(std::uint8_t flags) {
  return SegmentFields{&kPeerMac, kLocalIp, kRemoteIp, 0xfedc, 443, 0xfffefdfcu, 0x8000ffffu, 0xabcd, flags, 0xfff0,
                       0xffff0001u, 0x7fffffffu};
}

// The same segment through write_ethernet / write_ipv4 / write_tcp_header / write_tcp_options.
std::array<std::uint8_t, kFrameBytes> reference(const SegmentFields& f, bool timestamps, bool offload,
                                                const std::uint8_t* payload, std::uint16_t payload_len) {
  std::array<std::uint8_t, kFrameBytes> b{};
  TcpOptionsOut o;
  o.timestamps = timestamps;
  o.ts_val = f.ts_val;
  o.ts_ecr = f.ts_ecr;
  const auto header_len = static_cast<std::uint8_t>(20 + tcp_options_size(o));
  const auto tcp_len = static_cast<std::uint16_t>(header_len + payload_len);
  write_ethernet(b.data(), *f.dst_mac, kLocalMac, kEtherTypeIpv4);
  write_ipv4(b.data() + 14, f.local_ip, f.remote_ip, kIpProtoTcp, static_cast<std::uint16_t>(20 + tcp_len), f.ip_id,
             kTtl, offload);
  std::uint8_t* tcp = b.data() + 34;
  write_tcp_header(tcp, f.local_port, f.remote_port, SeqNum(f.seq), SeqNum(f.ack), header_len, f.flags, f.window);
  write_tcp_options(tcp + 20, o);
  std::copy(payload, payload + payload_len, tcp + header_len);
  const std::uint64_t pseudo = pseudo_header_sum(f.local_ip, f.remote_ip, kIpProtoTcp, tcp_len);
  store_be16(tcp + 16, offload ? checksum_fold(pseudo) : checksum_finish(checksum_add(tcp, tcp_len, pseudo)));
  return b;
}

TEST(SegmentTemplate, MatchesTheGenericWritersByteForByte) {
  std::array<std::uint8_t, 64> payload{};
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(0xf1 + 37 * i);
  for (bool offload : {false, true}) {
    const SegmentTemplates templates({kLocalMac, kTtl, offload});
    EXPECT_EQ(templates.tx_flags(), offload ? frame_flags::kTxIpChecksum | frame_flags::kTxTcpChecksum : 0);
    for (bool timestamps : {false, true}) {
      for (const std::uint8_t flags : {std::uint8_t{tcp_flags::kAck}, std::uint8_t{tcp_flags::kAck | tcp_flags::kPsh},
                                       std::uint8_t{tcp_flags::kFin | tcp_flags::kAck},
                                       std::uint8_t{tcp_flags::kRst | tcp_flags::kAck}}) {
        for (const std::uint16_t payload_len : {0, 1, 7, 12, 63}) {
          const SegmentFields f = fields(flags);
          std::array<std::uint8_t, kFrameBytes> out{};
          out.fill(0x5a);  // whatever the buffer held before
          const std::size_t headers = SegmentTemplates::header_size(timestamps);
          const std::uint64_t sum = templates.write(out.data(), f, timestamps, payload_len);
          std::copy(payload.begin(), payload.begin() + payload_len, out.begin() + static_cast<std::ptrdiff_t>(headers));
          templates.finish(out.data(), sum, checksum_add(payload.data(), payload_len));
          const auto want = reference(f, timestamps, offload, payload.data(), payload_len);
          for (std::size_t i = 0; i < headers + payload_len; ++i) {
            ASSERT_EQ(out[i], want[i]) << "offload " << offload << " timestamps " << timestamps << " flags "
                                       << int{flags} << " payload " << payload_len << " byte " << i;
          }
          if (offload) continue;
          // And the receiving side's checks pass.
          Ipv4Header ip;
          ASSERT_EQ(parse_ipv4(out.data() + 14, headers + payload_len - 14, ip, true), Ipv4Error::kOk);
          const auto tcp_len = static_cast<std::uint16_t>(headers + payload_len - 34);
          EXPECT_EQ(checksum_fold(checksum_add(out.data() + 34, tcp_len,
                                               pseudo_header_sum(ip.src, ip.dst, kIpProtoTcp, tcp_len))),
                    0xffff);
          TcpSegment seg;
          ASSERT_EQ(parse_tcp(out.data() + 34, tcp_len, seg), TcpError::kOk);
          EXPECT_EQ(seg.flags, flags);
          EXPECT_EQ(seg.payload_len, payload_len);
          EXPECT_EQ(seg.options.has_timestamps, timestamps);
          if (timestamps) {
            EXPECT_EQ(seg.options.ts_val, f.ts_val);
            EXPECT_EQ(seg.options.ts_ecr, f.ts_ecr);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace synwave::test
