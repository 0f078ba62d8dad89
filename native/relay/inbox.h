// SPDX-License-Identifier: MIT
// Inbox: everything that reaches the relay thread, from any thread, in one MpscQueue, plus the
// one eventfd that wakes it. The verify workers and the log thread only wake() it (their
// results wait in their own queues). Shared (shared_ptr) with the io_uring link, so the ring
// thread may keep delivering after the relay closed: closed() inboxes drop what they get.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "relay/decision.h"
#include "util/mpsc_queue.h"
#include "util/shared_bytes.h"

namespace ringlay::relay {

class Downstream;

struct Inbound {
  enum class Kind : uint8_t { frames, conn_closed, decisions, attach, close };
  Kind kind = Kind::frames;
  uint32_t host = 0;
  uint64_t conn = 0;
  std::vector<BytesRef> frames;
  DecisionBatch decisions;
  std::shared_ptr<Downstream> downstream;
};

class Inbox {
 public:
  // nullptr when no eventfd could be made.
  static std::shared_ptr<Inbox> create();
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Any thread. Dropped (false) once the inbox is closed.
  bool push(Inbound item);
  // Any thread: makes the relay thread run a round (one eventfd write per round at most).
  void wake();

  // Relay thread: blocks until woken (timeout_ms < 0: no timeout).
  void wait(int timeout_ms);
  // Relay thread: everything queued, in push order.
  void take(std::vector<Inbound>& out);
  // After this, push() drops; queued items are still taken.
  void close_intake() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

 private:
  Inbox() = default;
  int efd_ = -1;
  std::atomic<bool> armed_{false};  // a wake-up is on its way (the eventfd was written)
  std::atomic<bool> closed_{false};
  MpscQueue<Inbound> queue_;
};

}  // namespace ringlay::relay
