// SPDX-License-Identifier: MIT
// Small POSIX file helpers for the event log: an owning fd, full-length positional reads and
// vectored writes (retrying short transfers and EINTR), directory fsync, and the kernel boot
// id. Every function reports errno as a value; nothing here throws or prints.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace ringlay::log_store {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; *err = errno on failure (the Fd is then empty).
Fd open_fd(const std::string& path, int flags, int mode, int* err);

// Reads exactly n bytes at off unless EOF comes first; *got = bytes read. Returns 0 or errno.
int pread_full(int fd, void* buf, size_t n, uint64_t off, size_t* got);

// Writes every byte of iov[0, count) at off (loops over short writes and IOV_MAX). Returns 0
// or errno; on error *written says how many bytes did reach the file.
int pwritev_full(int fd, const iovec* iov, size_t count, uint64_t off, uint64_t* written);

int pwrite_full(int fd, const void* buf, size_t n, uint64_t off);

// fsync of a directory, so a file created or unlinked in it survives power loss.
int fsync_dir(const std::string& dir);

// mkdir -p for one or two levels (the data dir and its events/ child). Returns 0 or errno.
int make_dir(const std::string& path);

// Writes `data` to path through path + tmp_suffix, then rename (no fsync: used for rebuildable
// caches). Different writers of the same path use different suffixes.
int write_file_replace(const std::string& path, const void* data, size_t n, const char* tmp_suffix);

// Whole small file into out. Returns 0 or errno (ENOENT when absent).
int read_small_file(const std::string& path, std::string* out, size_t limit);

// /proc/sys/kernel/random/boot_id without the newline ("" if unreadable). Same boot id means
// the page cache of the previous process survived, so its written bytes are still there.
std::string read_boot_id();

uint64_t monotonic_ns();
uint64_t wall_ms();

}  // namespace ringlay::log_store
