// SPDX-License-Identifier: MIT
// The one blocking primitive verify workers use: a futex on a 32-bit atomic word. A worker
// sleeps only when it found no work, and wakes when a producer bumps its word — no mutex, no
// condition variable, and no system call when nobody sleeps (the producer checks a flag).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace ringlay::verify {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

// Sleeps while *word == expected (returns at once otherwise, or on a wake, or spuriously).
// timeout_ms < 0 waits without a limit.
inline void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, int timeout_ms = -1) {
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          timeout_ms < 0 ? nullptr : &ts, nullptr, 0);
}

inline void futex_wake(std::atomic<uint32_t>& word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr,
          nullptr, 0);
}

}  // namespace ringlay::verify
