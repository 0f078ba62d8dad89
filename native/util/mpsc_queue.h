// SPDX-License-Identifier: MIT
// MpscQueue: many producers push, one consumer takes everything at once. Threads meet here
// and nowhere else (design.md, "Threads"). The lock is held only to append or to swap the
// vector, never while work is done, and nobody waits on it for a condition: the consumer is
// woken by its own mechanism (an eventfd read on its ring, a uv_async, a futex in a worker).
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace ringlay {

template <typename T>
class MpscQueue {
 public:
  // Returns true when the queue was empty before this push, so the producer knows it must
  // wake the consumer (later pushes ride on the same wake-up).
  bool push(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
    return items_.size() == 1;
  }

  template <typename It>
  bool push_many(It first, It last) {
    std::lock_guard<std::mutex> lock(mu_);
    bool was_empty = items_.empty();
    for (; first != last; ++first) items_.push_back(std::move(*first));
    return was_empty && !items_.empty();
  }

  // Moves every queued item into `out` (cleared first), in push order.
  void take_all(std::vector<T>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(out, items_);
  }

  size_t size_approx() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  std::mutex mu_;
  std::vector<T> items_;
};

}  // namespace ringlay
