// SPDX-License-Identifier: MIT
// RingThread: the io_uring transport's native thread and its two queues. JS posts commands
// (MpscQueue + an eventfd the ring has a read pending on) and takes events (MpscQueue + a
// notification through the bridge: a napi threadsafe function or an eventfd watched by
// libuv, see native/napi/transport_bridge.cc). Nothing here blocks the JS thread except
// join() after the thread has announced its end.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "io/driver.h"
#include "io/stats.h"
#include "io/transport_types.h"
#include "util/mpsc_queue.h"

namespace ringlay::io {

// How the ring thread tells JS that events are waiting. Called on the ring thread, once per
// turn at most, and only when the event queue was empty before (later events ride along).
class EventNotifier {
 public:
  virtual ~EventNotifier() = default;
  virtual void notify() = 0;
};

// The ring thread's command queue and its wake-up eventfd (a duplicate the queue owns). Shared
// with native producers that may outlive the thread (the relay's link, native/relay/
// uring_link.h): what they post after the thread ended is queued and never run, harmlessly.
class CommandPort {
 public:
  explicit CommandPort(UniqueFd wake_fd) : wake_fd_(std::move(wake_fd)) {}
  void post(Command command) {
    if (commands_.push(std::move(command))) wake();
  }
  void post_many(std::vector<Command>& commands);
  void take(std::vector<Command>& out) { commands_.take_all(out); }

 private:
  void wake();
  UniqueFd wake_fd_;
  MpscQueue<Command> commands_;
};

class RingThread {
 public:
  // Sets the ring up on the calling (JS) thread; nullptr and `error` on failure.
  static std::unique_ptr<RingThread> create(DriverConfig config, EventNotifier* notifier, RingError* error);
  // Stops and joins a still running thread (blocking: only for teardown paths).
  ~RingThread();
  RingThread(const RingThread&) = delete;
  RingThread& operator=(const RingThread&) = delete;

  void start();
  void post(Command command);
  void post_many(std::vector<Command>& commands);
  // Moves every event waiting into `out` (cleared first), in order.
  void take_events(std::vector<Event>& out) { events_.take_all(out); }
  const Stats& stats() const { return stats_; }
  // JS thread: `bytes` of broadcast frames were just posted (counted as queued until the
  // ring thread publishes them, so stats() never under-reports what is waiting).
  void note_broadcast_posted(uint64_t bytes) {
    stats_.posted_broadcast_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  // True once the thread has emitted its `stopped` event and left its loop.
  bool exited() const { return exited_.load(std::memory_order_acquire); }
  void join();
  // Where upstream messages go instead of JS (set before start(); see Driver::MessageHook).
  void set_message_hook(Driver::MessageHook hook) { driver_->set_message_hook(std::move(hook)); }
  // The command queue, for native producers on other threads (the relay).
  std::shared_ptr<CommandPort> port() const { return port_; }

 private:
  RingThread() = default;
  void main();
  void publish(std::vector<Event>& batch);

  Stats stats_;
  std::unique_ptr<Driver> driver_;
  std::shared_ptr<CommandPort> port_;
  MpscQueue<Event> events_;
  EventNotifier* notifier_ = nullptr;
  std::thread thread_;
  std::atomic<bool> exited_{false};
  bool stop_posted_ = false;
};

}  // namespace ringlay::io
