// SPDX-License-Identifier: MIT
// What the two epoll consumer programs (loadgen.cc for bench/fanout.ts, relay_latency.cc for
// bench/relay.ts) share: server-frame header lengths, clocks, TCP connect. Header-only, so
// each stays a single g++ command.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace ws_bench {

// Bytes of the frame header that starts at h, given the `have` bytes seen so far (2 until the
// length byte is known).
inline size_t header_size(const uint8_t* h, size_t have) {
  if (have < 2) return 2;
  size_t n = 2;
  const uint8_t len = h[1] & 0x7f;
  if (len == 126) n += 2;
  if (len == 127) n += 8;
  if (h[1] & 0x80) n += 4;
  return n;
}

inline uint64_t payload_size(const uint8_t* h) {
  const uint8_t len = h[1] & 0x7f;
  if (len < 126) return len;
  uint64_t v = 0;
  const int bytes = len == 126 ? 2 : 8;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | h[2 + i];
  return v;
}

inline uint64_t micros_now(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// CPU time this process used (user + system): the bench prints it next to the relay's, so a
// consumer process near a full core shows up as the bottleneck it would be.
inline uint64_t cpu_micros() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return static_cast<uint64_t>(t.tv_sec) * 1000000 + t.tv_usec; };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

// A non-blocking TCP_NODELAY socket connected to host:port (IPv4 literal); -1 on failure.
// With `wait` the connect completes before it returns; without, it may still be in progress
// (EPOLLOUT says when it is done).
inline int connect_tcp(const char* host, int port, bool wait) {
  const int fd = socket(AF_INET, SOCK_STREAM | (wait ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (wait) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace ws_bench
