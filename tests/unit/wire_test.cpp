// Wire formats: Scapy-made frames parsed field by field, build -> parse round trips for every
// writer, and malformed input (truncation at every length, bad lengths, silly TCP options).
//
// Every truncated parse runs on a heap block of exactly the bytes offered, so a read past the end
// is a heap-buffer-overflow under -fsanitize=address.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data/scapy_frames.hpp"
#include "hex_bytes.hpp"
#include "synwave/byte_order.hpp"
#include "synwave/checksum.hpp"
#include "synwave/wire/arp.hpp"
#include "synwave/wire/ethernet.hpp"
#include "synwave/wire/ipv4.hpp"
#include "synwave/wire/tcp.hpp"

namespace synwave::test::scapy {
// gtest prints parameters through this; the name is all a reader needs.
void PrintTo(const ScapyFrame& f, std::ostream* os) { *os << f.name; }
}  // namespace synwave::test::scapy

namespace synwave {
namespace {

using test::Bytes;
using test::exact_copy;
using test::from_hex;
using test::scapy::kFrames;
using test::scapy::ScapyFrame;

MacAddr mac(std::array<std::uint8_t, 6> bytes) { return MacAddr{bytes}; }

std::vector<ScapyFrame> frames_where(bool (*keep)(const ScapyFrame&)) {
  std::vector<ScapyFrame> out;
  for (const ScapyFrame& f : kFrames)
    if (keep(f)) out.push_back(f);
  return out;
}

std::string frame_name(const testing::TestParamInfo<ScapyFrame>& info) { return info.param.name; }

const ScapyFrame& frame_named(const std::string& name) {
  for (const ScapyFrame& f : kFrames)
    if (name == f.name) return f;
  ADD_FAILURE() << "no Scapy frame named " << name;
  return kFrames[0];
}

// The whole TCP segment of an unfragmented TCP frame (IP total length, not the frame length).
struct SegmentView {
  Bytes frame;
  std::size_t offset = 0;
  std::size_t len = 0;
  const std::uint8_t* data() const { return frame.data() + offset; }
};

SegmentView tcp_segment_of(const ScapyFrame& f) {
  SegmentView v{from_hex(f.hex), EthernetHeader::kSize + f.ip.header_len,
                static_cast<std::size_t>(f.ip.total_len - f.ip.header_len)};
  return v;
}

std::uint64_t pseudo_header_of(const ScapyFrame& f) {
  return pseudo_header_sum(f.ip.src, f.ip.dst, kIpProtoTcp, static_cast<std::uint16_t>(f.ip.total_len - f.ip.header_len));
}

// What parse_ipv4 must say about the first `available` bytes of a Scapy frame's IP packet.
Ipv4Error expected_ipv4_error(const ScapyFrame& f, std::size_t available) {
  if (available < Ipv4Header::kMinSize || available < f.ip.header_len) return Ipv4Error::kTruncated;
  if (available < f.ip.total_len) return Ipv4Error::kBadTotalLength;
  if (f.ip.checksum_on_wire != f.ip.checksum_correct) return Ipv4Error::kBadChecksum;
  if (f.ip.more_fragments || f.ip.fragment_offset != 0) return Ipv4Error::kFragment;
  return Ipv4Error::kOk;
}

void expect_options_eq(const TcpOptions& got, const TcpOptions& want) {
  EXPECT_EQ(got.has_mss, want.has_mss);
  EXPECT_EQ(got.mss, want.mss);
  EXPECT_EQ(got.has_window_scale, want.has_window_scale);
  EXPECT_EQ(got.window_scale, want.window_scale);
  EXPECT_EQ(got.sack_permitted, want.sack_permitted);
  EXPECT_EQ(got.has_timestamps, want.has_timestamps);
  EXPECT_EQ(got.ts_val, want.ts_val);
  EXPECT_EQ(got.ts_ecr, want.ts_ecr);
  EXPECT_EQ(got.malformed, want.malformed);
}

TcpOptions options_scapy_saw(const ScapyFrame& f) {
  TcpOptions o;
  o.has_mss = f.tcp.has_mss;
  o.mss = f.tcp.mss;
  o.has_window_scale = f.tcp.has_window_scale;
  o.window_scale = std::min(f.tcp.window_scale_raw, kMaxWindowScale);  // RFC 7323 §2.3
  o.sack_permitted = f.tcp.sack_permitted;
  o.has_timestamps = f.tcp.has_timestamps;
  o.ts_val = f.tcp.ts_val;
  o.ts_ecr = f.tcp.ts_ecr;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Scapy frames: Ethernet

class ScapyEthernet : public testing::TestWithParam<ScapyFrame> {};

TEST_P(ScapyEthernet, Parse_MatchesScapy) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  EthernetHeader eth;
  ASSERT_EQ(parse_ethernet(frame.data(), frame.size(), eth), EthernetError::kOk);
  EXPECT_EQ(eth.dst, mac(f.eth.dst));
  EXPECT_EQ(eth.src, mac(f.eth.src));
  EXPECT_EQ(eth.ether_type, f.eth.ether_type);
}

TEST_P(ScapyEthernet, TruncatedAtEveryLength_OnlyWholeHeaderParses) {
  const Bytes frame = from_hex(GetParam().hex);
  for (std::size_t len = 0; len <= frame.size(); ++len) {
    const auto bytes = exact_copy(frame.data(), len);
    EthernetHeader eth;
    const EthernetError want = len < EthernetHeader::kSize ? EthernetError::kTruncated : EthernetError::kOk;
    EXPECT_EQ(parse_ethernet(bytes.get(), len, eth), want) << "len " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(Scapy, ScapyEthernet, testing::ValuesIn(kFrames), frame_name);

// ---------------------------------------------------------------------------------------------
// Scapy frames: ARP

class ScapyArp : public testing::TestWithParam<ScapyFrame> {};

TEST_P(ScapyArp, Parse_MatchesScapy) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  ArpPacket arp;
  ASSERT_EQ(parse_arp(frame.data() + 14, frame.size() - 14, arp), ArpError::kOk);
  EXPECT_EQ(arp.operation, f.arp.operation);
  EXPECT_EQ(arp.sender_mac, mac(f.arp.sender_mac));
  EXPECT_EQ(arp.sender_ip, f.arp.sender_ip);
  EXPECT_EQ(arp.target_mac, mac(f.arp.target_mac));
  EXPECT_EQ(arp.target_ip, f.arp.target_ip);
}

TEST_P(ScapyArp, WriteArp_ReproducesScapysBytes) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  ArpPacket arp;
  arp.operation = f.arp.operation;
  arp.sender_mac = mac(f.arp.sender_mac);
  arp.sender_ip = f.arp.sender_ip;
  arp.target_mac = mac(f.arp.target_mac);
  arp.target_ip = f.arp.target_ip;
  Bytes built(EthernetHeader::kSize + ArpPacket::kSize);
  write_ethernet(built.data(), mac(f.eth.dst), mac(f.eth.src), kEtherTypeArp);
  write_arp(built.data() + 14, arp);
  EXPECT_EQ(built, Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(built.size())));
}

TEST_P(ScapyArp, TruncatedAtEveryLength_OnlyWholePacketParses) {
  const Bytes frame = from_hex(GetParam().hex);
  const std::size_t arp_len = frame.size() - 14;
  for (std::size_t len = 0; len <= arp_len; ++len) {
    const auto bytes = exact_copy(frame.data() + 14, len);
    ArpPacket arp;
    const ArpError want = len < ArpPacket::kSize ? ArpError::kTruncated : ArpError::kOk;
    EXPECT_EQ(parse_arp(bytes.get(), len, arp), want) << "len " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(Scapy, ScapyArp, testing::ValuesIn(frames_where([](const ScapyFrame& f) { return f.is_arp; })),
                         frame_name);

// ---------------------------------------------------------------------------------------------
// Scapy frames: IPv4

class ScapyIpv4 : public testing::TestWithParam<ScapyFrame> {};

TEST_P(ScapyIpv4, Parse_VerdictMatchesScapysView) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  Ipv4Header ip;
  EXPECT_EQ(parse_ipv4(frame.data() + 14, frame.size() - 14, ip), expected_ipv4_error(f, frame.size() - 14));
}

TEST_P(ScapyIpv4, ParseWithoutChecksum_FieldsMatchScapy) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  Ipv4Header ip;
  const Ipv4Error result = parse_ipv4(frame.data() + 14, frame.size() - 14, ip, /*verify_checksum=*/false);
  if (f.ip.more_fragments || f.ip.fragment_offset != 0) {
    EXPECT_EQ(result, Ipv4Error::kFragment);
    return;
  }
  ASSERT_EQ(result, Ipv4Error::kOk);
  EXPECT_EQ(ip.header_len, f.ip.header_len);
  EXPECT_EQ(ip.tos, f.ip.tos);
  EXPECT_EQ(ip.total_len, f.ip.total_len);
  EXPECT_EQ(ip.id, f.ip.id);
  EXPECT_EQ(ip.dont_fragment, f.ip.dont_fragment);
  EXPECT_EQ(ip.ttl, f.ip.ttl);
  EXPECT_EQ(ip.protocol, f.ip.protocol);
  EXPECT_EQ(ip.src, f.ip.src);
  EXPECT_EQ(ip.dst, f.ip.dst);
}

TEST_P(ScapyIpv4, HeaderChecksum_EqualsScapys) {
  const ScapyFrame& f = GetParam();
  Bytes header = from_hex(f.hex);
  header.erase(header.begin(), header.begin() + 14);
  header.resize(f.ip.header_len);
  EXPECT_EQ(checksum_fold(checksum_add(header.data(), header.size())) == 0xffff,
            f.ip.checksum_on_wire == f.ip.checksum_correct);
  store_be16(header.data() + 10, 0);
  EXPECT_EQ(checksum_finish(checksum_add(header.data(), header.size())), f.ip.checksum_correct);
}

TEST_P(ScapyIpv4, TruncatedAtEveryLength_RejectedUntilWhole) {
  const ScapyFrame& f = GetParam();
  const Bytes frame = from_hex(f.hex);
  for (std::size_t len = 0; len <= frame.size() - 14; ++len) {
    const auto bytes = exact_copy(frame.data() + 14, len);
    Ipv4Header ip;
    EXPECT_EQ(parse_ipv4(bytes.get(), len, ip), expected_ipv4_error(f, len)) << "len " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(Scapy, ScapyIpv4, testing::ValuesIn(frames_where([](const ScapyFrame& f) { return f.is_ipv4; })),
                         frame_name);

// ---------------------------------------------------------------------------------------------
// Scapy frames: TCP

class ScapyTcp : public testing::TestWithParam<ScapyFrame> {};

TEST_P(ScapyTcp, Parse_FieldsAndOptionsMatchScapy) {
  const ScapyFrame& f = GetParam();
  const SegmentView seg = tcp_segment_of(f);
  TcpSegment tcp;
  ASSERT_EQ(parse_tcp(seg.data(), seg.len, tcp), TcpError::kOk);
  EXPECT_EQ(tcp.src_port, f.tcp.src_port);
  EXPECT_EQ(tcp.dst_port, f.tcp.dst_port);
  EXPECT_EQ(tcp.seq.raw(), f.tcp.seq);
  EXPECT_EQ(tcp.ack.raw(), f.tcp.ack);
  EXPECT_EQ(tcp.header_len, f.tcp.header_len);
  EXPECT_EQ(tcp.flags, f.tcp.flags);
  EXPECT_EQ(tcp.window, f.tcp.window);
  EXPECT_EQ(tcp.urgent, f.tcp.urgent);
  expect_options_eq(tcp.options, options_scapy_saw(f));
  EXPECT_EQ(Bytes(tcp.payload, tcp.payload + tcp.payload_len), from_hex(f.tcp.payload));
  EXPECT_EQ(tcp.payload, seg.data() + f.tcp.header_len);
}

TEST_P(ScapyTcp, Checksum_EqualsScapys) {
  const ScapyFrame& f = GetParam();
  SegmentView seg = tcp_segment_of(f);
  std::uint8_t* tcp = seg.frame.data() + seg.offset;
  EXPECT_EQ(checksum_fold(checksum_add(tcp, seg.len, pseudo_header_of(f))) == 0xffff,
            f.tcp.checksum_on_wire == f.tcp.checksum_correct);
  store_be16(tcp + 16, 0);
  EXPECT_EQ(checksum_finish(checksum_add(tcp, seg.len, pseudo_header_of(f))), f.tcp.checksum_correct);
}

TEST_P(ScapyTcp, TruncatedAtEveryLength_RejectedUntilHeaderWhole) {
  const ScapyFrame& f = GetParam();
  const SegmentView seg = tcp_segment_of(f);
  for (std::size_t len = 0; len <= seg.len; ++len) {
    const auto bytes = exact_copy(seg.data(), len);
    TcpSegment tcp;
    const TcpError result = parse_tcp(bytes.get(), len, tcp);
    if (len < TcpSegment::kMinHeaderSize) {
      EXPECT_EQ(result, TcpError::kTruncated) << "len " << len;
    } else if (len < f.tcp.header_len) {
      EXPECT_EQ(result, TcpError::kBadDataOffset) << "len " << len;
    } else {
      ASSERT_EQ(result, TcpError::kOk) << "len " << len;
      EXPECT_EQ(tcp.payload_len, len - f.tcp.header_len);
      expect_options_eq(tcp.options, options_scapy_saw(f));
    }
  }
}

// Cuts the option bytes at every length: options wholly inside the cut are kept, a cut inside
// an option marks the parse malformed (RFC 9293 MUST-7: keep going with what was understood).
TEST_P(ScapyTcp, OptionsCutAtEveryLength_KeepWholeOptionsOnly) {
  const ScapyFrame& f = GetParam();
  const SegmentView seg = tcp_segment_of(f);
  const std::uint8_t* opts = seg.data() + TcpSegment::kMinHeaderSize;
  const std::size_t opts_len = f.tcp.header_len - TcpSegment::kMinHeaderSize;
  struct Span {
    std::uint8_t kind;
    std::size_t begin, end;
  };
  std::vector<Span> spans;  // the oracle: Scapy's options are well formed, so walk them plainly
  for (std::size_t i = 0; i < opts_len;) {
    if (opts[i] == tcp_option::kEol) break;
    const std::size_t n = opts[i] == tcp_option::kNop ? 1 : opts[i + 1];
    spans.push_back({opts[i], i, i + n});
    i += n;
  }
  for (std::size_t cut = 0; cut <= opts_len; ++cut) {
    const auto bytes = exact_copy(opts, cut);
    TcpOptions got;
    parse_tcp_options(bytes.get(), cut, got);
    TcpOptions want;
    const TcpOptions full = options_scapy_saw(f);
    for (const Span& s : spans) {
      if (s.end <= cut) {
        if (s.kind == tcp_option::kMss) { want.has_mss = true; want.mss = full.mss; }
        if (s.kind == tcp_option::kWindowScale) { want.has_window_scale = true; want.window_scale = full.window_scale; }
        if (s.kind == tcp_option::kSackPermitted) want.sack_permitted = true;
        if (s.kind == tcp_option::kTimestamps) { want.has_timestamps = true; want.ts_val = full.ts_val; want.ts_ecr = full.ts_ecr; }
      } else if (s.begin < cut) {
        want.malformed = true;
      }
    }
    SCOPED_TRACE("cut at " + std::to_string(cut));
    expect_options_eq(got, want);
  }
}

INSTANTIATE_TEST_SUITE_P(Scapy, ScapyTcp, testing::ValuesIn(frames_where([](const ScapyFrame& f) { return f.is_tcp; })),
                         frame_name);

TEST(ScapyFrames, CoverTheCasesTheWireTestsRelyOn) {
  int arp = 0, tcp = 0, bad_ip = 0, bad_tcp = 0, fragments = 0, ip_options = 0, padded = 0;
  for (const ScapyFrame& f : kFrames) {
    arp += f.is_arp;
    tcp += f.is_tcp;
    bad_ip += f.is_ipv4 && f.ip.checksum_on_wire != f.ip.checksum_correct;
    bad_tcp += f.is_tcp && f.tcp.checksum_on_wire != f.tcp.checksum_correct;
    fragments += f.is_ipv4 && (f.ip.more_fragments || f.ip.fragment_offset != 0);
    ip_options += f.is_ipv4 && f.ip.header_len > 20;
    padded += f.is_ipv4 && from_hex(f.hex).size() > 14u + f.ip.total_len;
  }
  EXPECT_GE(arp, 3);
  EXPECT_GE(tcp, 10);
  EXPECT_EQ(bad_ip, 1);
  EXPECT_EQ(bad_tcp, 1);
  EXPECT_EQ(fragments, 3);
  EXPECT_EQ(ip_options, 3);
  EXPECT_EQ(padded, 1);
}

TEST(ScapyFrames, VlanTaggedFrame_ReportsTheTagEtherType) {
  const Bytes frame = from_hex(frame_named("vlan_tagged").hex);
  EthernetHeader eth;
  ASSERT_EQ(parse_ethernet(frame.data(), frame.size(), eth), EthernetError::kOk);
  EXPECT_EQ(eth.ether_type, 0x8100);
}

// Our writers, given the values Scapy was given, produce Scapy's bytes exactly (headers,
// option layout and both checksums).
class WritersVsScapy : public testing::TestWithParam<std::string> {};

TEST_P(WritersVsScapy, EthernetIpv4TcpWriters_ReproduceScapysBytes) {
  const ScapyFrame& f = frame_named(GetParam());
  const Bytes want = from_hex(f.hex);
  TcpOptionsOut o;
  o.mss = f.tcp.has_mss;
  o.mss_value = f.tcp.mss;
  o.window_scale = f.tcp.has_window_scale;
  o.window_scale_shift = f.tcp.window_scale_raw;
  o.sack_permitted = f.tcp.sack_permitted;
  o.timestamps = f.tcp.has_timestamps;
  o.ts_val = f.tcp.ts_val;
  o.ts_ecr = f.tcp.ts_ecr;
  const Bytes payload = from_hex(f.tcp.payload);
  const std::size_t opt_len = tcp_options_size(o);
  const std::size_t tcp_len = 20 + opt_len + payload.size();
  Bytes built(14 + 20 + tcp_len);
  write_ethernet(built.data(), mac(f.eth.dst), mac(f.eth.src), kEtherTypeIpv4);
  write_ipv4(built.data() + 14, f.ip.src, f.ip.dst, kIpProtoTcp, static_cast<std::uint16_t>(20 + tcp_len), f.ip.id,
             f.ip.ttl, /*checksum_offload=*/false);
  std::uint8_t* tcp = built.data() + 34;
  write_tcp_header(tcp, f.tcp.src_port, f.tcp.dst_port, SeqNum(f.tcp.seq), SeqNum(f.tcp.ack),
                   static_cast<std::uint8_t>(20 + opt_len), f.tcp.flags, f.tcp.window);
  EXPECT_EQ(write_tcp_options(tcp + 20, o), opt_len);
  std::copy(payload.begin(), payload.end(), tcp + 20 + opt_len);
  store_be16(tcp + 16, checksum_finish(checksum_add(tcp, tcp_len, pseudo_header_of(f))));
  EXPECT_EQ(built, want);
}

INSTANTIATE_TEST_SUITE_P(Scapy, WritersVsScapy,
                         testing::Values("syn_linux_options", "syn_ack_linux_options", "syn_wrapping_seq",
                                         "ack_data_psh", "fin_ack", "rst_ack"));

// ---------------------------------------------------------------------------------------------
// Malformed IPv4

// A valid 20-byte header for a 40-byte packet, in a 40-byte buffer.
Bytes valid_ipv4_packet() {
  Bytes b(40);
  write_ipv4(b.data(), 0xc6120002, 0xc6120001, kIpProtoTcp, 40, 7, 64, false);
  return b;
}

void refresh_ipv4_checksum(Bytes& b) {
  const std::size_t ihl = std::min<std::size_t>((b[0] & 0x0f) * 4u, b.size());
  store_be16(b.data() + 10, 0);
  store_be16(b.data() + 10, checksum_finish(checksum_add(b.data(), ihl)));
}

struct Ipv4Mutation {
  const char* what;
  std::uint8_t version_ihl;
  std::uint16_t total_len;
  std::uint16_t flags_fragment;
  std::size_t bytes;  // how many of the 40 bytes are offered
  Ipv4Error want;
};

class MalformedIpv4 : public testing::TestWithParam<Ipv4Mutation> {};

TEST_P(MalformedIpv4, Parse_ReportsTheFault) {
  const Ipv4Mutation& m = GetParam();
  Bytes b = valid_ipv4_packet();
  b[0] = m.version_ihl;
  store_be16(b.data() + 2, m.total_len);
  store_be16(b.data() + 6, m.flags_fragment);
  refresh_ipv4_checksum(b);  // so each case tests its own fault, not the checksum
  const auto bytes = exact_copy(b.data(), m.bytes);
  Ipv4Header ip;
  EXPECT_EQ(parse_ipv4(bytes.get(), m.bytes, ip), m.want) << m.what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedIpv4,
    testing::Values(Ipv4Mutation{"valid", 0x45, 40, 0x4000, 40, Ipv4Error::kOk},
                    Ipv4Mutation{"valid, no DF", 0x45, 40, 0x0000, 40, Ipv4Error::kOk},
                    Ipv4Mutation{"version 6", 0x65, 40, 0x4000, 40, Ipv4Error::kBadVersion},
                    Ipv4Mutation{"version 0", 0x05, 40, 0x4000, 40, Ipv4Error::kBadVersion},
                    Ipv4Mutation{"IHL 0", 0x40, 40, 0x4000, 40, Ipv4Error::kBadHeaderLength},
                    Ipv4Mutation{"IHL 1", 0x41, 40, 0x4000, 40, Ipv4Error::kBadHeaderLength},
                    Ipv4Mutation{"IHL 4", 0x44, 40, 0x4000, 40, Ipv4Error::kBadHeaderLength},
                    Ipv4Mutation{"IHL 6 in 23 bytes", 0x46, 23, 0x4000, 23, Ipv4Error::kTruncated},
                    Ipv4Mutation{"IHL 15 in 40 bytes", 0x4f, 40, 0x4000, 40, Ipv4Error::kTruncated},
                    Ipv4Mutation{"total length 0", 0x45, 0, 0x4000, 40, Ipv4Error::kBadTotalLength},
                    Ipv4Mutation{"total length 19 < IHL 20", 0x45, 19, 0x4000, 40, Ipv4Error::kBadTotalLength},
                    Ipv4Mutation{"total length 23 < IHL 24", 0x46, 23, 0x4000, 40, Ipv4Error::kBadTotalLength},
                    Ipv4Mutation{"total length 20 == IHL (empty payload)", 0x45, 20, 0x4000, 40, Ipv4Error::kOk},
                    Ipv4Mutation{"total length 41 > 40 bytes", 0x45, 41, 0x4000, 40, Ipv4Error::kBadTotalLength},
                    Ipv4Mutation{"total length 65535 > 40 bytes", 0x45, 65535, 0x4000, 40, Ipv4Error::kBadTotalLength},
                    Ipv4Mutation{"total length < frame (padding)", 0x45, 28, 0x4000, 40, Ipv4Error::kOk},
                    Ipv4Mutation{"MF", 0x45, 40, 0x2000, 40, Ipv4Error::kFragment},
                    Ipv4Mutation{"offset 1", 0x45, 40, 0x0001, 40, Ipv4Error::kFragment},
                    Ipv4Mutation{"largest offset", 0x45, 40, 0x1fff, 40, Ipv4Error::kFragment},
                    Ipv4Mutation{"MF and offset", 0x45, 40, 0x2010, 40, Ipv4Error::kFragment},
                    Ipv4Mutation{"DF and offset", 0x45, 40, 0x4010, 40, Ipv4Error::kFragment}));

TEST(Ipv4, WrongChecksum_RejectedOnlyWhenVerifying) {
  Bytes b = valid_ipv4_packet();
  b[11] ^= 0x01;
  Ipv4Header ip;
  EXPECT_EQ(parse_ipv4(b.data(), b.size(), ip), Ipv4Error::kBadChecksum);
  EXPECT_EQ(parse_ipv4(b.data(), b.size(), ip, /*verify_checksum=*/false), Ipv4Error::kOk);
}

TEST(Ipv4, EveryFlippedHeaderBit_IsCaughtByTheChecksumOrTheLengthChecks) {
  const Bytes good = valid_ipv4_packet();
  for (std::size_t bit = 0; bit < 20 * 8; ++bit) {
    Bytes b = good;
    b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    Ipv4Header ip;
    EXPECT_NE(parse_ipv4(b.data(), b.size(), ip), Ipv4Error::kOk) << "bit " << bit;
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed TCP header

// A header with the given data-offset byte, followed by NOPs up to len (at least 20) bytes.
Bytes tcp_segment_with_offset_byte(std::uint8_t offset_byte, std::size_t len) {
  Bytes b(std::max<std::size_t>(len, 20), tcp_option::kNop);
  write_tcp_header(b.data(), 1, 2, SeqNum(3), SeqNum(4), 20, tcp_flags::kAck, 5);
  b[12] = offset_byte;
  return b;
}

TEST(TcpHeader, DataOffsetBelowFive_Rejected) {
  for (std::uint8_t words = 0; words < 5; ++words) {
    const Bytes b = tcp_segment_with_offset_byte(static_cast<std::uint8_t>(words << 4), 40);
    TcpSegment tcp;
    EXPECT_EQ(parse_tcp(b.data(), b.size(), tcp), TcpError::kBadDataOffset) << "data offset " << int{words};
  }
}

TEST(TcpHeader, DataOffsetPastTheSegment_Rejected) {
  struct Case {
    std::uint8_t words;
    std::size_t len;
    TcpError want;
  };
  const Case cases[] = {
      {6, 20, TcpError::kBadDataOffset}, {6, 23, TcpError::kBadDataOffset}, {6, 24, TcpError::kOk},
      {15, 59, TcpError::kBadDataOffset}, {15, 60, TcpError::kOk},         {15, 61, TcpError::kOk},
  };
  for (const Case& c : cases) {
    const Bytes b = tcp_segment_with_offset_byte(static_cast<std::uint8_t>(c.words << 4), c.len);
    const auto bytes = exact_copy(b.data(), b.size());
    TcpSegment tcp;
    EXPECT_EQ(parse_tcp(bytes.get(), c.len, tcp), c.want) << "data offset " << int{c.words} << " len " << c.len;
  }
}

TEST(TcpHeader, ReservedBitsBesideDataOffset_Ignored) {
  const Bytes b = tcp_segment_with_offset_byte(0x5f, 20);
  TcpSegment tcp;
  ASSERT_EQ(parse_tcp(b.data(), b.size(), tcp), TcpError::kOk);
  EXPECT_EQ(tcp.header_len, 20);
}

TEST(TcpHeader, SegLen_CountsSynAndFin) {
  struct Case {
    std::uint8_t flags;
    std::uint32_t payload;
    std::uint32_t want;
  };
  const Case cases[] = {
      {tcp_flags::kAck, 0, 0},
      {tcp_flags::kSyn, 0, 1},
      {tcp_flags::kFin | tcp_flags::kAck, 0, 1},
      {tcp_flags::kFin | tcp_flags::kPsh | tcp_flags::kAck, 100, 101},
      {tcp_flags::kSyn | tcp_flags::kFin, 3, 5},
      {tcp_flags::kRst, 0, 0},
  };
  for (const Case& c : cases) {
    TcpSegment s;
    s.flags = c.flags;
    s.payload_len = c.payload;
    EXPECT_EQ(s.seg_len(), c.want) << "flags " << int{c.flags};
  }
}

// ---------------------------------------------------------------------------------------------
// TCP options, hand-made (RFC 9293 §3.2, MUST-6 and MUST-7)

struct OptionsCase {
  const char* what;
  Bytes bytes;
  TcpOptions want;
};

TcpOptions with(void (*set)(TcpOptions&)) {
  TcpOptions o;
  set(o);
  return o;
}

class TcpOptionsTable : public testing::TestWithParam<OptionsCase> {};

TEST_P(TcpOptionsTable, Parse_KeepsWhatWasUnderstood) {
  const OptionsCase& c = GetParam();
  const auto bytes = exact_copy(c.bytes.data(), c.bytes.size());
  TcpOptions got;
  parse_tcp_options(bytes.get(), c.bytes.size(), got);
  SCOPED_TRACE(c.what);
  expect_options_eq(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TcpOptionsTable,
    testing::Values(
        OptionsCase{"nothing", {}, {}},
        OptionsCase{"NOP padding only", {1, 1, 1, 1}, {}},
        OptionsCase{"EOL stops the parse, bytes after it are padding", {0, 2, 4, 5, 0xb4}, {}},
        OptionsCase{"MSS", {2, 4, 0x05, 0xb4}, with([](TcpOptions& o) { o.has_mss = true; o.mss = 1460; })},
        OptionsCase{"MSS then EOL then garbage", {2, 4, 0x05, 0xb4, 0, 0xff, 0xff, 0xff},
                    with([](TcpOptions& o) { o.has_mss = true; o.mss = 1460; })},
        OptionsCase{"length 0 after MSS: MSS kept, malformed", {2, 4, 0x05, 0xb4, 3, 0, 7, 1},
                    with([](TcpOptions& o) { o.has_mss = true; o.mss = 1460; o.malformed = true; })},
        OptionsCase{"length 1 after MSS: MSS kept, malformed", {2, 4, 0x05, 0xb4, 4, 1, 1, 1},
                    with([](TcpOptions& o) { o.has_mss = true; o.mss = 1460; o.malformed = true; })},
        OptionsCase{"length 0 first", {8, 0, 1, 1}, with([](TcpOptions& o) { o.malformed = true; })},
        OptionsCase{"length 1 first", {2, 1, 1, 1}, with([](TcpOptions& o) { o.malformed = true; })},
        OptionsCase{"length past the end: earlier WS kept", {1, 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0},
                    with([](TcpOptions& o) { o.has_window_scale = true; o.window_scale = 7; o.malformed = true; })},
        OptionsCase{"length 255 past the end", {2, 255, 5, 0xb4}, with([](TcpOptions& o) { o.malformed = true; })},
        OptionsCase{"kind in the last byte, no length", {1, 1, 1, 2}, with([](TcpOptions& o) { o.malformed = true; })},
        OptionsCase{"unknown kind 253 skipped, MSS after it read", {253, 4, 0x12, 0x34, 2, 4, 0x02, 0x18},
                    with([](TcpOptions& o) { o.has_mss = true; o.mss = 536; })},
        OptionsCase{"unknown kind 30 with no data skipped", {30, 2, 4, 2}, with([](TcpOptions& o) { o.sack_permitted = true; })},
        OptionsCase{"SACK blocks skipped", {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 4, 2},
                    with([](TcpOptions& o) { o.sack_permitted = true; })},
        OptionsCase{"MSS with length 3 ignored, parse goes on", {2, 3, 5, 1, 4, 2, 1, 1},
                    with([](TcpOptions& o) { o.sack_permitted = true; })},
        OptionsCase{"WS with length 4 ignored", {3, 4, 7, 0, 1, 1, 1, 1}, {}},
        OptionsCase{"TS with length 8 ignored", {8, 8, 0, 0, 0, 1, 0, 0}, {}},
        OptionsCase{"WS 14 kept", {1, 3, 3, 14}, with([](TcpOptions& o) { o.has_window_scale = true; o.window_scale = 14; })},
        OptionsCase{"WS 15 clamped to 14", {1, 3, 3, 15}, with([](TcpOptions& o) { o.has_window_scale = true; o.window_scale = 14; })},
        OptionsCase{"WS 255 clamped to 14", {1, 3, 3, 255}, with([](TcpOptions& o) { o.has_window_scale = true; o.window_scale = 14; })},
        OptionsCase{"WS 0", {1, 3, 3, 0}, with([](TcpOptions& o) { o.has_window_scale = true; })},
        OptionsCase{"TS values", {1, 1, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1},
                    with([](TcpOptions& o) { o.has_timestamps = true; o.ts_val = 0xffffffff; o.ts_ecr = 1; })},
        OptionsCase{"12 bytes of NOP NOP TS, the common layout", {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0x80, 0, 0, 0},
                    with([](TcpOptions& o) { o.has_timestamps = true; o.ts_val = 0x1234; o.ts_ecr = 0x80000000u; })},
        OptionsCase{"12 bytes: NOP NOP, TS with length 9 is malformed", {1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 2},
                    with([](TcpOptions& o) { o.malformed = true; })},
        OptionsCase{"12 bytes: TS then NOP NOP", {8, 10, 0, 0, 0, 3, 0, 0, 0, 4, 1, 1},
                    with([](TcpOptions& o) { o.has_timestamps = true; o.ts_val = 3; o.ts_ecr = 4; })},
        OptionsCase{"20 bytes of MSS SACKOK TS NOP WS, Linux's SYN layout",
                    {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x80, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7},
                    with([](TcpOptions& o) {
                      o.has_mss = true; o.mss = 1460; o.sack_permitted = true; o.has_timestamps = true;
                      o.ts_val = 0x80000001u; o.ts_ecr = 2; o.has_window_scale = true; o.window_scale = 7; })},
        OptionsCase{"Linux's SYN layout, WS 15 clamped to 14",
                    {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 15},
                    with([](TcpOptions& o) {
                      o.has_mss = true; o.mss = 1460; o.sack_permitted = true; o.has_timestamps = true;
                      o.ts_val = 1; o.has_window_scale = true; o.window_scale = 14; })},
        OptionsCase{"20 bytes: the same options in another order",
                    {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0x80, 0, 0, 1, 0, 0, 0, 2},
                    with([](TcpOptions& o) {
                      o.has_mss = true; o.mss = 1460; o.sack_permitted = true; o.has_timestamps = true;
                      o.ts_val = 0x80000001u; o.ts_ecr = 2; o.has_window_scale = true; o.window_scale = 7; })},
        OptionsCase{"20 bytes: Linux's layout but WS with length 4 is malformed",
                    {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 4, 7},
                    with([](TcpOptions& o) {
                      o.has_mss = true; o.mss = 1460; o.sack_permitted = true; o.has_timestamps = true;
                      o.ts_val = 1; o.ts_ecr = 2; o.malformed = true; })},
        OptionsCase{"TS then length past the end: TS kept", {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 2, 4, 5},
                    with([](TcpOptions& o) { o.has_timestamps = true; o.ts_val = 5; o.ts_ecr = 6; o.malformed = true; })}));

TEST(TcpOptions, MalformedOptionsInASegment_SegmentStillParses) {
  // Data offset 7: 8 option bytes, MSS then a zero-length option; payload after.
  Bytes b(28 + 3);
  write_tcp_header(b.data(), 1, 2, SeqNum(3), SeqNum(4), 28, tcp_flags::kSyn, 5);
  const std::uint8_t options[8] = {2, 4, 0x05, 0xb4, 8, 0, 1, 1};
  std::copy(options, options + 8, b.begin() + 20);
  b[28] = 'a';
  b[29] = 'b';
  b[30] = 'c';
  TcpSegment tcp;
  ASSERT_EQ(parse_tcp(b.data(), b.size(), tcp), TcpError::kOk);
  EXPECT_TRUE(tcp.options.malformed);
  EXPECT_TRUE(tcp.options.has_mss);
  EXPECT_EQ(tcp.options.mss, 1460);
  EXPECT_EQ(tcp.payload_len, 3u);
}

TEST(TcpOptions, ParseTcp_ResetsOptionsFromAnEarlierSegment) {
  TcpSegment tcp;
  tcp.options.has_mss = true;
  tcp.options.malformed = true;
  Bytes b(20);
  write_tcp_header(b.data(), 1, 2, SeqNum(3), SeqNum(4), 20, tcp_flags::kAck, 5);
  ASSERT_EQ(parse_tcp(b.data(), b.size(), tcp), TcpError::kOk);
  expect_options_eq(tcp.options, TcpOptions{});
}

// ---------------------------------------------------------------------------------------------
// write_tcp_options: every combination of the four options

struct OptionsLayout {
  bool mss, window_scale, sack_permitted, timestamps;
  const char* hex;  // Linux's tcp_options_write order: MSS, (SACKOK+)TS, NOP NOP SACKOK, NOP WS
};

constexpr const char* kMss = "020405b4";
constexpr const char* kWs = "01030307";
constexpr const char* kSack = "01010402";
constexpr const char* kTs = "0101080a0102030405060708";
constexpr const char* kSackTs = "0402080a0102030405060708";

std::string cat(std::initializer_list<const char*> parts) {
  std::string s;
  for (const char* p : parts) s += p;
  return s;
}

class TcpOptionsWriter : public testing::TestWithParam<int> {};

TcpOptionsOut combination(int bits) {
  TcpOptionsOut o;
  o.mss = (bits & 1) != 0;
  o.window_scale = (bits & 2) != 0;
  o.sack_permitted = (bits & 4) != 0;
  o.timestamps = (bits & 8) != 0;
  o.mss_value = 1460;
  o.window_scale_shift = 7;
  o.ts_val = 0x01020304;
  o.ts_ecr = 0x05060708;
  return o;
}

std::string expected_layout(const TcpOptionsOut& o) {
  std::string s;
  if (o.mss) s += kMss;
  if (o.sack_permitted && o.timestamps) s += kSackTs;
  else {
    if (o.timestamps) s += kTs;
    if (o.sack_permitted) s += kSack;
  }
  if (o.window_scale) s += kWs;
  return s;
}

TEST_P(TcpOptionsWriter, Write_SizeIsAMultipleOfFourAndLayoutIsLinuxs) {
  const TcpOptionsOut o = combination(GetParam());
  std::array<std::uint8_t, 40> buf{};
  const std::size_t n = write_tcp_options(buf.data(), o);
  EXPECT_EQ(n, tcp_options_size(o));
  EXPECT_EQ(n % 4, 0u);
  EXPECT_LE(n, 40u);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), from_hex(expected_layout(o)));
}

TEST_P(TcpOptionsWriter, SumFromValues_EqualsTheSumOfTheBytesWritten) {
  for (const std::uint32_t ts : {0u, 0x01020304u, 0xffffffffu, 0x8000ffffu}) {
    TcpOptionsOut o = combination(GetParam());
    o.ts_val = ts;
    o.ts_ecr = ~ts;
    o.mss_value = static_cast<std::uint16_t>(ts);
    o.window_scale_shift = static_cast<std::uint8_t>(ts % 15);
    std::array<std::uint8_t, 40> buf{};
    const std::size_t n = write_tcp_options(buf.data(), o);
    EXPECT_EQ(checksum_fold(tcp_options_sum(o)), checksum_fold(checksum_add(buf.data(), n)));
  }
}

TEST_P(TcpOptionsWriter, WriteThenParse_GivesBackTheSameOptions) {
  const TcpOptionsOut o = combination(GetParam());
  Bytes seg(20 + tcp_options_size(o) + 5, 0xee);
  const auto header_len = static_cast<std::uint8_t>(20 + tcp_options_size(o));
  write_tcp_header(seg.data(), 40000, 80, SeqNum(1), SeqNum(2), header_len, tcp_flags::kSyn, 64240);
  write_tcp_options(seg.data() + 20, o);
  const auto bytes = exact_copy(seg.data(), seg.size());
  TcpSegment tcp;
  ASSERT_EQ(parse_tcp(bytes.get(), seg.size(), tcp), TcpError::kOk);
  EXPECT_EQ(tcp.header_len, header_len);
  EXPECT_EQ(tcp.payload_len, 5u);
  TcpOptions want;
  want.has_mss = o.mss;
  want.mss = o.mss ? o.mss_value : 0;
  want.has_window_scale = o.window_scale;
  want.window_scale = o.window_scale ? o.window_scale_shift : 0;
  want.sack_permitted = o.sack_permitted;
  want.has_timestamps = o.timestamps;
  want.ts_val = o.timestamps ? o.ts_val : 0;
  want.ts_ecr = o.timestamps ? o.ts_ecr : 0;
  expect_options_eq(tcp.options, want);
}

INSTANTIATE_TEST_SUITE_P(AllSixteen, TcpOptionsWriter, testing::Range(0, 16), [](const testing::TestParamInfo<int>& info) {
  const TcpOptionsOut o = combination(info.param);
  std::string name;
  if (o.mss) name += "Mss";
  if (o.window_scale) name += "Ws";
  if (o.sack_permitted) name += "SackOk";
  if (o.timestamps) name += "Ts";
  return name.empty() ? std::string("None") : name;
});

TEST(TcpOptionsLayout, FullSyn_MatchesWhatLinuxSends) {
  // What tcpdump shows for Linux SYNs: "mss 1460,sackOK,TS ...,nop,wscale 7" and, with
  // timestamps off, "mss 1460,nop,nop,sackOK,nop,wscale 7".
  struct Case {
    int bits;
    std::string hex;
  };
  const Case cases[] = {{15, cat({kMss, kSackTs, kWs})}, {7, cat({kMss, kSack, kWs})}};
  for (const Case& c : cases) {
    std::array<std::uint8_t, 40> buf{};
    const std::size_t n = write_tcp_options(buf.data(), combination(c.bits));
    EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), from_hex(c.hex));
  }
}

// SACK blocks after the timestamps (what an ACK that reports held data carries): one to three,
// written, summed and parsed back; "NOP NOP SACK" as Linux lays it out.
TEST(TcpSackBlocks, OneToThree_WrittenSummedAndParsedBack) {
  const SackBlock blocks[3] = {{0x01020304u, 0x05060708u}, {0xfffffff0u, 0x00000010u}, {0x80000000u, 0x8000ffffu}};
  for (std::uint8_t n = 1; n <= 3; ++n) {
    SCOPED_TRACE(static_cast<int>(n));
    TcpOptionsOut o;
    o.timestamps = true;
    o.ts_val = 0x01020304;
    o.ts_ecr = 0x05060708;
    std::array<std::uint8_t, 40> buf{};
    const std::size_t ts_len = write_tcp_options(buf.data(), o);
    const std::size_t sack_len = write_sack_option(buf.data() + ts_len, blocks, n);
    const std::size_t len = ts_len + sack_len;
    EXPECT_EQ(sack_len, sack_option_size(n));
    EXPECT_EQ(len, 12u + 4u + 8u * n);
    EXPECT_LE(len, 40u);
    EXPECT_EQ(Bytes(buf.begin() + 12, buf.begin() + 16), from_hex(std::string("010105") + (n == 1 ? "0a" : n == 2 ? "12" : "1a")));
    EXPECT_EQ(checksum_fold(tcp_options_sum(o) + sack_option_sum(blocks, n)), checksum_fold(checksum_add(buf.data(), len)));
    TcpOptions parsed;
    parsed.reset();
    parse_tcp_options(buf.data(), len, parsed);
    EXPECT_FALSE(parsed.malformed);
    EXPECT_TRUE(parsed.has_timestamps);
    ASSERT_EQ(parsed.sack_count, n);
    for (std::uint8_t b = 0; b < n; ++b) {
      EXPECT_EQ(parsed.sack[b].left, blocks[b].left);
      EXPECT_EQ(parsed.sack[b].right, blocks[b].right);
    }
  }
}

// A SACK option of a length no whole number of blocks makes is skipped, not half-read.
TEST(TcpSackBlocks, LengthNotWholeBlocks_Ignored) {
  const Bytes opts = from_hex("0101050c01020304050607080000");  // NOP NOP SACK len 12: 1.25 blocks
  TcpOptions parsed;
  parsed.reset();
  parse_tcp_options(opts.data(), 14, parsed);
  EXPECT_EQ(parsed.sack_count, 0u);
}

// ---------------------------------------------------------------------------------------------
// Round trips of the other writers

TEST(TcpHeaderWriter, EveryFlagsByteAndHeaderLength_ParsesBack) {
  for (std::uint8_t header_len = 20; header_len <= 60; header_len = static_cast<std::uint8_t>(header_len + 4)) {
    for (int flags = 0; flags < 256; ++flags) {
      Bytes seg(header_len + 1, tcp_option::kNop);
      write_tcp_header(seg.data(), 0xfedc, 0x0102, SeqNum(0x80000000u + static_cast<std::uint32_t>(flags)),
                       SeqNum(0xffffffffu - static_cast<std::uint32_t>(flags)), header_len,
                       static_cast<std::uint8_t>(flags), 0xabcd);
      TcpSegment tcp;
      ASSERT_EQ(parse_tcp(seg.data(), seg.size(), tcp), TcpError::kOk);
      EXPECT_EQ(tcp.src_port, 0xfedc);
      EXPECT_EQ(tcp.dst_port, 0x0102);
      EXPECT_EQ(tcp.seq.raw(), 0x80000000u + static_cast<std::uint32_t>(flags));
      EXPECT_EQ(tcp.ack.raw(), 0xffffffffu - static_cast<std::uint32_t>(flags));
      EXPECT_EQ(tcp.header_len, header_len);
      EXPECT_EQ(tcp.flags, flags);
      EXPECT_EQ(tcp.window, 0xabcd);
      EXPECT_EQ(tcp.urgent, 0);
      EXPECT_EQ(load_be16(seg.data() + 16), 0) << "checksum left for the caller";
      EXPECT_EQ(tcp.payload_len, 1u);
      EXPECT_EQ(checksum_fold(tcp_header_sum(0xfedc, 0x0102, tcp.seq, tcp.ack, header_len, static_cast<std::uint8_t>(flags), 0xabcd)),
                checksum_fold(checksum_add(seg.data(), 20)))
          << "the header's sum from its values";
    }
  }
}

TEST(Ipv4Writer, WriteThenParse_GivesBackTheFields) {
  struct Case {
    std::uint32_t src, dst;
    std::uint16_t total_len, id;
    std::uint8_t ttl, protocol;
  };
  const Case cases[] = {
      {0xc6120002, 0xc6120001, 40, 0, 64, kIpProtoTcp},
      {0xffffffff, 0x00000000, 20, 0xffff, 255, 17},
      {0x0a000001, 0xc0a80101, 1500, 0x1234, 1, kIpProtoTcp},
  };
  for (const Case& c : cases) {
    Bytes b(c.total_len);
    write_ipv4(b.data(), c.src, c.dst, c.protocol, c.total_len, c.id, c.ttl, /*checksum_offload=*/false);
    Ipv4Header ip;
    ASSERT_EQ(parse_ipv4(b.data(), b.size(), ip), Ipv4Error::kOk);
    EXPECT_EQ(ip.header_len, 20);
    EXPECT_EQ(ip.tos, 0);
    EXPECT_EQ(ip.total_len, c.total_len);
    EXPECT_EQ(ip.id, c.id);
    EXPECT_TRUE(ip.dont_fragment);
    EXPECT_EQ(ip.ttl, c.ttl);
    EXPECT_EQ(ip.protocol, c.protocol);
    EXPECT_EQ(ip.src, c.src);
    EXPECT_EQ(ip.dst, c.dst);
  }
}

TEST(Ipv4Writer, ChecksumOffload_LeavesFieldZeroForTheNic) {
  Bytes b(40);
  write_ipv4(b.data(), 0xc6120002, 0xc6120001, kIpProtoTcp, 40, 9, 64, /*checksum_offload=*/true);
  EXPECT_EQ(load_be16(b.data() + 10), 0);
  Ipv4Header ip;
  EXPECT_EQ(parse_ipv4(b.data(), b.size(), ip, /*verify_checksum=*/false), Ipv4Error::kOk);
  Bytes full(40);
  write_ipv4(full.data(), 0xc6120002, 0xc6120001, kIpProtoTcp, 40, 9, 64, /*checksum_offload=*/false);
  store_be16(b.data() + 10, checksum_finish(checksum_add(b.data(), 20)));
  EXPECT_EQ(b, full);
}

TEST(EthernetWriter, WriteThenParse_GivesBackTheFields) {
  const MacAddr dst{{0x01, 0x23, 0x45, 0x67, 0x89, 0xab}};
  const MacAddr src{{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}};
  for (const std::uint16_t type : {kEtherTypeIpv4, kEtherTypeArp, std::uint16_t{0x86dd}, std::uint16_t{0xffff}}) {
    Bytes b(14);
    write_ethernet(b.data(), dst, src, type);
    EthernetHeader eth;
    ASSERT_EQ(parse_ethernet(b.data(), b.size(), eth), EthernetError::kOk);
    EXPECT_EQ(eth.dst, dst);
    EXPECT_EQ(eth.src, src);
    EXPECT_EQ(eth.ether_type, type);
  }
}

TEST(ArpWriter, WriteThenParse_GivesBackTheFields) {
  for (const std::uint16_t op : {kArpRequest, kArpReply}) {
    ArpPacket a;
    a.operation = op;
    a.sender_mac = MacAddr{{2, 0, 0, 0, 0, 1}};
    a.sender_ip = 0xc6120001;
    a.target_mac = MacAddr{{2, 0, 0, 0, 0, 2}};
    a.target_ip = 0xc6120002;
    Bytes b(ArpPacket::kSize);
    write_arp(b.data(), a);
    ArpPacket back;
    ASSERT_EQ(parse_arp(b.data(), b.size(), back), ArpError::kOk);
    EXPECT_EQ(back.operation, op);
    EXPECT_EQ(back.sender_mac, a.sender_mac);
    EXPECT_EQ(back.sender_ip, a.sender_ip);
    EXPECT_EQ(back.target_mac, a.target_mac);
    EXPECT_EQ(back.target_ip, a.target_ip);
  }
}

TEST(Arp, NotEthernetIpv4OrUnknownOperation_Rejected) {
  struct Case {
    const char* what;
    std::size_t offset;
    std::uint8_t value;
    ArpError want;
  };
  const Case cases[] = {
      {"hardware type 6 (IEEE 802)", 1, 6, ArpError::kNotEthernetIpv4},
      {"protocol type 0x86dd", 2, 0x86, ArpError::kNotEthernetIpv4},
      {"hardware length 8", 4, 8, ArpError::kNotEthernetIpv4},
      {"protocol length 16", 5, 16, ArpError::kNotEthernetIpv4},
      {"operation 0", 7, 0, ArpError::kBadOperation},
      {"operation 3 (RARP request)", 7, 3, ArpError::kBadOperation},
  };
  for (const Case& c : cases) {
    ArpPacket a;
    a.operation = kArpRequest;
    Bytes b(ArpPacket::kSize);
    write_arp(b.data(), a);
    b[c.offset] = c.value;
    ArpPacket back;
    EXPECT_EQ(parse_arp(b.data(), b.size(), back), c.want) << c.what;
  }
}

// ---------------------------------------------------------------------------------------------
// Small pieces

TEST(MacAddr, Classification) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_FALSE(MacAddr::broadcast().is_zero());
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE(MacAddr{}.is_broadcast());
  EXPECT_FALSE(MacAddr{}.is_multicast());
  const MacAddr ipv4_multicast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  EXPECT_TRUE(ipv4_multicast.is_multicast());
  EXPECT_FALSE(ipv4_multicast.is_broadcast());
  const MacAddr unicast{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};  // locally administered, unicast
  EXPECT_FALSE(unicast.is_multicast());
  EXPECT_FALSE(unicast.is_zero());
  const MacAddr almost_broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}};
  EXPECT_FALSE(almost_broadcast.is_broadcast());
}

TEST(ByteOrder, LoadsAndStoresAtEveryAlignment_AreBigEndian) {
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::array<std::uint8_t, 16> buf{};
    store_be32(buf.data() + offset, 0x01020304);
    EXPECT_EQ(buf[offset], 0x01);
    EXPECT_EQ(buf[offset + 3], 0x04);
    EXPECT_EQ(load_be32(buf.data() + offset), 0x01020304u);
    store_be16(buf.data() + offset + 4, 0xa1b2);
    EXPECT_EQ(buf[offset + 4], 0xa1);
    EXPECT_EQ(buf[offset + 5], 0xb2);
    EXPECT_EQ(load_be16(buf.data() + offset + 4), 0xa1b2);
  }
}

}  // namespace
}  // namespace synwave
