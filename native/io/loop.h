// SPDX-License-Identifier: MIT
// Loop: the io_uring event loop of the ring thread. It owns the ring, the provided-buffer
// ring and every socket (Conn), turns completions into Handler calls, and keeps the rules
// the kernel imposes:
//   - a Conn (its fd, send buffers, msghdr) lives until its last completion: close() only
//     starts the teardown (shutdown + ASYNC_CANCEL), the fd is closed and the Conn freed
//     when no operation is in flight, after the completion batch that ended it;
//   - one sendmsg in flight per socket; bytes queued meanwhile coalesce into the next one
//     (up to kMaxIovecs); partial sends resume where the kernel stopped;
//   - sends are submitted once per turn for every socket that has bytes queued, so one
//     io_uring_enter covers many sockets;
//   - a multishot receive that ends (ENOBUFS, overflow) is re-armed, after ENOBUFS only once
//     half the receive buffers are back.
// Nothing here blocks: the only waiting is the one io_uring_enter per turn.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "io/buf_ring.h"
#include "io/ring.h"
#include "io/stats.h"
#include "util/shared_bytes.h"

namespace ringlay::io {

class Loop;
class Conn;

// Bytes from one receive completion. `bid` names the provided buffer holding them.
struct RecvBuffer {
  uint16_t bid;
  std::span<const uint8_t> bytes;
};

// A connection's behaviour. Every call runs on the ring thread; the Loop owns the Conn,
// which owns its Handler, so `conn` is valid for the whole call.
class Handler {
 public:
  virtual ~Handler() = default;
  // Listeners: a connection was accepted (`fd` is owned by the callee: adopt or close it).
  virtual void on_accept(Loop&, Conn& listener, int fd, const sockaddr_storage& peer) {}
  // Outgoing connections: 0, or -errno (-ETIMEDOUT when the connect deadline passed).
  virtual void on_connect(Loop&, Conn&, int res) {}
  // Received bytes. Return true when done with the buffer (copied or parsed), false to keep
  // it; a kept buffer must be handed back with Loop::recycle(bid).
  virtual bool on_data(Loop&, Conn&, const RecvBuffer& buf) { return true; }
  // The receive side ended: 0 for an orderly EOF, else -errno. By default the Conn closes
  // (peer_closed or connection_reset); override to keep sending after the peer's FIN.
  virtual void on_recv_end(Loop& loop, Conn& conn, int res);
  // `bytes` more of the send queue reached the socket.
  virtual void on_sent(Loop&, Conn&, size_t bytes) {}
  // A send_external() finished: bytes accepted (may be fewer than asked: a partial send).
  // Errors close the Conn instead (reported through on_close).
  virtual void on_send_done(Loop&, Conn&, size_t bytes) {}
  // Every tick_ms while the Conn is open or draining.
  virtual void on_tick(Loop&, Conn&, uint64_t now_ms) {}
  // Once, when close() is first called (by anyone). No on_data/on_sent after this.
  virtual void on_close(Loop&, Conn&, CloseReason reason) {}
};

struct LoopOptions {
  RingOptions ring;
  BufRingOptions bufs;
  uint32_t tick_ms = 250;
  // How long a draining close may wait for queued bytes, then for the peer's FIN.
  uint32_t drain_timeout_ms = 5000;
};

enum class ConnState : uint8_t {
  open,
  draining,   // close requested: writing what is queued, then shutdown(SHUT_WR)
  lingering,  // FIN sent; reading (and discarding) until the peer's EOF or the deadline
  closing,    // cancelled; waiting for the last completion
};

class Conn {
 public:
  uint64_t id() const { return id_; }
  int fd() const { return fd_; }
  ConnState state() const { return state_; }
  bool is_open() const { return state_ == ConnState::open; }
  bool is_listener() const { return listener_; }
  // Bytes queued and not yet accepted by the socket (including an in-flight sendmsg).
  size_t queued_bytes() const { return out_bytes_; }
  bool send_in_flight() const { return send_inflight_; }
  Handler* handler() const { return handler_.get(); }
  CloseReason close_reason() const { return reason_; }
  const sockaddr_storage& peer() const { return peer_; }

 private:
  friend class Loop;
  struct Chunk {
    BytesRef bytes;
    uint32_t begin;
    uint32_t end;
  };

  uint32_t slot_ = 0;
  uint32_t gen_ = 0;
  uint64_t id_ = 0;
  int fd_ = -1;
  ConnState state_ = ConnState::open;
  bool listener_ = false;
  bool connecting_ = false;
  bool connect_timed_out_ = false;
  bool recv_armed_ = false;
  bool recv_wanted_ = false;  // re-arm the receive when it ends (false after EOF/error)
  bool starved_ = false;      // receive ended with ENOBUFS; waiting for buffers
  bool eof_ = false;          // the receive side has ended for good
  bool send_inflight_ = false;
  bool external_ = false;     // the in-flight send came from send_external
  bool dirty_ = false;        // in the loop's to-send list
  bool accept_backoff_ = false;
  uint16_t inflight_ = 0;     // submitted operations whose final completion is pending
  uint64_t deadline_ms_ = 0;  // draining/lingering deadline
  CloseReason reason_ = CloseReason::local_close;
  std::deque<Chunk> out_;
  size_t out_bytes_ = 0;
  size_t inflight_bytes_ = 0;
  std::vector<iovec> iov_;
  msghdr msg_{};
  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
  __kernel_timespec connect_ts_{};
  std::unique_ptr<Handler> handler_;
};

class Loop {
 public:
  static constexpr size_t kMaxIovecs = 1024;  // IOV_MAX

