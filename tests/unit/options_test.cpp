// The command line and configuration file turned into the run's plan, for the addressing flags
// that take IPv6 (issue 13): --ip (repeatable, one of each family), --gateway, --neighbor,
// --dst, --src-ip, pair's --client-ip/--server-ip, and the TOML keys that stand for them. Each
// user error is refused with exit code 2 and one line naming it. Addresses from 2001:db8::/32
// and 198.18.0.0/15 only.
#include "options.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "option_values.hpp"

namespace synwave::app {
namespace {

Ipv6Addr v6(const char* text) {
  Ipv6Addr a{};
  EXPECT_TRUE(parse_ipv6(text, a)) << text;
  return a;
}

constexpr std::uint32_t ip4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

ParseResult parse(const std::vector<std::string>& args) {
  ParseResult r = parse_command_line(args);
  EXPECT_FALSE(r.done) << r.message;
  return r;
}

// The one line a refused command line prints (exit code 2 checked).
std::string refusal(const std::vector<std::string>& args) {
  const ParseResult r = parse_command_line(args);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.exit_code, 2) << r.message;
  EXPECT_EQ(r.message.find('\n'), std::string::npos) << r.message;
  return r.message;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(Ipv6Options, Server_BothFamilies_ListensOnBoth) {
  const ParseResult r = parse({"server", "--ip", "198.18.0.2/24", "--ip", "2001:db8::2/64", "--listen", "80"});
  const EngineConfig& e = r.plan.server;
  EXPECT_EQ(e.local_ip, ip4(198, 18, 0, 2));
  EXPECT_EQ(e.prefix_len, 24);
  EXPECT_EQ(e.local_ip6, v6("2001:db8::2"));
  EXPECT_EQ(e.prefix_len6, 64);
  EXPECT_EQ(e.listen_ports, std::vector<std::uint16_t>{80});
}

TEST(Ipv6Options, Server_Ipv6Only_LeavesNoIpv4Address) {
  const ParseResult r = parse({"server", "--ip", "2001:db8::2/112", "--listen", "80", "--gateway", "2001:db8::1"});
  EXPECT_EQ(r.plan.server.local_ip, 0u);
  EXPECT_EQ(r.plan.server.local_ip6, v6("2001:db8::2"));
  EXPECT_EQ(r.plan.server.prefix_len6, 112);
  EXPECT_EQ(r.plan.server.gateway, 0u);
  EXPECT_EQ(r.plan.server.gateway6, v6("2001:db8::1"));
}

TEST(Ipv6Options, Ipv4Only_LeavesIpv6Off) {
  const ParseResult r = parse({"client", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--gateway", "198.18.0.1"});
  EXPECT_TRUE(is_unspecified(r.plan.client.local_ip6));
  EXPECT_TRUE(is_unspecified(r.plan.client.gateway6));
  EXPECT_EQ(r.plan.client.gateway, ip4(198, 18, 0, 1));
  EXPECT_FALSE(r.plan.generator.ipv6());
  ASSERT_EQ(r.plan.generator.destinations.size(), 1u);
  EXPECT_EQ(r.plan.generator.destinations[0].ip, ip4(198, 18, 0, 2));
  EXPECT_EQ(r.plan.generator.src_ip_first, ip4(198, 18, 0, 3));
  EXPECT_EQ(r.plan.generator.src_ip_count, 1u);
}

TEST(Ipv6Options, Client_Ipv6Destination_FromItsIpv6Address) {
  const ParseResult r = parse({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ports", "2000-2999"});
  const GeneratorConfig& g = r.plan.generator;
  EXPECT_TRUE(g.ipv6());
  EXPECT_TRUE(g.destinations.empty());
  ASSERT_EQ(g.destinations6.size(), 1u);
  EXPECT_EQ(g.destinations6[0].ip, v6("2001:db8::2"));
  EXPECT_EQ(g.destinations6[0].port, 80);
  EXPECT_EQ(g.src_ip6_first, v6("2001:db8::3"));
  EXPECT_EQ(g.src_ip_count, 1u);
  EXPECT_EQ(r.plan.client.local_ip, 0u);
  EXPECT_EQ(r.plan.client.local_ip6, v6("2001:db8::3"));
  EXPECT_EQ(r.plan.client.source_ip6_count, 0u);  // no range beyond --ip
  EXPECT_EQ(r.plan.tuple_space, 1000u);
}

TEST(Ipv6Options, Client_Ipv6SourceRange_TheEngineOwnsIt) {
  const ParseResult r = parse({"client", "--ip", "198.18.0.3/24", "--ip", "2001:db8::3/64", "--dst",
                               "[2001:db8::20-2001:db8::21]:80-81", "--dst", "[2001:db8::9]:80", "--src-ip",
                               "2001:db8::100-2001:db8::1ff", "--src-ports", "1024-1033"});
  const GeneratorConfig& g = r.plan.generator;
  EXPECT_EQ(g.destinations6.size(), 5u);
  EXPECT_EQ(g.src_ip6_first, v6("2001:db8::100"));
  EXPECT_EQ(g.src_ip_count, 256u);
  EXPECT_EQ(r.plan.client.source_ip6_first, v6("2001:db8::100"));
  EXPECT_EQ(r.plan.client.source_ip6_count, 256u);
  EXPECT_EQ(r.plan.client.source_ip_count, 0u);  // the IPv4 side keeps only --ip
  EXPECT_EQ(r.plan.client.local_ip, ip4(198, 18, 0, 3));
  EXPECT_EQ(r.plan.tuple_space, 256u * 10u * 5u);
}

TEST(Ipv6Options, Neighbors_OfBothFamilies) {
  const ParseResult r = parse({"server", "--ip", "2001:db8::2/64", "--ip", "198.18.0.2/24", "--listen", "80", "--neighbor",
                               "2001:db8::1,02:00:00:00:00:01", "--neighbor", "198.18.0.1,02:00:00:00:00:02", "--neighbor",
                               "[2001:db8::9],02:00:00:00:00:09"});
  const EngineConfig& e = r.plan.server;
  ASSERT_EQ(e.neighbors.size(), 1u);
  EXPECT_EQ(e.neighbors[0].ip, ip4(198, 18, 0, 1));
  ASSERT_EQ(e.neighbors6.size(), 2u);
  EXPECT_EQ(e.neighbors6[0].ip, v6("2001:db8::1"));
  EXPECT_EQ(e.neighbors6[0].mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x01}}));
  EXPECT_EQ(e.neighbors6[1].ip, v6("2001:db8::9"));
}

TEST(Ipv6Options, Pair_EachSideItsOwnIpv6Address_GatewayTheClients) {
  const ParseResult r = parse({"pair", "--client-ip", "2001:db8:1::2/64", "--server-ip", "2001:db8:2::2/64", "--server-ip",
                               "198.18.2.2/24", "--listen", "80", "--dst", "[2001:db8:2::2]:80", "--gateway",
                               "2001:db8:1::1"});
  EXPECT_EQ(r.plan.client.local_ip6, v6("2001:db8:1::2"));
  EXPECT_EQ(r.plan.client.local_ip, 0u);
  EXPECT_EQ(r.plan.client.gateway6, v6("2001:db8:1::1"));
  EXPECT_EQ(r.plan.server.local_ip6, v6("2001:db8:2::2"));
  EXPECT_EQ(r.plan.server.local_ip, ip4(198, 18, 2, 2));
  EXPECT_TRUE(is_unspecified(r.plan.server.gateway6));
  EXPECT_EQ(r.plan.generator.src_ip6_first, v6("2001:db8:1::2"));
}

TEST(Ipv6Options, ConfigFile_KeysTakeTheSameValues) {
  const auto path = std::filesystem::temp_directory_path() / ("synwave-ipv6-options-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(path);
    f << "ip = [\"198.18.0.3/24\", \"2001:db8::3/64\"]\n"
         "gateway = [\"2001:db8::1\"]\n"
         "neighbor = [\"2001:db8::1,02:00:00:00:00:01\"]\n"
         "dst = [\"[2001:db8:9::2]:80\"]\n"
         "src_ip = \"2001:db8::10-2001:db8::13\"\n";
  }
  const ParseResult r = parse({"client", "--config", path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(r.plan.client.local_ip, ip4(198, 18, 0, 3));
  EXPECT_EQ(r.plan.client.local_ip6, v6("2001:db8::3"));
  EXPECT_EQ(r.plan.client.gateway6, v6("2001:db8::1"));
  ASSERT_EQ(r.plan.client.neighbors6.size(), 1u);
  ASSERT_EQ(r.plan.generator.destinations6.size(), 1u);
  EXPECT_EQ(r.plan.generator.destinations6[0].ip, v6("2001:db8:9::2"));
  EXPECT_EQ(r.plan.client.source_ip6_first, v6("2001:db8::10"));
  EXPECT_EQ(r.plan.client.source_ip6_count, 4u);
}

TEST(Ipv6Options, ConfigFile_OneAddressAsAString) {
  const auto path = std::filesystem::temp_directory_path() / ("synwave-ipv6-server-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(path);
    f << "ip = \"2001:db8::2/64\"\nlisten = [80]\n";
  }
  const ParseResult r = parse({"server", "--config", path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(r.plan.server.local_ip, 0u);
  EXPECT_EQ(r.plan.server.local_ip6, v6("2001:db8::2"));
}

TEST(Ipv6Options, Report_ConfigListsEveryAddress) {
  const ParseResult r = parse({"server", "--ip", "198.18.0.2/24", "--ip", "2001:db8::2/64", "--listen", "80"});
  EXPECT_EQ(join_values(r.plan.options.ip), "198.18.0.2/24, 2001:db8::2/64");
}

TEST(Ipv6Options, Refusals) {
  EXPECT_TRUE(contains(refusal({"server", "--ip", "198.18.0.2/24", "--ip", "198.18.0.3/24", "--listen", "80"}),
                       "--ip given two IPv4 addresses"));
  EXPECT_TRUE(contains(refusal({"server", "--ip", "2001:db8::2/129", "--listen", "80"}),
                       "an IPv6 prefix length is 0 to 128"));
  EXPECT_TRUE(contains(refusal({"client", "--ip", "2001:db8::3/64", "--dst", "2001:db8::2:80"}),
                       "looks like an IPv6 address without brackets"));
  EXPECT_TRUE(contains(refusal({"client", "--ip", "2001:db8::3/64", "--ip", "198.18.0.3/24", "--dst", "[2001:db8::2]:80",
                                "--dst", "198.18.0.2:80"}),
                       "one family"));
  std::string err = refusal({"client", "--ip", "198.18.0.3/24", "--dst", "[2001:db8::2]:80"});
  EXPECT_TRUE(contains(err, "--dst [2001:db8::2]:80 is IPv6, but --ip gives no IPv6 address")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "198.18.0.2:80"});
  EXPECT_TRUE(contains(err, "--dst 198.18.0.2:80 is IPv4, but --ip gives no IPv4 address")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "198.18.0.4-198.18.0.6"});
  EXPECT_TRUE(contains(err, "--src-ip '198.18.0.4-198.18.0.6' is IPv4 and --dst IPv6")) << err;
  err = refusal({"client", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--src-ip", "2001:db8::4-2001:db8::6"});
  EXPECT_TRUE(contains(err, "is IPv6 and --dst IPv4")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::5]:80", "--src-ip", "2001:db8::4-2001:db8::6"});
  EXPECT_TRUE(contains(err, "--dst 2001:db8::5 is one of the client's own addresses")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::3]:80"});
  EXPECT_TRUE(contains(err, "--dst 2001:db8::3 is one of the client's own addresses")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8::6-2001:db8::4"});
  EXPECT_TRUE(contains(err, "--src-ip '2001:db8::6-2001:db8::4': the first address is above the last")) << err;
  err = refusal({"client", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8::4-2001:db8:1::6"});
  EXPECT_TRUE(contains(err, "only in the last 32 bits")) << err;
  err = refusal({"server", "--ip", "198.18.0.2/24", "--listen", "80", "--gateway", "2001:db8::1"});
  EXPECT_TRUE(contains(err, "--gateway 2001:db8::1 is IPv6, but --ip gives no IPv6 address")) << err;
  err = refusal({"server", "--ip", "2001:db8::2/64", "--listen", "80", "--gateway", "198.18.0.1"});
  EXPECT_TRUE(contains(err, "--gateway 198.18.0.1 is IPv4, but --ip gives no IPv4 address")) << err;
  err = refusal({"server", "--ip", "2001:db8::2/64", "--listen", "80", "--gateway", "2001:db8::1", "--gateway", "2001:db8::9"});
  EXPECT_TRUE(contains(err, "--gateway given twice for IPv6")) << err;
  err = refusal({"server", "--ip", "2001:db8::2/64", "--listen", "80", "--neighbor", "2001:db8::1,02:00:00:00:00"});
  EXPECT_TRUE(contains(err, "--neighbor '2001:db8::1,02:00:00:00:00' is not IP,MAC")) << err;
  err = refusal({"pair", "--client-ip", "2001:db8::2/64", "--server-ip", "2001:db8::2/64", "--listen", "80", "--dst",
                 "[2001:db8::9]:80"});
  EXPECT_TRUE(contains(err, "--client-ip and --server-ip are both 2001:db8::2")) << err;
  err = refusal({"pair", "--client-ip", "2001:db8::2/64", "--server-ip", "2001:db8::9/64", "--listen", "80", "--dst",
                 "[2001:db8::7]:80", "--src-ip", "2001:db8::8-2001:db8::a"});
  EXPECT_TRUE(contains(err, "--server-ip 2001:db8::9 is inside the client's --src-ip")) << err;
}

// A flood is of one family, its --ip's: every other address must be of it too, and a mix is
// refused with the family each side has.
TEST(Ipv6Options, Flood_OneFamily_MixesRefused) {
  const std::vector<std::string> rest = {"--pps", "100"};
  auto flood = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "flood");
    args.insert(args.end(), rest.begin(), rest.end());
    return refusal(args);
  };
  std::string err = flood({"--ip", "2001:db8::3/64", "--dst", "198.18.0.2:80", "--src-ip", "2001:db8:1::1-2001:db8:1::9"});
  EXPECT_TRUE(contains(err, "--dst '198.18.0.2:80' is IPv4 and --ip '2001:db8::3/64' IPv6: a flood is of one family")) << err;
  err = flood({"--ip", "198.18.0.3/24", "--dst", "[2001:db8::2]:80", "--src-ip", "198.19.0.1-198.19.0.9"});
  EXPECT_TRUE(contains(err, "--dst '[2001:db8::2]:80' is IPv6 and --ip '198.18.0.3/24' IPv4")) << err;
  err = flood({"--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "198.19.0.1-198.19.0.9"});
  EXPECT_TRUE(contains(err, "--src-ip '198.19.0.1-198.19.0.9' is IPv4 and --dst IPv6")) << err;
  err = flood({"--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--src-ip", "2001:db8:1::1-2001:db8:1::9"});
  EXPECT_TRUE(contains(err, "--src-ip '2001:db8:1::1-2001:db8:1::9' is IPv6 and --dst IPv4")) << err;
  err = flood({"--ip", "198.18.0.3/24", "--ip", "198.18.0.4/24", "--dst", "198.18.0.2:80", "--src-ip", "198.19.0.1-198.19.0.9"});
  EXPECT_TRUE(contains(err, "flood takes one --ip")) << err;
  err = flood({"--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--src-ip", "198.19.0.1-198.19.0.9", "--gateway",
               "2001:db8::1"});
  EXPECT_TRUE(contains(err, "--gateway 2001:db8::1 is IPv6 and --dst IPv4")) << err;
  err = flood({"--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8:1::1-2001:db8:1::9",
               "--gateway", "198.18.0.1"});
  EXPECT_TRUE(contains(err, "--gateway 198.18.0.1 is IPv4 and --dst IPv6")) << err;
  err = flood({"--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8:1::1-2001:db8:1::9",
               "--probe-rate", "10", "--probe-src", "198.18.0.4"});
  EXPECT_TRUE(contains(err, "--probe-src '198.18.0.4' is IPv4 and --dst IPv6")) << err;
  const ParseResult ok = parse({"flood", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--src-ip",
                                "198.19.0.1-198.19.0.9", "--pps", "100"});
  EXPECT_EQ(ok.plan.flood.local_ip, ip4(198, 18, 0, 3));
  EXPECT_FALSE(ok.plan.flood.ipv6);
}

TEST(Ipv6Options, Flood_Ipv6_PlansTheTuplesTheNextHopAndTheProbes) {
  const ParseResult r = parse({"flood", "--ip", "2001:db8::3/64", "--dst", "[2001:db8::2]:8080", "--src-ip",
                               "2001:db8:1::1-2001:db8:1::ffff", "--src-ports", "2000-2999", "--pps", "1000",
                               "--probe-rate", "50", "--probe-src", "2001:db8::4"});
  const FloodConfig& f = r.plan.flood;
  EXPECT_TRUE(f.ipv6);
  EXPECT_EQ(f.local_ip6, v6("2001:db8::3"));
  EXPECT_EQ(f.dst_ip6, v6("2001:db8::2"));
  EXPECT_EQ(f.dst_port, 8080);
  EXPECT_EQ(f.next_hop_ip6, v6("2001:db8::2"));  // on-link: the target itself
  EXPECT_TRUE(f.next_hop_mac.is_zero());         // learnt by Neighbor Discovery
  EXPECT_EQ(f.src_ip6_first, v6("2001:db8:1::1"));
  EXPECT_EQ(f.src_ip6_last, v6("2001:db8:1::ffff"));
  EXPECT_EQ(f.src_port_first, 2000);
  EXPECT_EQ(f.src_port_last, 2999);
  EXPECT_EQ(f.local_ip, 0u);
  EXPECT_EQ(f.dst_ip, 0u);
  // The probes: an IPv6-only engine from --probe-src to the target.
  EXPECT_EQ(r.plan.client.local_ip, 0u);
  EXPECT_EQ(r.plan.client.local_ip6, v6("2001:db8::4"));
  EXPECT_EQ(r.plan.client.prefix_len6, 64);
  ASSERT_EQ(r.plan.generator.destinations6.size(), 1u);
  EXPECT_EQ(r.plan.generator.destinations6[0].ip, v6("2001:db8::2"));
  EXPECT_EQ(r.plan.generator.destinations6[0].port, 8080);
  EXPECT_TRUE(r.plan.generator.destinations.empty());
  EXPECT_EQ(r.plan.generator.src_ip6_first, v6("2001:db8::4"));
  EXPECT_EQ(r.plan.generator.rate, 50u);

  // Off-link through the gateway, whose MAC --neighbor gives.
  const ParseResult g = parse({"flood", "--ip", "2001:db8::3/64", "--dst", "[2001:db8:9::2]:80", "--src-ip",
                               "2001:db8:1::1-2001:db8:1::ffff", "--pps", "1000", "--gateway", "2001:db8::1",
                               "--neighbor", "2001:db8::1,02:00:00:00:00:01"});
  EXPECT_EQ(g.plan.flood.next_hop_ip6, v6("2001:db8::1"));
  EXPECT_EQ(g.plan.flood.next_hop_mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x01}}));
}

TEST(Ipv6Options, Flood_Ipv6_Refusals) {
  const std::vector<std::string> base = {"flood", "--ip", "2001:db8::3/64", "--pps", "100"};
  auto flood = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    return refusal(args);
  };
  const std::string spoofed = "2001:db8:1::1-2001:db8:1::ffff";
  std::string err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8:1::9-2001:db8:1::1"});
  EXPECT_TRUE(contains(err, "--src-ip '2001:db8:1::9-2001:db8:1::1': the first address is above the last")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8:1::1-2001:db8:2::1"});
  EXPECT_TRUE(contains(err, "only in the last 32 bits")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8:1::x"});
  EXPECT_TRUE(contains(err, "--src-ip '2001:db8:1::x' is not an address range")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", "2001:db8::1-2001:db8::9"});
  EXPECT_TRUE(contains(err, "holds the target's own address 2001:db8::2")) << err;
  err = flood({"--dst", "[2001:db8::3]:80", "--src-ip", spoofed});
  EXPECT_TRUE(contains(err, "is our own --ip")) << err;
  err = flood({"--dst", "[2001:db8:9::2]:80", "--src-ip", spoofed});
  EXPECT_TRUE(contains(err, "is outside --ip 2001:db8::3/64's subnet and no --gateway is given")) << err;
  err = flood({"--dst", "[2001:db8::2]", "--src-ip", spoofed});
  EXPECT_TRUE(contains(err, "is not [IPV6]:PORT with a port in 1-65535")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", spoofed, "--probe-rate", "10", "--probe-src", "2001:db8:1::7"});
  EXPECT_TRUE(contains(err, "--probe-src 2001:db8:1::7 is inside the spoofed range")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", spoofed, "--probe-rate", "10", "--probe-src", "2001:db8:5::7"});
  EXPECT_TRUE(contains(err, "--probe-src 2001:db8:5::7 is outside --ip 2001:db8::3/64's subnet")) << err;
  err = flood({"--dst", "[2001:db8::2]:80", "--src-ip", spoofed, "--probe-rate", "10", "--probe-src", "2001:db8::2"});
  EXPECT_TRUE(contains(err, "is the target's address")) << err;
}

// --idle-pause (worker.hpp, Worker::idle_pause_cycles): off unless asked for, in microseconds from
// the command line or the configuration file, at most a millisecond.
TEST(IdlePause, OffByDefault_MicrosecondsFromEitherSource_AboveAMillisecondRefused) {
  const std::vector<std::string> server{"server", "--ip", "198.18.0.2/24", "--listen", "80"};
  EXPECT_EQ(parse(server).plan.options.idle_pause_us, 0.0);
  auto with = server;
  with.insert(with.end(), {"--idle-pause", "2.5"});
  EXPECT_EQ(parse(with).plan.options.idle_pause_us, 2.5);
  EXPECT_EQ(parse({"client", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--idle-pause", "1"}).plan.options.idle_pause_us,
            1.0);
  const auto path = std::filesystem::temp_directory_path() / ("synwave-idle-pause-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(path);
    f << "idle_pause = 4\n";
  }
  auto from_file = server;
  from_file.insert(from_file.end(), {"--config", path.string()});
  const ParseResult r = parse(from_file);
  std::filesystem::remove(path);
  EXPECT_EQ(r.plan.options.idle_pause_us, 4.0);
  auto too_long = server;
  too_long.insert(too_long.end(), {"--idle-pause", "5000"});
  EXPECT_TRUE(contains(refusal(too_long), "--idle-pause"));
}

TEST(RetransmissionTimeout, Rfc6298AndLinuxByDefault_SetInMilliseconds_FloorAboveInitialRefused) {
  const std::vector<std::string> server{"server", "--ip", "198.18.0.2/24", "--listen", "80"};
  const RunPlan defaults = parse(server).plan;
  EXPECT_EQ(defaults.server.rto_initial, 1 * kSecond);
  EXPECT_EQ(defaults.server.rto_min, 200 * kMillisecond);
  auto with = server;
  with.insert(with.end(), {"--rto-initial", "100", "--rto-min", "2.5"});
  const RunPlan set = parse(with).plan;
  EXPECT_EQ(set.server.rto_initial, 100 * kMillisecond);
  EXPECT_EQ(set.server.rto_min, 2500 * kMicrosecond);
  const RunPlan client =
      parse({"client", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--rto-initial", "50", "--rto-min", "50"}).plan;
  EXPECT_EQ(client.client.rto_initial, 50 * kMillisecond);
  EXPECT_EQ(client.client.rto_min, 50 * kMillisecond);
  auto inverted = server;
  inverted.insert(inverted.end(), {"--rto-min", "300"});  // under the default --rto-initial
  EXPECT_EQ(parse(inverted).plan.server.rto_min, 300 * kMillisecond);
  inverted.insert(inverted.end(), {"--rto-initial", "250"});
  const std::string why = refusal(inverted);
  EXPECT_TRUE(contains(why, "--rto-min 300 ms is above --rto-initial 250 ms")) << why;
  auto zero = server;
  zero.insert(zero.end(), {"--rto-min", "0"});
  EXPECT_TRUE(contains(refusal(zero), "--rto-min"));
}

TEST(TcpOptions, AllOfferedByDefault_EachTurnedOffByItsFlagOrKey_NotAFloodsOption) {
  const std::vector<std::string> client{"client", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80"};
  const RunPlan defaults = parse(client).plan;
  EXPECT_TRUE(defaults.client.timestamps);
  EXPECT_TRUE(defaults.client.sack_permitted);
  EXPECT_TRUE(defaults.client.window_scaling);
  auto without = client;
  without.insert(without.end(), {"--no-timestamps", "--no-sack"});
  const RunPlan set = parse(without).plan;
  EXPECT_FALSE(set.client.timestamps);
  EXPECT_FALSE(set.client.sack_permitted);
  EXPECT_TRUE(set.client.window_scaling);
  const RunPlan loopback = parse({"loopback", "--no-window-scale"}).plan;
  EXPECT_FALSE(loopback.client.window_scaling);
  EXPECT_FALSE(loopback.server.window_scaling);
  EXPECT_TRUE(loopback.server.timestamps);
  const auto path = std::filesystem::temp_directory_path() / ("synwave-tcp-options-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(path);
    f << "no_timestamps = true\nno_sack = false\n";
  }
  const ParseResult r = parse({"server", "--ip", "198.18.0.2/24", "--listen", "80", "--config", path.string()});
  std::filesystem::remove(path);
  EXPECT_FALSE(r.plan.server.timestamps);
  EXPECT_TRUE(r.plan.server.sack_permitted);
  EXPECT_TRUE(contains(refusal({"flood", "--ip", "198.18.0.3/24", "--dst", "198.18.0.2:80", "--pps", "1000",
                                "--no-timestamps"}),
                       "--no-timestamps"));
}

}  // namespace
}  // namespace synwave::app
