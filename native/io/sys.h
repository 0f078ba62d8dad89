// SPDX-License-Identifier: MIT
// Raw system-call layer for the io_uring driver: the three io_uring syscalls (no liburing:
// it is not a system package here and the driver needs only a small part of it), owned fds
// and mappings, and errno names. Everything returns -errno instead of setting errno, as the
// kernel does, so callers can switch on the value.
#pragma once

#include <linux/io_uring.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace ringlay::io {

namespace sys {

int io_uring_setup(unsigned entries, io_uring_params* params);
int io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                   const void* arg, size_t arg_size);
int io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr_args);

}  // namespace sys

// "EPERM", "ECONNRESET", ... or "E<number>" for an errno without a table entry. Accepts the
// positive or the negated value.
const char* errno_name(int err);
// Inverse of errno_name for the names the test hooks accept; 0 when unknown.
int errno_from_name(const char* name);

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// An owned mmap region, unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  // Maps `size` bytes of `fd` at `offset` (shared, read-write); -errno on failure.
  int map_fd(int fd, size_t size, off_t offset);
  // Maps `size` zeroed anonymous bytes; -errno on failure.
  int map_anonymous(size_t size);

  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return size_; }
  explicit operator bool() const { return addr_ != nullptr; }
  void reset();

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// Monotonic milliseconds (CLOCK_MONOTONIC, the clock Node's process.hrtime uses).
uint64_t monotonic_ms();
uint64_t monotonic_ns();

}  // namespace ringlay::io
