#pragma once
// Frame buffers for tests and the simulator: an arena of fixed-size buffers lent to an engine
// through FrameIo, and every transmitted frame captured as bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "synwave/engine.hpp"
#include "synwave/frame.hpp"

namespace synwave::test {

using Bytes = std::vector<std::uint8_t>;

class TestIo {
 public:
  static constexpr std::uint16_t kBufferSize = 2048;

  explicit TestIo(std::uint32_t buffers = 256) {
    storage_.resize(std::size_t{buffers} * kBufferSize);
    for (std::uint32_t i = 0; i < buffers; ++i) free_.push_back(i);
  }

  FrameIo io() {
    FrameIo io;
    io.ctx = this;
    io.refill = [](void* ctx, Frame* out, std::uint32_t max) -> std::uint32_t {
      auto* self = static_cast<TestIo*>(ctx);
      std::uint32_t n = 0;
      while (n < max && !self->free_.empty() && self->refill_allowed_) {
        out[n++] = self->make_frame(self->free_.back());
        self->free_.pop_back();
      }
      return n;
    };
    io.transmit = [](void* ctx, Frame* frames, std::uint32_t n) -> std::uint32_t {
      auto* self = static_cast<TestIo*>(ctx);
      const std::uint32_t accepted = std::min(n, self->tx_accept_);
      for (std::uint32_t i = 0; i < n; ++i) {
        if (i < accepted) {
          self->sent_.emplace_back(frames[i].data, frames[i].data + frames[i].len);
          self->tx_flags_.push_back(frames[i].flags);
        }
        self->release_buffer(frames[i]);  // sent, or dropped at the full queue
      }
      return accepted;
    };
    io.release = [](void* ctx, Frame* frames, std::uint32_t n) {
      auto* self = static_cast<TestIo*>(ctx);
      for (std::uint32_t i = 0; i < n; ++i) self->release_buffer(frames[i]);
    };
    return io;
  }

  // io() with FrameIo::offer: the device takes up to the tx_accept limit of each offer, and the
  // frames it does not take stay the caller's.
  FrameIo offering_io() {
    FrameIo with_offer = io();
    with_offer.offer = [](void* ctx, Frame* frames, std::uint32_t n) -> std::uint32_t {
      auto* self = static_cast<TestIo*>(ctx);
      const std::uint32_t accepted = std::min(n, self->tx_accept_);
      for (std::uint32_t i = 0; i < accepted; ++i) {
        self->sent_.emplace_back(frames[i].data, frames[i].data + frames[i].len);
        self->tx_flags_.push_back(frames[i].flags);
        self->release_buffer(frames[i]);
      }
      return accepted;
    };
    return with_offer;
  }

  // A received frame in a buffer of the arena, as a driver would hand it over.
  Frame rx_frame(const Bytes& bytes) {
    const std::uint32_t idx = free_.back();
    free_.pop_back();
    Frame f = make_frame(idx);
    std::memcpy(f.data, bytes.data(), bytes.size());
    f.len = static_cast<std::uint16_t>(bytes.size());
    return f;
  }

  // Feed a frame to an engine the way a driver does: free it unless the engine kept it.
  // flags: what the device says of the frame (frame_flags::kRx*).
  bool deliver(Engine& engine, const Bytes& bytes, TimeNs now, std::uint16_t flags = 0) {
    Frame f = rx_frame(bytes);
    f.flags = flags;
    const bool kept = engine.input(f, now);
    if (!kept) release_buffer(f);
    engine.flush();
    return kept;
  }

  // Up to 32 frames sent by `from`, in order, fed as one burst (Engine::input_burst), the way
  // the data plane hands over an rx burst. Returns the engine's kept mask.
  std::uint32_t deliver_burst(Engine& engine, TestIo& from, TimeNs now) {
    Frame frames[32];
    std::uint32_t n = 0;
    while (n < 32 && !from.sent().empty()) frames[n++] = rx_frame(from.pop_sent());
    const std::uint32_t kept = engine.input_burst(frames, n, now);
    for (std::uint32_t i = 0; i < n; ++i) {
      if ((kept & (1u << i)) == 0) release_buffer(frames[i]);
    }
    engine.flush();
    return kept;
  }

  std::deque<Bytes>& sent() { return sent_; }
  // The flags of every frame transmitted so far (what the device is asked to finish), in order.
  const std::vector<std::uint16_t>& tx_flags() const { return tx_flags_; }
  std::uint32_t free_buffers() const { return static_cast<std::uint32_t>(free_.size()); }
  void set_refill_allowed(bool allowed) { refill_allowed_ = allowed; }
  // A transmit queue with room for `frames` per call: the rest are dropped, as a full NIC queue does.
  void set_tx_accept(std::uint32_t frames) { tx_accept_ = frames; }

  Bytes pop_sent() {
    Bytes b = std::move(sent_.front());
    sent_.pop_front();
    return b;
  }

 private:
  Frame make_frame(std::uint32_t idx) {
    Frame f;
    f.handle = reinterpret_cast<void*>(static_cast<std::uintptr_t>(idx));
    f.data = storage_.data() + std::size_t{idx} * kBufferSize;
    f.capacity = kBufferSize;
    return f;
  }
  void release_buffer(const Frame& f) {
    free_.push_back(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(f.handle)));
  }

  std::vector<std::uint8_t> storage_;
  std::vector<std::uint32_t> free_;
  std::deque<Bytes> sent_;
  std::vector<std::uint16_t> tx_flags_;
  bool refill_allowed_ = true;
  std::uint32_t tx_accept_ = ~std::uint32_t{0};
};

}  // namespace synwave::test
