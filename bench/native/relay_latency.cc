// SPDX-License-Identifier: MIT
// Firehose consumers for bench/relay.ts: N WebSocket clients on one epoll thread that count
// messages and bytes and, for each #commit, read its `time` field and record the latency
// (wall clock now − time). The bench's producer writes its send time into `time` with
// microseconds ("2025-01-01T00:00:00.000000Z", 27 characters); the relay forwards the
// upstream bytes, patching only seq, so the field arrives as sent. A commit body's keys are in
// DAG-CBOR length-first order and `time` comes before `blocks`, so only the first bytes of a
// message are kept and searched. Plain C++ so that 100 consumers at 2,000 ev/s cost little.
//
//   relay_latency --port P [--host 127.0.0.1] [--consumers N] [--path /xrpc/...]
//
// Prints "ready <n>" once every consumer is upgraded. Then one command per stdin line:
//   reset   forget latency samples (the warm-up is not measured)
//   stats   print {"bytes","messages","closed","micros","cpuMicros","samples","p50","p90",
//           "p99","max"} (counts cumulative, latencies in µs over samples since reset)
// and it exits at stdin EOF.
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "ws_consumer_util.h"

namespace {

constexpr size_t kPrefix = 256;  // bytes of each message kept for the `time` search

struct Conn {
  int fd = -1;
  bool upgraded = false;
  std::string head;
  uint8_t hdr[14];
  size_t hdr_have = 0;
  uint64_t payload_left = 0;
  bool in_payload = false;
  bool fin = false;
  uint8_t opcode = 0;
  uint8_t prefix[kPrefix];
  size_t prefix_have = 0;
  size_t message_bytes = 0;
};

uint64_t g_bytes = 0, g_messages = 0, g_closed = 0;
std::vector<uint32_t> g_latency;

int digits(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" → µs since the epoch; 0 when it is not that shape. The
// minute ("YYYY-MM-DDTHH:MM") is the same for thousands of messages in a row: timegm runs once
// per minute, not once per message.
uint64_t parse_time(const char* s) {
  static char cached_minute[16];
  static uint64_t cached_base = 0;
  if (s[4] != '-' || s[10] != 'T' || s[19] != '.' || s[26] != 'Z') return 0;
  int sec = digits(s + 17, 2);
  int frac = digits(s + 20, 6);
  if (frac < 0 || sec < 0) return 0;
  if (cached_base == 0 || std::memcmp(cached_minute, s, 16) != 0) {
    tm t{};
    t.tm_year = digits(s, 4) - 1900;
    t.tm_mon = digits(s + 5, 2) - 1;
    t.tm_mday = digits(s + 8, 2);
    t.tm_hour = digits(s + 11, 2);
    t.tm_min = digits(s + 14, 2);
    cached_base = static_cast<uint64_t>(timegm(&t)) * 1000000;
    std::memcpy(cached_minute, s, 16);
  }
  return cached_base + static_cast<uint64_t>(sec) * 1000000 + static_cast<uint64_t>(frac);
}

// The key "time" (text, 4 bytes) followed by a 27-byte text string.
void on_message(const Conn& c) {
  static const uint8_t key[] = {0x64, 't', 'i', 'm', 'e', 0x78, 27};
  const uint8_t* end = c.prefix + c.prefix_have;
  const uint8_t* at = std::search(c.prefix, end, key, key + sizeof key);
  if (at == end || end - at < static_cast<std::ptrdiff_t>(sizeof key + 27)) return;
  uint64_t sent = parse_time(reinterpret_cast<const char*>(at + sizeof key));
  if (sent == 0) return;
  uint64_t now = ws_bench::micros_now(CLOCK_REALTIME);
  // The producer's placeholder time (year 2025) is not a send time: not a sample.
  if (now < sent || now - sent > 600ull * 1000000) return;
  g_latency.push_back(static_cast<uint32_t>(now - sent));
}

void finish_frame(Conn& c) {
  c.in_payload = false;
  if (c.opcode >= 0x8 || !c.fin) return;  // control frame, or a fragment to be continued
  ++g_messages;
  on_message(c);
  c.prefix_have = 0;
}

void parse(Conn& c, const uint8_t* p, size_t n) {
  while (n > 0) {
    if (!c.in_payload) {
      size_t need = ws_bench::header_size(c.hdr, c.hdr_have);
      while (c.hdr_have < need && n > 0) {
        c.hdr[c.hdr_have++] = *p++;
        --n;
        need = ws_bench::header_size(c.hdr, c.hdr_have);
      }
      if (c.hdr_have < need) return;
      uint8_t op = c.hdr[0] & 0x0f;
      if (op != 0) c.opcode = op;
      c.fin = (c.hdr[0] & 0x80) != 0;
      c.payload_left = ws_bench::payload_size(c.hdr);
      c.hdr_have = 0;
      c.in_payload = true;
      if (c.payload_left == 0) finish_frame(c);
      continue;
    }
    size_t take = n < c.payload_left ? n : static_cast<size_t>(c.payload_left);
    if (c.opcode < 0x8 && c.prefix_have < kPrefix) {
      size_t keep = std::min(take, kPrefix - c.prefix_have);
      std::memcpy(c.prefix + c.prefix_have, p, keep);
      c.prefix_have += keep;
    }
    c.payload_left -= take;
    p += take;
    n -= take;
    if (c.payload_left == 0) finish_frame(c);
  }
}

uint32_t percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

void print_stats() {
  std::vector<uint32_t> v = g_latency;
  uint32_t p50 = percentile(v, 0.50), p90 = percentile(v, 0.90), p99 = percentile(v, 0.99);
  uint32_t max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  std::printf(
      "{\"bytes\":%llu,\"messages\":%llu,\"closed\":%llu,\"micros\":%llu,\"cpuMicros\":%llu,"
      "\"samples\":%zu,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u}\n",
      static_cast<unsigned long long>(g_bytes), static_cast<unsigned long long>(g_messages),
      static_cast<unsigned long long>(g_closed),
      static_cast<unsigned long long>(ws_bench::micros_now(CLOCK_MONOTONIC)),
      static_cast<unsigned long long>(ws_bench::cpu_micros()), v.size(), p50, p90, p99, max);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0;
  int count = 1;
  std::string path = "/xrpc/com.atproto.sync.subscribeRepos";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::atoi(argv[i + 1]);
    else if (k == "--host") host = argv[i + 1];
    else if (k == "--consumers") count = std::atoi(argv[i + 1]);
    else if (k == "--path") path = argv[i + 1];
  }
  if (port == 0) {
    std::fprintf(stderr, "relay_latency: --port is required\n");
    return 2;
  }
  g_latency.reserve(1 << 20);
  int ep = epoll_create1(0);
  std::vector<Conn> conns(count);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  for (int i = 0; i < count; ++i) {
    conns[i].fd = ws_bench::connect_tcp(host, port, false);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "relay_latency: connect %d failed: %s\n", i, std::strerror(errno));
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = static_cast<uint64_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  epoll_event sin{};
  sin.events = EPOLLIN;
  sin.data.u64 = UINT64_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sin);

