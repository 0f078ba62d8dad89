// SPDX-License-Identifier: MIT
// Firehose load generator for bench/fanout.ts: N WebSocket consumers on one epoll thread,
// reading as fast as the relay sends and counting wire bytes and whole messages. Written in
// plain C++ so that the consumers are never the bottleneck of the fan-out benchmark (a JS
// consumer costs more per byte than the relay does).
//
//   loadgen --port P [--host 127.0.0.1] [--consumers N] [--path /xrpc/...]
//
// Prints "ready <n>" once every consumer is upgraded; then, for each line read on stdin,
// one line {"bytes":B,"messages":M,"closed":C,"micros":T} with cumulative counts; exits at
// stdin EOF. Built by bench/fanout.ts with g++ -O2 (not part of the addon).
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ws_consumer_util.h"

namespace {

struct Conn {
  int fd = -1;
  bool upgraded = false;
  bool closed = false;
  std::string head;         // the 101 response while it arrives
  uint8_t hdr[14];          // the frame header being read
  size_t hdr_have = 0;
  uint64_t payload_left = 0;
  bool in_payload = false;
  bool fin = false;
};

uint64_t g_bytes = 0;
uint64_t g_messages = 0;
uint64_t g_closed = 0;

// Consumes WebSocket frames; only lengths matter (the tests check bytes, the bench speed).
void parse(Conn& c, const uint8_t* p, size_t n) {
  while (n > 0) {
    if (c.in_payload) {
      size_t take = n < c.payload_left ? n : static_cast<size_t>(c.payload_left);
      c.payload_left -= take;
      p += take;
      n -= take;
    } else {
      size_t need = ws_bench::header_size(c.hdr, c.hdr_have);
      while (c.hdr_have < need && n > 0) {
        c.hdr[c.hdr_have++] = *p++;
        --n;
        need = ws_bench::header_size(c.hdr, c.hdr_have);
      }
      if (c.hdr_have < need) return;
      uint8_t opcode = c.hdr[0] & 0x0f;
      c.fin = (c.hdr[0] & 0x80) != 0;
      c.payload_left = ws_bench::payload_size(c.hdr);
      c.hdr_have = 0;
      c.in_payload = true;
      if (opcode == 0x8) c.closed = true;
      if (opcode < 0x8 && c.fin) ++g_messages;
    }
    if (c.in_payload && c.payload_left == 0) c.in_payload = false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0;
  int count = 100;
  std::string path = "/xrpc/com.atproto.sync.subscribeRepos";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::atoi(argv[i + 1]);
    else if (k == "--host") host = argv[i + 1];
    else if (k == "--consumers") count = std::atoi(argv[i + 1]);
    else if (k == "--path") path = argv[i + 1];
  }
  if (port == 0) {
    std::fprintf(stderr, "loadgen: --port is required\n");
    return 2;
  }
  int ep = epoll_create1(0);
  std::vector<Conn> conns(count);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  for (int i = 0; i < count; ++i) {
    Conn& c = conns[i];
    c.fd = ws_bench::connect_tcp(host, port, true);
    if (c.fd < 0 || write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      std::fprintf(stderr, "loadgen: connect %d failed: %s\n", i, std::strerror(errno));
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  epoll_event sin{};
  sin.events = EPOLLIN;
  sin.data.u64 = UINT64_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sin);

  int upgraded = 0;
  std::vector<uint8_t> buf(1 << 18);
  std::vector<epoll_event> events(256);
  for (;;) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == UINT64_MAX) {
        char line[256];
        if (read(0, line, sizeof line) <= 0) return 0;
        std::printf("{\"bytes\":%llu,\"messages\":%llu,\"closed\":%llu,\"micros\":%llu,\"cpuMicros\":%llu}\n",
                    static_cast<unsigned long long>(g_bytes), static_cast<unsigned long long>(g_messages),
                    static_cast<unsigned long long>(g_closed), static_cast<unsigned long long>(ws_bench::micros_now()),
                    static_cast<unsigned long long>(ws_bench::cpu_micros()));
        std::fflush(stdout);
        continue;
      }
      Conn& c = conns[events[e].data.u64];
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
            std::fprintf(stderr, "loadgen: upgrade refused: %.60s\n", c.head.c_str());
            return 1;
          }
          c.upgraded = true;
          if (++upgraded == count) {
            std::printf("ready %d\n", upgraded);
            std::fflush(stdout);
          }
          size_t rest = c.head.size() - (end + 4);
          if (rest > 0) {
            g_bytes += rest;
            parse(c, reinterpret_cast<const uint8_t*>(c.head.data()) + end + 4, rest);
          }
          continue;
        }
        g_bytes += len;
        parse(c, p, len);
        if (static_cast<size_t>(got) < buf.size()) break;
      }
    }
  }
}
