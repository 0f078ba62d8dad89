// SPDX-License-Identifier: MIT
#include "io/sys.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringlay::io {

namespace sys {

int io_uring_setup(unsigned entries, io_uring_params* params) {
  long r = syscall(__NR_io_uring_setup, entries, params);
  return r < 0 ? -errno : static_cast<int>(r);
}

int io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                   const void* arg, size_t arg_size) {
  long r = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, arg_size);
  return r < 0 ? -errno : static_cast<int>(r);
}

int io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr_args) {
  long r = syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace sys

namespace {

struct ErrnoName {
  int value;
  const char* name;
};

// The errnos the driver names in its per-operation tables and in test hooks.
constexpr ErrnoName kErrnoNames[] = {
    {EPERM, "EPERM"},           {ENOENT, "ENOENT"},           {EINTR, "EINTR"},
    {EIO, "EIO"},               {EBADF, "EBADF"},             {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},         {EACCES, "EACCES"},           {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},           {EEXIST, "EEXIST"},           {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},         {EMFILE, "EMFILE"},           {ENOSPC, "ENOSPC"},
    {EPIPE, "EPIPE"},           {ENOSYS, "ENOSYS"},           {ENOBUFS, "ENOBUFS"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {EADDRINUSE, "EADDRINUSE"},   {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETDOWN, "ENETDOWN"},     {ENETUNREACH, "ENETUNREACH"}, {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"}, {ENOTCONN, "ENOTCONN"},       {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"}, {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"}, {ECANCELED, "ECANCELED"},   {ETIME, "ETIME"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EPROTO, "EPROTO"},       {EMSGSIZE, "EMSGSIZE"},
    {ENOTSOCK, "ENOTSOCK"},     {EOVERFLOW, "EOVERFLOW"},
};

}  // namespace

const char* errno_name(int err) {
  if (err < 0) err = -err;
  for (const ErrnoName& e : kErrnoNames) {
    if (e.value == err) return e.name;
  }
  // Names for unlisted values live in a small ring of static buffers: enough for one log
  // line's worth of calls, and never freed.
  static thread_local char bufs[4][16];
  static thread_local unsigned next = 0;
  char* b = bufs[next++ % 4];
  std::snprintf(b, sizeof bufs[0], "E%d", err);
  return b;
}

int errno_from_name(const char* name) {
  if (name == nullptr) return 0;
  for (const ErrnoName& e : kErrnoNames) {
    if (std::strcmp(e.name, name) == 0) return e.value;
  }
  return 0;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int Mapping::map_fd(int fd, size_t size, off_t offset) {
  reset();
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  if (p == MAP_FAILED) return -errno;
  addr_ = p;
  size_ = size;
  return 0;
}

int Mapping::map_anonymous(size_t size) {
  reset();
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -errno;
  addr_ = p;
  size_ = size;
  return 0;
}

void Mapping::reset() {
  if (addr_ != nullptr) munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t monotonic_ms() { return monotonic_ns() / 1000000u; }

}  // namespace ringlay::io
