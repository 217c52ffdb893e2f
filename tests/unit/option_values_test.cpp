// The values options take, IPv6 ones above all (issue 13): addresses as inet_pton reads them,
// prefixes, bracketed endpoints, ranges that vary in their last 32 bits, --ip and --gateway with
// one address of each family, and --dst expanded per family. Addresses from 2001:db8::/32
// (RFC 3849) and 198.18.0.0/15 only.
#include "option_values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace synwave::app {
namespace {

Ipv6Addr v6(const char* text) {
  Ipv6Addr a{};
  EXPECT_TRUE(parse_ipv6(text, a)) << text;
  return a;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(ParseIpv6, TextForms_OfRfc4291) {
  const Ipv6Addr full{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  Ipv6Addr a{};
  for (const char* s : {"2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8::1", "2001:db8:0:0:0:0:0:1"}) {
    ASSERT_TRUE(parse_ipv6(s, a)) << s;
    EXPECT_EQ(a, full) << s;
  }
  ASSERT_TRUE(parse_ipv6("2001:db8::c612:2", a));  // an embedded-IPv4 tail is a form too
  EXPECT_EQ(a, v6("2001:db8::198.18.0.2"));
}

TEST(ParseIpv6, Malformed_Refused) {
  Ipv6Addr a{};
  for (const char* s : {"", "2001:db8::1::2", "2001:db8::g", "[2001:db8::1]", "2001:db8::1%eth0", "2001:db8:1:2:3:4:5:6:7",
                        " 2001:db8::1", "2001:db8::1 ", "2001:db8::1/64", "2001:db8:::1", "12001:db8::1", "198.18.0.2"}) {
    EXPECT_FALSE(parse_ipv6(s, a)) << "'" << s << "'";
  }
  EXPECT_FALSE(parse_ipv6(std::string("2001:db8::1\0junk", 16), a));  // inet_pton would stop at the NUL
}

TEST(ParseIpv6, WithPrefix_ZeroTo128_DefaultIs64) {
  Ipv6Addr a{};
  std::uint8_t prefix = 0;
  ASSERT_TRUE(parse_ipv6_with_prefix("2001:db8::2/64", a, prefix));
  EXPECT_EQ(a, v6("2001:db8::2"));
  EXPECT_EQ(prefix, 64);
  ASSERT_TRUE(parse_ipv6_with_prefix("2001:db8::2/0", a, prefix));
  EXPECT_EQ(prefix, 0);
  ASSERT_TRUE(parse_ipv6_with_prefix("2001:db8::2/128", a, prefix));
  EXPECT_EQ(prefix, 128);
  prefix = 0;
  ASSERT_TRUE(parse_ipv6_with_prefix("2001:db8::2", a, prefix));
  EXPECT_EQ(prefix, 64);
  for (const char* s : {"2001:db8::2/129", "2001:db8::2/1000", "2001:db8::2/", "2001:db8::2/-1", "2001:db8::2/64x",
                        "2001:db8::2/6 4", "2001:db8::zz/64", "/64"}) {
    EXPECT_FALSE(parse_ipv6_with_prefix(s, a, prefix)) << s;
  }
}

TEST(ParseIpv6, Endpoint_NeedsBracketsAndAPort) {
  Ipv6Addr a{};
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_ipv6_endpoint("[2001:db8::1]:80", a, port));
  EXPECT_EQ(a, v6("2001:db8::1"));
  EXPECT_EQ(port, 80);
  ASSERT_TRUE(parse_ipv6_endpoint("[2001:db8::1]:65535", a, port));
  EXPECT_EQ(port, 65535);
  for (const char* s : {"2001:db8::1:80", "[2001:db8::1]80", "[2001:db8::1]:", "[2001:db8::1]:0", "[2001:db8::1]:65536",
                        "[2001:db8::1", "2001:db8::1]:80", "[]:80", "[198.18.0.2]:80", "[2001:db8::1]:8o"}) {
    EXPECT_FALSE(parse_ipv6_endpoint(s, a, port)) << s;
  }
}

TEST(ParseIpv6, Range_CountsTheLast32Bits) {
  Ipv6Addr first{};
  std::uint32_t count = 0;
  ASSERT_EQ(parse_ipv6_range("2001:db8::10-2001:db8::50", first, count), Ipv6RangeError::kOk);
  EXPECT_EQ(first, v6("2001:db8::10"));
  EXPECT_EQ(count, 0x41u);
  ASSERT_EQ(parse_ipv6_range("2001:db8::7", first, count), Ipv6RangeError::kOk);
  EXPECT_EQ(first, v6("2001:db8::7"));
  EXPECT_EQ(count, 1u);
  // Across a 16-bit group: the last 32 bits are one number.
  ASSERT_EQ(parse_ipv6_range("2001:db8::1:ffff-2001:db8::2:1", first, count), Ipv6RangeError::kOk);
  EXPECT_EQ(count, 3u);
  ASSERT_EQ(parse_ipv6_range("2001:db8::-2001:db8::ffff:fffe", first, count), Ipv6RangeError::kOk);
  EXPECT_EQ(count, 0xffffffffu);
}

TEST(ParseIpv6, Range_EachWayToGetItWrong) {
  Ipv6Addr first{};
  std::uint32_t count = 0;
  EXPECT_EQ(parse_ipv6_range("2001:db8::50-2001:db8::10", first, count), Ipv6RangeError::kReversed);
  EXPECT_EQ(parse_ipv6_range("2001:db8::1:0:10-2001:db8::2:0:10", first, count), Ipv6RangeError::kTooWide);
  EXPECT_EQ(parse_ipv6_range("2001:db8::-2001:db8::ffff:ffff", first, count), Ipv6RangeError::kTooWide);  // 2^32
  for (const char* s : {"", "2001:db8::1-", "-2001:db8::1", "2001:db8::1-2001:db8::2-2001:db8::3", "2001:db8::1-198.18.0.2",
                        "[2001:db8::1]", "2001:db8::1/64"}) {
    EXPECT_EQ(parse_ipv6_range(s, first, count), Ipv6RangeError::kMalformed) << s;
  }
}

TEST(ParseIpv6, InRange) {
  const Ipv6Addr first = v6("2001:db8::fffe");
  EXPECT_TRUE(ipv6_in_range(v6("2001:db8::fffe"), first, 4));
  EXPECT_TRUE(ipv6_in_range(v6("2001:db8::1:1"), first, 4));
  EXPECT_FALSE(ipv6_in_range(v6("2001:db8::1:2"), first, 4));
  EXPECT_FALSE(ipv6_in_range(v6("2001:db8::fffd"), first, 4));
  EXPECT_FALSE(ipv6_in_range(v6("2001:db8:1::fffe"), first, 4));  // the same last 32 bits, another prefix
}

TEST(ParseIpv6, Format_IsTheShortForm) {
  EXPECT_EQ(format_ipv6(v6("2001:0db8:0000:0000:0000:0000:0000:0002")), "2001:db8::2");
  EXPECT_EQ(format_ipv6(v6("2001:db8:0:1:0:0:0:1")), "2001:db8:0:1::1");
}

TEST(LocalAddresses, OneOfEachFamily) {
  LocalAddresses a;
  ASSERT_EQ(parse_local_addresses({"198.18.0.2/24", "2001:db8::2/64"}, "--ip", a), "");
  EXPECT_EQ(a.ip, (198u << 24) | (18u << 16) | 2u);
  EXPECT_EQ(a.prefix, 24);
  EXPECT_EQ(a.ip6, v6("2001:db8::2"));
  EXPECT_EQ(a.prefix6, 64);
  ASSERT_EQ(parse_local_addresses({"2001:db8::3/120"}, "--ip", a), "");
  EXPECT_FALSE(a.has_ipv4());
  EXPECT_EQ(a.ip, 0u);
  EXPECT_TRUE(a.has_ipv6());
  EXPECT_EQ(a.prefix6, 120);
  ASSERT_EQ(parse_local_addresses({"198.18.0.3/16"}, "--ip", a), "");
  EXPECT_TRUE(a.has_ipv4());
  EXPECT_FALSE(a.has_ipv6());
}

TEST(LocalAddresses, Refusals_NameTheValueAndTheFix) {
  LocalAddresses a;
  std::string err = parse_local_addresses({"198.18.0.2/24", "198.18.0.3/24"}, "--ip", a);
  EXPECT_TRUE(contains(err, "--ip given two IPv4 addresses (198.18.0.2/24 and 198.18.0.3/24)")) << err;
  EXPECT_TRUE(contains(err, "one of each family")) << err;
  err = parse_local_addresses({"2001:db8::2/64", "2001:db8::3/64"}, "--server-ip", a);
  EXPECT_TRUE(contains(err, "--server-ip given two IPv6 addresses")) << err;
  err = parse_local_addresses({"2001:db8::2/129"}, "--ip", a);
  EXPECT_TRUE(contains(err, "--ip '2001:db8::2/129': an IPv6 prefix length is 0 to 128")) << err;
  err = parse_local_addresses({"198.18.0.2/33"}, "--ip", a);
  EXPECT_TRUE(contains(err, "--ip '198.18.0.2/33': an IPv4 prefix length is 1 to 32")) << err;
  err = parse_local_addresses({"2001:db8::2/64/3"}, "--ip", a);
  EXPECT_TRUE(contains(err, "is not an address with a prefix")) << err;
  err = parse_local_addresses({"2001:db8::zz/64"}, "--client-ip", a);
  EXPECT_EQ(err, "--client-ip '2001:db8::zz/64' is not an address with a prefix (expected A.B.C.D/LEN or 2001:db8::2/64)");
  err = parse_local_addresses({"198.18.0.300/24"}, "--ip", a);
  EXPECT_TRUE(contains(err, "--ip '198.18.0.300/24' is not an address with a prefix")) << err;
  err = parse_local_addresses({"::/64"}, "--ip", a);
  EXPECT_TRUE(contains(err, "the unspecified address")) << err;
  err = parse_local_addresses({"0.0.0.0/24"}, "--ip", a);
  EXPECT_TRUE(contains(err, "0.0.0.0")) << err;
  EXPECT_NE(parse_local_addresses({}, "--ip", a), "");
}

TEST(Gateways, OneOfEachFamily) {
  std::uint32_t gw = 0;
  Ipv6Addr gw6{};
  ASSERT_EQ(parse_gateways({"2001:db8::1", "198.18.0.1"}, gw, gw6), "");
  EXPECT_EQ(gw, (198u << 24) | (18u << 16) | 1u);
  EXPECT_EQ(gw6, v6("2001:db8::1"));
  EXPECT_TRUE(contains(parse_gateways({"2001:db8::1", "2001:db8::2"}, gw, gw6), "--gateway given twice for IPv6"));
  EXPECT_TRUE(contains(parse_gateways({"198.18.0.1", "198.18.0.9"}, gw, gw6), "--gateway given twice for IPv4"));
  EXPECT_TRUE(contains(parse_gateways({"2001:db8::1/64"}, gw, gw6), "--gateway '2001:db8::1/64' is not a unicast IPv6"));
  EXPECT_TRUE(contains(parse_gateways({"[2001:db8::1]"}, gw, gw6), "is not a unicast IPv6"));
  EXPECT_TRUE(contains(parse_gateways({"198.18.0"}, gw, gw6), "--gateway '198.18.0' is not an address"));
  EXPECT_TRUE(contains(parse_gateways({"::"}, gw, gw6), "is not a unicast IPv6"));
}

TEST(Destinations, Ipv6_AddressesTimesPorts_InOrder) {
  std::vector<Destination> out;
  std::vector<Destination6> out6;
  ASSERT_EQ(parse_destinations({"[2001:db8::1-2001:db8::2]:80-81", "[2001:db8::9]:8080"}, out, out6), "");
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(out6.size(), 5u);
  const std::vector<std::pair<Ipv6Addr, std::uint16_t>> expected = {{v6("2001:db8::1"), 80},
                                                                     {v6("2001:db8::1"), 81},
                                                                     {v6("2001:db8::2"), 80},
                                                                     {v6("2001:db8::2"), 81},
                                                                     {v6("2001:db8::9"), 8080}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(out6[i].ip, expected[i].first) << i;
    EXPECT_EQ(out6[i].port, expected[i].second) << i;
  }
}

TEST(Destinations, Ipv4_Unchanged) {
  std::vector<Destination> out;
  std::vector<Destination6> out6;
  ASSERT_EQ(parse_destinations({"198.18.0.2-198.18.0.3:80"}, out, out6), "");
  EXPECT_TRUE(out6.empty());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].ip, (198u << 24) | (18u << 16) | 3u);
  EXPECT_EQ(out[1].port, 80);
}