  int upgraded = 0;
  std::vector<uint8_t> buf(1 << 18);
  std::vector<epoll_event> events(256);
  std::string line;
  for (;;) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == UINT64_MAX) {
        char chunk[256];
        ssize_t got = read(0, chunk, sizeof chunk);
        if (got <= 0) return 0;
        line.append(chunk, static_cast<size_t>(got));
        size_t nl;
        while ((nl = line.find('\n')) != std::string::npos) {
          std::string cmd = line.substr(0, nl);
          line.erase(0, nl + 1);
          if (cmd == "reset") g_latency.clear();
          else print_stats();
        }
        continue;
      }
      Conn& c = conns[events[e].data.u64];
      if (events[e].events & EPOLLOUT) {
        // Connected: send the upgrade once, then only read.
        if (write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
          std::fprintf(stderr, "relay_latency: upgrade request failed: %s\n", std::strerror(errno));
          return 1;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = events[e].data.u64;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        continue;
      }
      for (;;) {
        ssize_t got = read(c.fd, buf.data(), buf.size());
        if (got <= 0) {
          if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            close(c.fd);
            ++g_closed;
          }
          break;
        }
        const uint8_t* p = buf.data();
        size_t len = static_cast<size_t>(got);
        if (!c.upgraded) {
          c.head.append(reinterpret_cast<const char*>(p), len);
          size_t end = c.head.find("\r\n\r\n");
          if (end == std::string::npos) continue;
          if (c.head.compare(0, 12, "HTTP/1.1 101") != 0) {
            std::fprintf(stderr, "relay_latency: upgrade refused: %.60s\n", c.head.c_str());
            return 1;
          }
          c.upgraded = true;
          if (++upgraded == count) {
            std::printf("ready %d\n", upgraded);
            std::fflush(stdout);
          }
          size_t rest = c.head.size() - (end + 4);
          g_bytes += rest;
          if (rest > 0) parse(c, reinterpret_cast<const uint8_t*>(c.head.data()) + end + 4, rest);
          continue;
        }
        g_bytes += len;
        parse(c, p, len);
        if (len < buf.size()) break;
      }
    }
  }
}
