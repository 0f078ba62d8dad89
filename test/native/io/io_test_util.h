// SPDX-License-Identifier: MIT
// Helpers for the io_uring driver tests: a loop on the test thread, a kernel check that
// skips (never fails) where io_uring is missing, and blocking client sockets for peer
// threads.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "harness.h"
#include "io/loop.h"
#include "io/net.h"
#include "io/probe.h"
#include "io/sys.h"

namespace ringlay::io::test_util {

// Skips the running test (returns false) when this kernel cannot run the driver.
inline bool uring_usable() {
  static ProbeResult probe = probe_uring();
  if (!probe.ok) ringlay::test::skip("io_uring unavailable: " + probe.message);
  return probe.ok;
}

inline LoopOptions small_options() {
  LoopOptions o;
  o.ring.sq_entries = 256;
  o.ring.cq_entries = 1024;
  o.bufs.count = 64;
  o.bufs.buffer_size = 4096;
  o.tick_ms = 20;
  o.drain_timeout_ms = 1000;
  return o;
}

inline std::unique_ptr<Loop> make_loop(Stats* stats, const LoopOptions& o = small_options()) {
  RingError err;
  std::unique_ptr<Loop> loop = Loop::create(o, stats, &err);
  if (!loop) {
    ringlay::test::fail(__FILE__, __LINE__, "Loop::create: " + err.message);
    return nullptr;
  }
  if (int r = loop->start(); r < 0) {
    ringlay::test::fail(__FILE__, __LINE__, std::string("Loop::start: ") + errno_name(r));
    return nullptr;
  }
  return loop;
}

// Runs turns until pred() holds or timeout_ms passes; returns pred().
template <typename Pred>
bool run_until(Loop& loop, Pred pred, uint64_t timeout_ms = 5000) {
  uint64_t deadline = monotonic_ms() + timeout_ms;
  while (!pred()) {
    if (monotonic_ms() > deadline) return false;
    if (loop.run_once(true) < 0) return false;
  }
  return true;
}

// Closes every Conn and runs the loop until they are all freed, then shuts it down.
inline bool drain_and_shutdown(Loop& loop) {
  loop.for_each_conn([&](Conn& c) { loop.close(c, CloseReason::stopped, false); });
  bool ok = run_until(loop, [&] { return loop.live_connections() == 0; });
  loop.shutdown();
  return ok;
}

// A listening socket on 127.0.0.1:0; the port in *port.
inline int listen_loopback(uint16_t* port) {
  SocketAddress a;
  parse_address("127.0.0.1", 0, &a);
  return listen_tcp(a, 128, port);
}

// A blocking client socket connected to 127.0.0.1:port, or -1.
inline int connect_blocking(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads until `n` bytes or EOF/error; returns what was read.
inline std::string read_n(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    size_t want = n - out.size() < sizeof buf ? n - out.size() : sizeof buf;
    ssize_t r = ::read(fd, buf, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

inline std::string pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace ringlay::io::test_util
