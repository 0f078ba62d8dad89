// SPDX-License-Identifier: MIT
// The loop over real loopback sockets: multishot accept, multishot recv with provided
// buffers (and their exhaustion), coalesced and partial sends, connect with a deadline,
// cancellation on close, and a Conn outliving close() until its last completion.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "io_test_util.h"

using namespace ringlay;
using namespace ringlay::io;
using namespace ringlay::io::test_util;

namespace {

struct Shared {
  std::string received;
  std::vector<uint16_t> held;  // buffers kept by a holding handler
  bool hold = false;
  int destroyed = 0;
  int recv_end = 1;  // last on_recv_end result (1 = none yet)
  std::vector<uint64_t> conns;
  std::vector<int> connect_results;
};

class EchoHandler : public Handler {
 public:
  explicit EchoHandler(Shared* s, bool echo) : s_(s), echo_(echo) {}
  ~EchoHandler() override { ++s_->destroyed; }
  bool on_data(Loop& loop, Conn& c, const RecvBuffer& buf) override {
    s_->received.append(reinterpret_cast<const char*>(buf.bytes.data()), buf.bytes.size());
    if (echo_) loop.send(c, BytesRef::copy_of(buf.bytes.data(), buf.bytes.size()));
    if (s_->hold) {
      s_->held.push_back(buf.bid);
      return false;
    }
    return true;
  }
  void on_recv_end(Loop& loop, Conn& c, int res) override {
    s_->recv_end = res;
    Handler::on_recv_end(loop, c, res);
  }
  void on_connect(Loop&, Conn&, int res) override { s_->connect_results.push_back(res); }

 private:
  Shared* s_;
  bool echo_;
};

class AcceptHandler : public Handler {
 public:
  AcceptHandler(Shared* s, bool echo) : s_(s), echo_(echo) {}
  void on_accept(Loop& loop, Conn&, int fd, const sockaddr_storage& peer) override {
    set_nodelay(fd);
    Conn* c = loop.adopt(fd, peer, std::make_unique<EchoHandler>(s_, echo_));
    s_->conns.push_back(c->id());
  }

 private:
  Shared* s_;
  bool echo_;
};

struct Server {
  Stats stats;
  Shared shared;
  std::unique_ptr<Loop> loop;
  uint16_t port = 0;

  bool start(bool echo, const LoopOptions& o = small_options()) {
    loop = make_loop(&stats, o);
    if (!loop) return false;
    int fd = listen_loopback(&port);
    if (fd < 0) return false;
    loop->listen(fd, std::make_unique<AcceptHandler>(&shared, echo));
    return true;
  }
  Conn* conn(size_t i) { return i < shared.conns.size() ? loop->find(shared.conns[i]) : nullptr; }
};

}  // namespace