  // Sets up the ring (disabled) and buffers on the calling thread; nullptr + `error` on
  // failure. Honours RINGLAY_URING_FAIL.
  static std::unique_ptr<Loop> create(const LoopOptions& options, Stats* stats, RingError* error);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // On the ring thread, before anything else: becomes the ring's issuer and arms the wake
  // read and the tick. -errno on failure.
  int start();
  // One turn: submit queued sends and operations, wait for a completion (unless `block` is
  // false), dispatch all ready completions, free connections whose last completion came.
  // Returns -errno only for an unrecoverable ring failure.
  int run_once(bool block = true);
  // Stops the wake read and tick (after every Conn is gone) and waits for their final
  // completions, so nothing the kernel writes outlives the Loop.
  void shutdown();

  // Written (8 bytes) by other threads to wake the ring; on_wake runs on the ring thread.
  int wake_fd() const { return wake_fd_.get(); }
  // Wakes the loop from another thread.
  void wake();
  void set_on_wake(std::function<void()> fn) { on_wake_ = std::move(fn); }
  void set_on_tick(std::function<void(uint64_t)> fn) { on_tick_ = std::move(fn); }

  // Starts multishot accept on a bound, listening socket (owned from now on).
  Conn* listen(int fd, std::unique_ptr<Handler> handler);
  // Takes an accepted or connected socket and starts receiving.
  Conn* adopt(int fd, const sockaddr_storage& peer, std::unique_ptr<Handler> handler);
  // Connects the (non-blocking) socket `fd` to `addr` with a deadline; on_connect reports.
  Conn* connect(int fd, const sockaddr_storage& addr, socklen_t addr_len, uint32_t timeout_ms,
                std::unique_ptr<Handler> handler);

  // Queues bytes [begin, end) of `bytes`; the same buffer may be queued on many Conns.
  void send(Conn& conn, const BytesRef& bytes, size_t begin, size_t end);
  void send(Conn& conn, const BytesRef& bytes) { send(conn, bytes, 0, bytes.size()); }
  // Sends iovecs the caller owns (the fan-out core's batches: header bytes and shared frame
  // payloads), keeping them alive until on_send_done. Only when nothing is queued or in
  // flight (can_send_external()).
  void send_external(Conn& conn, std::span<const iovec> iov, size_t bytes);
  bool can_send_external(const Conn& conn) const {
    return conn.state_ == ConnState::open && !conn.send_inflight_ && conn.out_.empty();
  }
  // Starts closing. drain: write what is queued first (bounded by drain_timeout_ms).
  void close(Conn& conn, CloseReason reason, bool drain);
  // Stops/starts receiving on a Conn (flow control when the consumer of its data lags).
  void pause_recv(Conn& conn);
  void resume_recv(Conn& conn);
  // Gives back a buffer kept by Handler::on_data.
  void recycle(uint16_t bid);

  Conn* find(uint64_t id);
  // Visits every Conn not yet freed. By index: `f` may open new Conns.
  template <typename F>
  void for_each_conn(F&& f) {
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn* c = conns_[i].get();
      if (c != nullptr && c->fd_ >= 0) f(*c);
    }
  }
  // Connections not yet freed (open, draining or waiting for completions), listeners included.
  size_t live_connections() const { return by_id_.size(); }
  uint64_t now_ms() const { return now_ms_; }
  const Ring& ring() const { return *ring_; }
  const BufRing& bufs() const { return *bufs_; }
  Stats& stats() { return *stats_; }

 private:
  Loop() = default;
  Conn* new_conn(int fd, std::unique_ptr<Handler> handler);
  uint64_t user_data(const Conn& c, uint8_t op) const;
  void arm_wake();
  void arm_tick();
  void arm_accept(Conn& c);
  void arm_recv(Conn& c);
  void submit_send(Conn& c);
  void submit_sendmsg(Conn& c, size_t bytes, bool external);
  void flush_sends();
  void dispatch(const io_uring_cqe& cqe);
  void on_loop_cqe(uint8_t op, const io_uring_cqe& cqe);
  void on_accept_cqe(Conn& c, const io_uring_cqe& cqe);
  void on_recv_cqe(Conn& c, const io_uring_cqe& cqe);
  void on_send_cqe(Conn& c, const io_uring_cqe& cqe);
  void on_connect_cqe(Conn& c, const io_uring_cqe& cqe);
  void on_tick_cqe(const io_uring_cqe& cqe);
  void rearm_recv_if_wanted(Conn& c);
  void consume_sent(Conn& c, size_t n);
  void finish_drain(Conn& c);
  void teardown(Conn& c);
  void maybe_release(Conn& c);
  void release_pending();
  void rearm_starved();

  std::unique_ptr<Ring> ring_;
  std::unique_ptr<BufRing> bufs_;
  Stats* stats_ = nullptr;
  LoopOptions options_;
  UniqueFd wake_fd_;
  uint64_t wake_buf_ = 0;
  __kernel_timespec tick_ts_{};
  bool wake_armed_ = false;
  bool tick_armed_ = false;
  bool stopping_ = false;
  uint64_t now_ms_ = 0;
  uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Conn>> conns_;  // by slot
  std::vector<uint32_t> free_slots_;
  std::unordered_map<uint64_t, uint32_t> by_id_;
  std::vector<uint32_t> dirty_;      // slots with bytes to send
  std::vector<uint32_t> starved_;    // slots whose receive waits for buffers
  std::vector<uint32_t> releasable_; // slots to free after the current batch
  std::function<void()> on_wake_;
  std::function<void(uint64_t)> on_tick_;
};

}  // namespace ringlay::io
