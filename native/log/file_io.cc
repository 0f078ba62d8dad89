// SPDX-License-Identifier: MIT
#include "log/file_io.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <vector>

namespace ringlay::log_store {

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Fd open_fd(const std::string& path, int flags, int mode, int* err) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    *err = errno;
    return Fd();
  }
  *err = 0;
  return Fd(fd);
}

int pread_full(int fd, void* buf, size_t n, uint64_t off, size_t* got) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *got = done;
      return errno;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *got = done;
  return 0;
}

int pwritev_full(int fd, const iovec* iov, size_t count, uint64_t off, uint64_t* written) {
  // A private copy of the vector: short writes advance through it in place.
  std::vector<iovec> v(iov, iov + count);
  size_t i = 0;
  uint64_t done = 0;
  while (i < v.size()) {
    if (v[i].iov_len == 0) {
      ++i;
      continue;
    }
    int n = static_cast<int>(std::min<size_t>(v.size() - i, IOV_MAX));
    ssize_t r = ::pwritev(fd, &v[i], n, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *written = done;
      return errno;
    }
    if (r == 0) {
      *written = done;
      return EIO;
    }
    done += static_cast<uint64_t>(r);
    size_t left = static_cast<size_t>(r);
    while (left > 0 && i < v.size()) {
      if (left >= v[i].iov_len) {
        left -= v[i].iov_len;
        ++i;
      } else {
        v[i].iov_base = static_cast<uint8_t*>(v[i].iov_base) + left;
        v[i].iov_len -= left;
        left = 0;
      }
    }
  }
  *written = done;
  return 0;
}

int pwrite_full(int fd, const void* buf, size_t n, uint64_t off) {
  iovec one{const_cast<void*>(buf), n};
  uint64_t w = 0;
  return pwritev_full(fd, &one, 1, off, &w);
}

int fsync_dir(const std::string& dir) {
  int err = 0;
  Fd fd = open_fd(dir, O_RDONLY | O_DIRECTORY, 0, &err);
  if (!fd) return err;
  return ::fsync(fd.get()) == 0 ? 0 : errno;
}

int make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return errno;
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return ENOENT;
  int err = make_dir(path.substr(0, slash));
  if (err != 0) return err;
  return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST ? 0 : errno;
}

int write_file_replace(const std::string& path, const void* data, size_t n, const char* tmp_suffix) {
  std::string tmp = path + tmp_suffix;
  int err = 0;
  Fd fd = open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &err);
  if (!fd) return err;
  err = pwrite_full(fd.get(), data, n, 0);
  fd.reset();
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) ::unlink(tmp.c_str());
  return err;
}

int read_small_file(const std::string& path, std::string* out, size_t limit) {
  // Reads until EOF rather than trusting st_size: /proc files report a size of 0.
  int err = 0;
  Fd fd = open_fd(path, O_RDONLY, 0, &err);
  if (!fd) return err;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return 0;
    if (out->size() + static_cast<size_t>(r) > limit) return EFBIG;
    out->append(buf, static_cast<size_t>(r));
  }
}

std::string read_boot_id() {
  std::string s;
  if (read_small_file("/proc/sys/kernel/random/boot_id", &s, 128) != 0) return "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t wall_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

}  // namespace ringlay::log_store