TEST(io_loop_accept_recv_send_echo) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(true));
  const std::string data = pattern(200 * 1024);
  std::atomic<bool> done{false};
  std::string echoed;
  std::thread client([&] {
    int fd = connect_blocking(s.port);
    write_all(fd, data.data(), data.size());
    echoed = read_n(fd, data.size());
    ::close(fd);
    done = true;
  });
  bool ok = run_until(*s.loop, [&] { return done.load(); });
  client.join();
  CHECK(ok);
  CHECK(echoed == data);
  // The server side sees the client's FIN, closes and frees its Conn.
  CHECK(run_until(*s.loop, [&] { return s.shared.destroyed == 1; }));
  CHECK_EQ(s.shared.recv_end, 0);
  CHECK_EQ(s.stats.closes[static_cast<size_t>(CloseReason::peer_closed)].get(), uint64_t{1});
  CHECK_EQ(s.stats.bytes_in.get(), uint64_t{data.size()});
  CHECK_EQ(s.stats.bytes_out.get(), uint64_t{data.size()});
  CHECK_EQ(s.stats.queued_send_bytes.get(), uint64_t{0});
  CHECK_EQ(s.stats.connections_open.get(), uint64_t{0});
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_many_connections_through_small_sq) {
  if (!uring_usable()) return;
  LoopOptions o = small_options();
  o.ring.sq_entries = 4;  // forces SQ-full flushes and the backlog
  Server s;
  REQUIRE(s.start(true, o));
  constexpr int kClients = 40;
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      int fd = connect_blocking(s.port);
      std::string msg = pattern(3000, static_cast<uint32_t>(i + 7));
      write_all(fd, msg.data(), msg.size());
      if (read_n(fd, msg.size()) == msg) ++good;
      ::close(fd);
    });
  }
  bool ok = run_until(*s.loop, [&] { return s.shared.destroyed == kClients; }, 10000);
  for (auto& t : clients) t.join();
  CHECK(ok);
  CHECK_EQ(good.load(), kClients);
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_buffer_exhaustion_and_recovery) {
  if (!uring_usable()) return;
  LoopOptions o = small_options();
  o.bufs.count = 4;
  o.bufs.buffer_size = 4096;
  Server s;
  REQUIRE(s.start(false, o));
  s.shared.hold = true;
  const std::string data = pattern(256 * 1024, 3);
  std::thread client([&] {
    int fd = connect_blocking(s.port);
    write_all(fd, data.data(), data.size());
    ::close(fd);
  });
  uint64_t recycled_rounds = 0;
  bool ok = run_until(*s.loop, [&] {
    // Every time the kernel reports the ring empty, give all held buffers back.
    if (s.stats.recv_enobufs.get() > recycled_rounds) {
      recycled_rounds = s.stats.recv_enobufs.get();
      for (uint16_t bid : s.shared.held) s.loop->recycle(bid);
      s.shared.held.clear();
    }
    return s.shared.received.size() == data.size() && s.shared.destroyed == 1;
  }, 10000);
  client.join();
  CHECK(ok);
  CHECK(s.shared.received == data);
  CHECK(s.stats.recv_enobufs.get() >= 1);
  CHECK(s.stats.recv_rearms.get() >= 1);
  for (uint16_t bid : s.shared.held) s.loop->recycle(bid);
  s.shared.held.clear();
  CHECK(drain_and_shutdown(*s.loop));
  CHECK_EQ(s.loop->bufs().available(), 4u);
}

TEST(io_loop_close_cancels_pending_recv) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  int fd = connect_blocking(s.port);
  REQUIRE(run_until(*s.loop, [&] { return s.shared.conns.size() == 1; }));
  Conn* c = s.conn(0);
  REQUIRE(c != nullptr);
  // Nothing will ever arrive: the multishot recv stays armed until close() cancels it.
  s.loop->close(*c, CloseReason::local_close, false);
  CHECK_EQ(s.shared.destroyed, 0);  // not before the recv's last completion
  CHECK(run_until(*s.loop, [&] { return s.shared.destroyed == 1; }));
  CHECK(s.loop->find(s.shared.conns[0]) == nullptr);
  char b;
  CHECK_EQ(::read(fd, &b, 1), ssize_t{0});  // the peer sees our FIN
  ::close(fd);
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_send_buffers_live_until_last_completion) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  int fd = connect_blocking(s.port);  // never reads
  REQUIRE(run_until(*s.loop, [&] { return s.shared.conns.size() == 1; }));
  Conn* c = s.conn(0);
  BytesRef big = BytesRef::copy_of(pattern(16 * 1024 * 1024));
  s.loop->send(*c, big);
  // Let the sendmsg go in flight and block on the full socket buffer.
  REQUIRE(run_until(*s.loop, [&] { return s.stats.sends.get() >= 1; }));
  for (int i = 0; i < 3; ++i) s.loop->run_once(false);
  CHECK(c->send_in_flight());
  CHECK(big.get()->refs() >= 2u);
  s.loop->close(*c, CloseReason::local_close, false);
  CHECK(big.get()->refs() >= 2u);  // the kernel may still read it
  CHECK(run_until(*s.loop, [&] { return s.shared.destroyed == 1; }));
  CHECK_EQ(big.get()->refs(), 1u);
  CHECK_EQ(s.stats.queued_send_bytes.get(), uint64_t{0});
  ::close(fd);
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_coalesces_queued_chunks_into_one_sendmsg) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  int fd = connect_blocking(s.port);
  REQUIRE(run_until(*s.loop, [&] { return s.shared.conns.size() == 1; }));
  Conn* c = s.conn(0);
  uint64_t sends_before = s.stats.sends.get();
  std::string expect;
  for (int i = 0; i < 100; ++i) {
    std::string piece = "frame-" + std::to_string(i) + ";";
    expect += piece;
    s.loop->send(*c, BytesRef::copy_of(piece));
  }
  REQUIRE(run_until(*s.loop, [&] { return s.stats.bytes_out.get() == expect.size(); }));
  CHECK_EQ(s.stats.sends.get() - sends_before, uint64_t{1});
  CHECK_EQ(s.stats.send_iovecs.get(), uint64_t{100});
  CHECK(read_n(fd, expect.size()) == expect);
  ::close(fd);
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_partial_sends_resume_for_slow_reader) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  int fd = connect_blocking(s.port);
  timeval tv{5, 0};  // a stalled test fails instead of hanging in read()
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(run_until(*s.loop, [&] { return s.shared.conns.size() == 1; }));
  Conn* c = s.conn(0);
  std::string expect;
  for (int i = 0; i < 256; ++i) {
    std::string piece = pattern(64 * 1024, static_cast<uint32_t>(i));
    expect += piece;
    s.loop->send(*c, BytesRef::copy_of(piece));
  }
  std::atomic<bool> done{false};
  std::string got;
  std::thread reader([&] {
    char buf[8192];
    while (got.size() < expect.size()) {
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) break;
      got.append(buf, static_cast<size_t>(r));
      if (got.size() % (512 * 1024) < 8192) usleep(5000);
    }
    done = true;
  });
  bool ok = run_until(*s.loop, [&] { return done.load(); }, 20000);
  reader.join();
  CHECK(ok);
  CHECK(got == expect);
  CHECK(s.stats.partial_sends.get() >= 1);
  CHECK_EQ(s.stats.queued_send_bytes.get(), uint64_t{0});
  ::close(fd);
  CHECK(drain_and_shutdown(*s.loop));
}