TEST(Destinations, Refusals_NameTheValueAndTheFix) {
  auto error_of = [](std::vector<std::string> values) {
    std::vector<Destination> out;
    std::vector<Destination6> out6;
    return parse_destinations(values, out, out6);
  };
  std::string err = error_of({"2001:db8::1:80"});
  EXPECT_TRUE(contains(err, "--dst '2001:db8::1:80' looks like an IPv6 address without brackets")) << err;
  EXPECT_TRUE(contains(err, "[2001:db8::2]:80")) << err;
  err = error_of({"198.18.0.2:80", "[2001:db8::2]:80"});
  EXPECT_TRUE(contains(err, "'198.18.0.2:80' is IPv4 and '[2001:db8::2]:80' IPv6")) << err;
  EXPECT_TRUE(contains(err, "one family")) << err;
  err = error_of({"[2001:db8::2]:80", "198.18.0.2:80"});
  EXPECT_TRUE(contains(err, "is IPv4 and")) << err;
  err = error_of({"[2001:db8::9-2001:db8::1]:80"});
  EXPECT_TRUE(contains(err, "first address is above the last")) << err;
  err = error_of({"[2001:db8::1-2001:db8:1::1]:80"});
  EXPECT_TRUE(contains(err, "only in the last 32 bits")) << err;
  for (const char* bad : {"[2001:db8::2]", "[2001:db8::2]:", "[2001:db8::2]80", "[2001:db8::2:80", "[2001:db8::zz]:80",
                          "[2001:db8::2]:0", "[2001:db8::2]:90-80"}) {
    err = error_of({bad});
    EXPECT_TRUE(contains(err, std::string("--dst '") + bad + "' is not [FIRST[-LAST]]:PORT[-PORT]")) << err;
  }
  err = error_of({"[::]:80"});
  EXPECT_TRUE(contains(err, "not a unicast address")) << err;
  err = error_of({"[2001:db8::-2001:db8::ffff]:1-2"});
  EXPECT_TRUE(contains(err, "131072 destinations in all")) << err;
}

}  // namespace
}  // namespace synwave::app
