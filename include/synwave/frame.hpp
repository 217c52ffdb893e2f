#pragma once
// A frame descriptor: the only packet type the core sees. It fits a DPDK mbuf with no copy
// (handle = the mbuf, data = its first data byte) and a test buffer equally; the core never
// frees or allocates one itself, it only fills what the caller lends it.
#include <cstdint>

namespace synwave {

namespace frame_flags {
// Receive side: what the NIC already checked.
inline constexpr std::uint16_t kRxIpChecksumGood = 1u << 0;
inline constexpr std::uint16_t kRxL4ChecksumGood = 1u << 1;
inline constexpr std::uint16_t kRxRssHash = 1u << 2;   // rss_hash is valid
// Transmit side: what the NIC must complete (the core left pseudo-header sums in place).
inline constexpr std::uint16_t kTxIpChecksum = 1u << 8;
inline constexpr std::uint16_t kTxTcpChecksum = 1u << 9;
inline constexpr std::uint16_t kTxIpv6 = 1u << 10;  // with kTxTcpChecksum: the IP header is IPv6
}  // namespace frame_flags

struct Frame {
  void* handle = nullptr;        // owner's token (mbuf*, test buffer)
  std::uint8_t* data = nullptr;  // first byte of the Ethernet header
  std::uint16_t len = 0;         // bytes of frame
  std::uint16_t capacity = 0;    // writable bytes from data
  std::uint16_t flags = 0;
  std::uint32_t rss_hash = 0;
};

// How the engine obtains and hands back frames without a virtual call per packet: it keeps a
// small stock of empty frames and a small batch of frames to send, and crosses into the caller
// only to refill the stock or flush the batch (once per burst, through a plain function pointer).
struct FrameIo {
  // Fill out[0..max) with empty frames; return how many. 0 means none are available.
  std::uint32_t (*refill)(void* ctx, Frame* out, std::uint32_t max) = nullptr;
  // Take ownership of frames[0..n) for transmission. Returns how many the device accepted, a
  // prefix of them; the rest were dropped (and their buffers freed) at a full transmit queue.
  std::uint32_t (*transmit)(void* ctx, Frame* frames, std::uint32_t n) = nullptr;
  // Take back unused empty frames (when the engine is destroyed).
  void (*release)(void* ctx, Frame* frames, std::uint32_t n) = nullptr;
  void* ctx = nullptr;
  // One attempt to send frames[0..n): returns how many the device accepted, a prefix; the rest
  // stay the caller's, to offer again. A generator that offers more than the link takes keeps
  // what it built instead of building it again. Optional: without it, transmit is used.
  std::uint32_t (*offer)(void* ctx, Frame* frames, std::uint32_t n) = nullptr;
};

}  // namespace synwave