TEST(io_loop_connect_ok_refused_and_deadline) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  Shared out;
  auto dial = [&](const char* host, uint16_t port, uint32_t timeout_ms) {
    SocketAddress a;
    parse_address(host, port, &a);
    int fd = connect_socket(a);
    s.loop->connect(fd, a.ss, a.len, timeout_ms, std::make_unique<EchoHandler>(&out, false));
  };
  dial("127.0.0.1", s.port, 2000);
  REQUIRE(run_until(*s.loop, [&] { return out.connect_results.size() == 1; }));
  CHECK_EQ(out.connect_results[0], 0);
  // A port nobody listens on (ours, just closed).
  uint16_t dead_port = 0;
  int dead = listen_loopback(&dead_port);
  ::close(dead);
  dial("127.0.0.1", dead_port, 2000);
  REQUIRE(run_until(*s.loop, [&] { return out.connect_results.size() == 2; }));
  CHECK_EQ(out.connect_results[1], -ECONNREFUSED);
  // A listener whose accept queue is full drops our SYN: only the linked timeout ends the
  // connect. (A black-hole address would do too, but this VM's network answers everything.)
  uint16_t full_port = 0;
  SocketAddress la;
  parse_address("127.0.0.1", 0, &la);
  int full = listen_tcp(la, 0, &full_port);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int f = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(full_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(f, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(f);
  }
  usleep(50000);
  uint64_t t0 = monotonic_ms();
  dial("127.0.0.1", full_port, 200);
  REQUIRE(run_until(*s.loop, [&] { return out.connect_results.size() == 3; }));
  CHECK_EQ(out.connect_results[2], -ETIMEDOUT);
  uint64_t took = monotonic_ms() - t0;
  CHECK(took >= 150 && took < 1500);
  for (int f : fillers) ::close(f);
  ::close(full);
  CHECK(drain_and_shutdown(*s.loop));
  CHECK(out.destroyed == 3);
}

TEST(io_loop_pause_and_resume_recv) {
  if (!uring_usable()) return;
  Server s;
  REQUIRE(s.start(false));
  int fd = connect_blocking(s.port);
  REQUIRE(run_until(*s.loop, [&] { return s.shared.conns.size() == 1; }));
  Conn* c = s.conn(0);
  s.loop->pause_recv(*c);
  // Let the cancel of the armed receive complete, then send: nothing may be delivered.
  for (int i = 0; i < 5; ++i) s.loop->run_once(false);
  write_all(fd, "paused", 6);
  uint64_t t0 = monotonic_ms();
  run_until(*s.loop, [&] { return monotonic_ms() - t0 > 100; });
  CHECK(s.shared.received.empty());
  s.loop->resume_recv(*c);
  CHECK(run_until(*s.loop, [&] { return s.shared.received == "paused"; }));
  ::close(fd);
  CHECK(run_until(*s.loop, [&] { return s.shared.destroyed == 1; }));
  CHECK(drain_and_shutdown(*s.loop));
}
