// SPDX-License-Identifier: MIT
// MpmcRing: a bounded multi-producer multi-consumer queue of values, lock-free, allocated once.
// It is the verify pool's submission queue: the ring thread and the JS thread push jobs, the
// workers pop them, and no job costs an allocation. Each cell carries a sequence number that
// says whose turn it is (producer for lap k, or consumer for lap k), so producers and
// consumers only contend on the head or tail index, never on a lock.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "util/assert.h"

namespace ringlay::verify {

template <typename T>
class MpmcRing {
 public:
  // Capacity is rounded up to a power of two (at least 2).
  explicit MpmcRing(size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? size_t{2} : capacity) - 1),
        cells_(std::make_unique<Cell[]>(mask_ + 1)) {
    for (size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  ~MpmcRing() {
    while (try_pop()) {
    }
  }
  MpmcRing(const MpmcRing&) = delete;
  MpmcRing& operator=(const MpmcRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // False when full; `value` is then left untouched.
  bool try_push(T&& value) {
    size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      size_t seq = cell->seq.load(std::memory_order_acquire);
      intptr_t dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;  // the cell still holds a value from the previous lap: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    new (cell->storage) T(std::move(value));
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  std::optional<T> try_pop() {
    size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      size_t seq = cell->seq.load(std::memory_order_acquire);
      intptr_t dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return std::nullopt;  // nothing published in this cell yet: empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    T* item = std::launder(reinterpret_cast<T*>(cell->storage));
    std::optional<T> out(std::move(*item));
    item->~T();
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return out;
  }

  // A hint only: true when no value was published at the head when looked at.
  bool empty_approx() const {
    size_t pos = head_.load(std::memory_order_acquire);
    const Cell& cell = cells_[pos & mask_];
    return static_cast<intptr_t>(cell.seq.load(std::memory_order_acquire)) -
               static_cast<intptr_t>(pos + 1) < 0;
  }

 private:
  struct Cell {
    std::atomic<size_t> seq;
    alignas(T) unsigned char storage[sizeof(T)];
  };

  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  // Producers and consumers each hammer one index; keep them on separate cache lines.
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<size_t> head_{0};
};

}  // namespace ringlay::verify
