// SPDX-License-Identifier: MIT
#include "io/ring_thread.h"

#include <unistd.h>

#include <cerrno>

#include "util/assert.h"
#include "util/log.h"

namespace ringlay::io {

std::unique_ptr<RingThread> RingThread::create(DriverConfig config, EventNotifier* notifier, RingError* error) {
  std::unique_ptr<RingThread> t(new RingThread());
  t->notifier_ = notifier;
  t->driver_ = Driver::create(std::move(config), &t->stats_, error);
  if (!t->driver_) return nullptr;
  // Our own reference to the wake-up eventfd: posting stays safe after the Loop (which owns
  // the original) is destroyed on the ring thread.
  int fd = dup(t->driver_->wake_fd());
  if (fd < 0) {
    set_ring_error(error, "dup", errno);
    return nullptr;
  }
  t->port_ = std::make_shared<CommandPort>(UniqueFd(fd));
  return t;
}

RingThread::~RingThread() {
  if (thread_.joinable()) {
    if (!stop_posted_) post(Command{});  // CommandKind::stop is the default
    thread_.join();
  }
}

void RingThread::start() {
  RL_ASSERT(!thread_.joinable() && driver_ != nullptr);
  thread_ = std::thread([this] { main(); });
}

void CommandPort::wake() {
  uint64_t one = 1;
  // The eventfd counter cannot overflow in practice; EINTR is retried. After the ring is
  // gone the write lands on our own duplicate and wakes nobody, harmlessly.
  while (::write(wake_fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void CommandPort::post_many(std::vector<Command>& commands) {
  bool was_empty = commands_.push_many(std::make_move_iterator(commands.begin()),
                                       std::make_move_iterator(commands.end()));
  commands.clear();
  if (was_empty) wake();
}

void RingThread::post(Command command) {
  if (command.kind == CommandKind::stop) stop_posted_ = true;
  port_->post(std::move(command));
}

void RingThread::post_many(std::vector<Command>& commands) {
  for (const Command& c : commands) stop_posted_ |= c.kind == CommandKind::stop;
  port_->post_many(commands);
}

// Hands a turn's events to JS: one queue push and at most one notification per turn.
void RingThread::publish(std::vector<Event>& batch) {
  if (batch.empty()) return;
  stats_.events_to_js.add(batch.size());
  stats_.event_batches.add();
  bool was_empty = events_.push_many(std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  batch.clear();
  if (was_empty) notifier_->notify();
}

void RingThread::main() {
  int r = driver_->start([this](std::vector<Command>& out) { port_->take(out); });
  std::vector<Event> batch;
  if (r < 0) {
    RL_LOG_ERROR("io", "ring thread could not start: %s", errno_name(r));
    Event e;
    e.kind = EventKind::stopped;
    e.code = -r;
    e.b = errno_name(r);
    batch.push_back(std::move(e));
  } else {
    for (;;) {
      bool running = driver_->turn();
      driver_->take_outbox(batch);
      if (!running) break;
      publish(batch);
    }
  }
  // The Driver (its Loop and ring) is torn down here, on the thread that used it; the last
  // batch (with `stopped`) goes out after, so JS can join at once.
  driver_.reset();
  exited_.store(true, std::memory_order_release);
  publish(batch);
}

void RingThread::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace ringlay::io
