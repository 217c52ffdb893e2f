// Two engines wired back to back through a perfect in-memory link: the whole life of a
// connection for each workload and close policy.
#include <gtest/gtest.h>

#include "support/segments.hpp"
#include "support/test_io.hpp"

namespace synwave::test {
namespace {

const MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uint32_t kClientIp = ip4(198, 18, 0, 1);
constexpr std::uint32_t kServerIp = ip4(198, 18, 0, 2);

EngineConfig base_config(std::uint32_t ip, const MacAddr& mac, std::uint32_t peer_ip, const MacAddr& peer_mac) {
  EngineConfig c;
  c.local_ip = ip;
  c.local_mac = mac;
  c.prefix_len = 24;
  c.neighbors.push_back({peer_ip, peer_mac});
  c.max_connections = 1024;
  return c;
}

struct PolicyCase {
  WorkloadKind kind;
  ClosePolicy client_policy;
  ClosePolicy server_policy;
};

class EnginePairTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(EnginePairTest, OneHundredConnections_AllComplete_NothingLeaks) {
  const PolicyCase pc = GetParam();
  Workload cw;
  cw.kind = pc.kind;
  cw.close = pc.client_policy;
  cw.response_bytes = 5000;
  EngineConfig cc = base_config(kClientIp, kClientMac, kServerIp, kServerMac);
  EngineConfig sc = base_config(kServerIp, kServerMac, kClientIp, kClientMac);
  cc.time_wait = 2 * kSecond;
  sc.time_wait = 2 * kSecond;
  Workload sw = cw;
  sw.close = pc.server_policy;
  cc.workload = cw;
  sc.workload = sw;
  sc.listen_ports = {80};
  TestIo cio, sio;
  Engine client(cc, cio.io(), kSecond);
  Engine server(sc, sio.io(), kSecond);
  TimeNs now = kSecond;
  for (std::uint16_t i = 0; i < 100; ++i) {
    ASSERT_EQ(client.open(kServerIp, 80, static_cast<std::uint16_t>(10000 + i), now).error, OpenError::kOk);
  }
  client.flush();
  for (int round = 0; round < 10000 && now < 20 * kSecond; ++round) {
    while (!cio.sent().empty() || !sio.sent().empty()) {
      while (!cio.sent().empty()) sio.deliver(server, cio.pop_sent(), now);
      while (!sio.sent().empty()) cio.deliver(client, sio.pop_sent(), now);
    }
    now += 10 * kMillisecond;
    client.advance(now);
    server.advance(now);
  }
  EXPECT_EQ(client.counters().conn_completed, 100u);
  EXPECT_EQ(server.counters().conn_completed, 100u);
  EXPECT_EQ(client.counters().conn_failed, 0u);
  EXPECT_EQ(server.counters().conn_failed, 0u);
  EXPECT_EQ(client.gauges().connections, 0u);
  EXPECT_EQ(server.gauges().connections, 0u);
  EXPECT_EQ(client.counters().retransmits, 0u);
  EXPECT_EQ(server.counters().retransmits, 0u);
  if (pc.kind != WorkloadKind::kNone) {
    EXPECT_GE(client.counters().rx_bytes, 100u * 5000u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, EnginePairTest,
    ::testing::Values(PolicyCase{WorkloadKind::kHttp, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kReset, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kHttp, ClosePolicy::kHalfClose, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kRaw, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst},
                      PolicyCase{WorkloadKind::kNone, ClosePolicy::kClientFirst, ClosePolicy::kClientFirst},
                      PolicyCase{WorkloadKind::kNone, ClosePolicy::kServerFirst, ClosePolicy::kServerFirst}));

}  // namespace
}  // namespace synwave::test
