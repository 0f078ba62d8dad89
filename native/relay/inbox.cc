// SPDX-License-Identifier: MIT
#include "relay/inbox.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace ringlay::relay {

std::shared_ptr<Inbox> Inbox::create() {
  std::shared_ptr<Inbox> in(new Inbox());
  // Blocking: the relay thread sleeps in read(2). Writers never block (the counter cannot
  // come near overflow).
  in->efd_ = ::eventfd(0, EFD_CLOEXEC);
  if (in->efd_ < 0) return nullptr;
  return in;
}

Inbox::~Inbox() {
  if (efd_ >= 0) ::close(efd_);
}

bool Inbox::push(Inbound item) {
  if (closed()) return false;
  queue_.push(std::move(item));
  wake();
  return true;
}

// The item (or result) is queued before `armed_` is read: if the relay thread already took the
// wake-up (armed_ false again), it has not taken its queues yet, or this write wakes it again.
// Both sides use acq_rel exchanges, so an exchange that reads `true` synchronizes with the
// relay thread's later reset and its take sees the item.
void Inbox::wake() {
  if (armed_.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  while (::write(efd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Inbox::wait(int timeout_ms) {
  if (timeout_ms >= 0) {
    pollfd p{efd_, POLLIN, 0};
    int r;
    while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    if (r <= 0) return;  // timed out: nothing to reset
  }
  uint64_t count;
  while (::read(efd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
  armed_.exchange(false, std::memory_order_acq_rel);
}

void Inbox::take(std::vector<Inbound>& out) { queue_.take_all(out); }

}  // namespace ringlay::relay
