// SPDX-License-Identifier: MIT
// PublishQueue: written frames waiting for the uWS fan-out (native/napi/fanout.cc), which sends
// on the JS thread. The relay thread pushes (seq order) and tells JS through its Output
// (`published`); the FanoutCore attached with attachPublisher() takes them natively on its next
// pump(), so frame bytes never travel through JS. Unattached (the io_uring transport publishes
// through the ring, tests without a fan-out), pushes are dropped and counted: nobody would take
// them.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "fanout/fanout.h"
#include "util/mpsc_queue.h"

namespace ringlay::relay {

class PublishQueue {
 public:
  // Relay thread. False (frames dropped) when no fan-out is attached.
  bool push(std::vector<fanout::PublishFrame>& frames) {
    if (!attached_.load(std::memory_order_acquire)) {
      dropped_.fetch_add(frames.size(), std::memory_order_relaxed);
      frames.clear();
      return false;
    }
    queue_.push_many(std::make_move_iterator(frames.begin()), std::make_move_iterator(frames.end()));
    frames.clear();
    return true;
  }
  // The fan-out's owner (JS thread): everything waiting, in seq order.
  void take(std::vector<fanout::PublishFrame>& out) { queue_.take_all(out); }
  void set_attached(bool on) { attached_.store(on, std::memory_order_release); }
  bool attached() const { return attached_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> attached_{false};
  std::atomic<uint64_t> dropped_{0};
  MpscQueue<fanout::PublishFrame> queue_;
};

}  // namespace ringlay::relay
