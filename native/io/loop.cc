// SPDX-License-Identifier: MIT
// Loop setup, the turn, connection lifetime. Completion handlers are in loop_cqe.cc.
#include "io/loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/loop_internal.h"
#include "util/assert.h"
#include "util/log.h"

namespace ringlay::io {

std::unique_ptr<Loop> Loop::create(const LoopOptions& options, Stats* stats, RingError* error) {
  RL_ASSERT(stats != nullptr);
  std::unique_ptr<Loop> loop(new Loop());
  loop->options_ = options;
  loop->stats_ = stats;
  loop->ring_ = Ring::create(options.ring, error);
  if (!loop->ring_) return nullptr;
  loop->bufs_ = BufRing::create(*loop->ring_, options.bufs, error);
  if (!loop->bufs_) return nullptr;
  // Blocking on purpose: io_uring's READ returns EAGAIN at once on an O_NONBLOCK file
  // instead of waiting for it to become readable.
  int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0) {
    set_ring_error(error, "eventfd", errno);
    return nullptr;
  }
  loop->wake_fd_.reset(efd);
  loop->now_ms_ = monotonic_ms();
  return loop;
}

Loop::~Loop() {
  // Conns still here (a loop torn down without shutdown(), e.g. a failed start) close their
  // fds; the ring goes with them, so the kernel cancels whatever was in flight.
  for (auto& c : conns_) {
    if (c && c->fd_ >= 0) ::close(c->fd_);
  }
  conns_.clear();
  bufs_.reset();  // before the ring: unregistering needs the ring fd
  ring_.reset();
}

int Loop::start() {
  if (options_.ring.disabled) {
    if (int r = ring_->enable(); r < 0) return r;
  }
  arm_wake();
  arm_tick();
  return 0;
}

void Loop::wake() {
  uint64_t one = 1;
  // EAGAIN is impossible (the counter would need 2^64-2 pending wake-ups); EINTR retried.
  while (::write(wake_fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

uint64_t Loop::user_data(const Conn& c, uint8_t op) const {
  return encode_user_data(c.slot_, c.gen_, op);
}

void Loop::arm_wake() {
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_READ;
  sqe->fd = wake_fd_.get();
  sqe->addr = reinterpret_cast<uint64_t>(&wake_buf_);
  sqe->len = sizeof wake_buf_;
  sqe->off = static_cast<uint64_t>(-1);
  sqe->user_data = encode_user_data(kLoopSlot, 0, kOpWake);
  wake_armed_ = true;
}

void Loop::arm_tick() {
  tick_ts_.tv_sec = options_.tick_ms / 1000;
  tick_ts_.tv_nsec = static_cast<long long>(options_.tick_ms % 1000) * 1000000;
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_TIMEOUT;
  sqe->fd = -1;
  sqe->addr = reinterpret_cast<uint64_t>(&tick_ts_);
  sqe->len = 1;
  sqe->user_data = encode_user_data(kLoopSlot, 0, kOpTick);
  tick_armed_ = true;
}

Conn* Loop::new_conn(int fd, std::unique_ptr<Handler> handler) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(conns_.size());
    conns_.push_back(nullptr);
  }
  RL_ASSERT(slot < kLoopSlot);
  uint32_t gen = conns_[slot] ? conns_[slot]->gen_ + 1 : 1;
  conns_[slot] = std::make_unique<Conn>();
  Conn& c = *conns_[slot];
  c.slot_ = slot;
  c.gen_ = gen & kGenMask;
  c.id_ = next_id_++;
  c.fd_ = fd;
  c.handler_ = std::move(handler);
  by_id_.emplace(c.id_, slot);
  return &c;
}

Conn* Loop::listen(int fd, std::unique_ptr<Handler> handler) {
  Conn* c = new_conn(fd, std::move(handler));
  c->listener_ = true;
  arm_accept(*c);
  return c;
}

Conn* Loop::adopt(int fd, const sockaddr_storage& peer, std::unique_ptr<Handler> handler) {
  Conn* c = new_conn(fd, std::move(handler));
  c->peer_ = peer;
  c->recv_wanted_ = true;
  stats_->connections_open.add();
  arm_recv(*c);
  return c;
}

Conn* Loop::connect(int fd, const sockaddr_storage& addr, socklen_t addr_len, uint32_t timeout_ms,
                    std::unique_ptr<Handler> handler) {
  Conn* c = new_conn(fd, std::move(handler));
  c->peer_ = addr;
  c->peer_len_ = addr_len;
  c->connecting_ = true;
  c->connect_ts_.tv_sec = timeout_ms / 1000;
  c->connect_ts_.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
  stats_->connections_open.add();
  io_uring_sqe* conn_sqe;
  io_uring_sqe* timeout_sqe;
  ring_->get_sqe_pair(&conn_sqe, &timeout_sqe);
  conn_sqe->opcode = IORING_OP_CONNECT;
  conn_sqe->fd = fd;
  conn_sqe->addr = reinterpret_cast<uint64_t>(&c->peer_);
  conn_sqe->off = addr_len;
  conn_sqe->flags = IOSQE_IO_LINK;
  conn_sqe->user_data = user_data(*c, kOpConnect);
  timeout_sqe->opcode = IORING_OP_LINK_TIMEOUT;
  timeout_sqe->fd = -1;
  timeout_sqe->addr = reinterpret_cast<uint64_t>(&c->connect_ts_);
  timeout_sqe->len = 1;
  timeout_sqe->user_data = user_data(*c, kOpLinkTimeout);
  c->inflight_ += 2;
  return c;
}

void Loop::arm_accept(Conn& c) {
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = c.fd_;
  sqe->ioprio = IORING_ACCEPT_MULTISHOT;
  sqe->accept_flags = SOCK_CLOEXEC | SOCK_NONBLOCK;
  sqe->user_data = user_data(c, kOpAccept);
  c.recv_armed_ = true;
  ++c.inflight_;
}

void Loop::arm_recv(Conn& c) {
  RL_ASSERT(!c.recv_armed_);
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = c.fd_;
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = bufs_->group_id();
  sqe->user_data = user_data(c, kOpRecv);
  c.recv_armed_ = true;
  ++c.inflight_;
}

void Loop::pause_recv(Conn& c) {
  c.recv_wanted_ = false;
  if (!c.recv_armed_ || c.state_ == ConnState::closing) return;
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = user_data(c, kOpRecv);
  sqe->user_data = user_data(c, kOpCancel);
  ++c.inflight_;
}

void Loop::resume_recv(Conn& c) {
  if (c.state_ == ConnState::closing || c.state_ == ConnState::lingering) return;
  c.recv_wanted_ = true;
  // A still-armed receive (its cancel not yet completed) re-arms when its final CQE comes.
  if (!c.recv_armed_ && !c.starved_) arm_recv(c);
}

void Loop::recycle(uint16_t bid) { bufs_->recycle(bid); }

void Loop::send(Conn& c, const BytesRef& bytes, size_t begin, size_t end) {
  RL_ASSERT(begin <= end && end <= bytes.size() && end <= UINT32_MAX);
  if (c.state_ != ConnState::open || begin == end) return;
  c.out_.push_back(Conn::Chunk{bytes, static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
  c.out_bytes_ += end - begin;
  stats_->queued_send_bytes.add(end - begin);
  if (!c.dirty_ && !c.send_inflight_) {
    c.dirty_ = true;
    dirty_.push_back(c.slot_);
  }
}

// Gathers up to kMaxIovecs queued chunks into one sendmsg. The iovecs and msghdr live in
// the Conn and the chunks stay queued until the completion, so the kernel's view of them
// stays valid however long the send takes.
void Loop::submit_send(Conn& c) {
  RL_ASSERT(!c.send_inflight_ && !c.out_.empty());
  size_t n = c.out_.size() < kMaxIovecs ? c.out_.size() : kMaxIovecs;
  c.iov_.resize(n);
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const Conn::Chunk& ch = c.out_[i];
    c.iov_[i].iov_base = const_cast<uint8_t*>(ch.bytes.data() + ch.begin);
    c.iov_[i].iov_len = ch.end - ch.begin;
    total += ch.end - ch.begin;
  }
  submit_sendmsg(c, total, false);
}

void Loop::send_external(Conn& c, std::span<const iovec> iov, size_t bytes) {
  RL_ASSERT(can_send_external(c) && !iov.empty() && iov.size() <= kMaxIovecs);
  c.iov_.assign(iov.begin(), iov.end());
  submit_sendmsg(c, bytes, true);
}

// One SENDMSG of the iovecs in c.iov_ (they and the msghdr stay in the Conn until it completes).
void Loop::submit_sendmsg(Conn& c, size_t bytes, bool external) {
  std::memset(&c.msg_, 0, sizeof c.msg_);
  c.msg_.msg_iov = c.iov_.data();
  c.msg_.msg_iovlen = c.iov_.size();
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_SENDMSG;
  sqe->fd = c.fd_;
  sqe->addr = reinterpret_cast<uint64_t>(&c.msg_);
  sqe->len = 1;
  sqe->msg_flags = MSG_NOSIGNAL;
  sqe->user_data = user_data(c, kOpSend);
  c.send_inflight_ = true;
  c.external_ = external;
  c.inflight_bytes_ = bytes;
  ++c.inflight_;
  stats_->sends.add();
  stats_->send_iovecs.add(c.iov_.size());
}

void Loop::flush_sends() {
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Conn* c = conns_[dirty_[i]].get();
    if (c == nullptr || !c->dirty_) continue;
    c->dirty_ = false;
    bool can_send = c->state_ == ConnState::open || c->state_ == ConnState::draining;
    if (can_send && !c->send_inflight_ && !c->out_.empty()) submit_send(*c);
  }
  dirty_.clear();
}

void Loop::close(Conn& c, CloseReason reason, bool drain) {
  if (c.state_ == ConnState::closing || c.state_ == ConnState::lingering) return;
  if (c.state_ == ConnState::open) {
    c.reason_ = reason;
    if (!c.listener_) stats_->closed(reason);
    if (c.handler_) c.handler_->on_close(*this, c, reason);
    if (drain && !c.listener_ && !c.connecting_) {
      c.state_ = ConnState::draining;
      c.deadline_ms_ = now_ms_ + options_.drain_timeout_ms;
      if (c.out_bytes_ == 0) finish_drain(c);
      return;
    }
  }
  // open without drain, or a draining Conn told to stop waiting.
  teardown(c);
}

// The queue is written: send our FIN and wait (briefly) for the peer's, reading and
// discarding meanwhile. Closing a socket with unread input would send an RST that can
// destroy the tail we just wrote (an HTTP 400, a WebSocket close frame).
void Loop::finish_drain(Conn& c) {
  if (::shutdown(c.fd_, SHUT_WR) < 0) {
    teardown(c);
    return;
  }
  c.state_ = ConnState::lingering;
  c.deadline_ms_ = now_ms_ + options_.drain_timeout_ms;
  if (c.eof_) teardown(c);
  else if (!c.recv_armed_ && !c.starved_) arm_recv(c);
}

void Loop::teardown(Conn& c) {
  if (c.state_ == ConnState::closing) return;
  c.state_ = ConnState::closing;
  c.recv_wanted_ = false;
  // Queued bytes stop counting now; the chunks themselves stay until the last completion,
  // since an in-flight sendmsg may still read them.
  stats_->queued_send_bytes.sub(c.out_bytes_);
  c.out_bytes_ = 0;
  // Wakes a blocked receive or send (they complete with 0 or EPIPE) even where cancellation
  // cannot reach them; ENOTCONN (never connected) is harmless.
  if (!c.listener_) ::shutdown(c.fd_, SHUT_RDWR);
  if (c.inflight_ > 0) {
    io_uring_sqe* sqe = ring_->get_sqe();
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = c.fd_;
    sqe->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    sqe->user_data = user_data(c, kOpCancel);
    ++c.inflight_;
  }
  maybe_release(c);
}

void Loop::maybe_release(Conn& c) {
  if (c.state_ != ConnState::closing || c.inflight_ > 0) return;
  releasable_.push_back(c.slot_);
}

// Frees Conns whose last completion has arrived. Runs after a completion batch, so no
// handler of the batch still holds a reference.
void Loop::release_pending() {
  for (uint32_t slot : releasable_) {
    Conn* c = conns_[slot].get();
    if (c == nullptr || c->fd_ < 0) continue;
    RL_ASSERT(c->state_ == ConnState::closing && c->inflight_ == 0);
    ::close(c->fd_);
    c->fd_ = -1;
    if (!c->listener_) stats_->connections_open.sub();
    c->out_.clear();
    c->handler_.reset();
    by_id_.erase(c->id_);
    free_slots_.push_back(slot);
  }
  releasable_.clear();
}

Conn* Loop::find(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  Conn* c = conns_[it->second].get();
  return c != nullptr && c->fd_ >= 0 ? c : nullptr;
}

int Loop::run_once(bool block) {
  flush_sends();
  bufs_->publish();
  int r = ring_->submit_and_wait(block ? 1 : 0);
  // EAGAIN/EBUSY: the kernel is short of memory for requests or holds overflowed
  // completions; reaping below makes room and the next turn submits again.
  if (r < 0 && r != -EAGAIN && r != -EBUSY) return r;
  now_ms_ = monotonic_ms();
  for (int rounds = 0; rounds < 4; ++rounds) {
    ring_->reap([this](const io_uring_cqe& cqe) { dispatch(cqe); });
    if (!ring_->cq_overflowed()) break;
    // Completions waiting in the kernel's overflow list: enter to move them into the ring.
    stats_->cq_overflows.add();
    ring_->submit_and_wait(0);
  }
  if (ring_->dropped_cqes() > 0) {
    RL_LOG_ERROR("io", "io_uring dropped %u completions; connection accounting is broken", ring_->dropped_cqes());
    return -EOVERFLOW;
  }
  rearm_starved();
  release_pending();
  stats_->submissions.set(ring_->submissions());
  stats_->completions.set(ring_->completions());
  stats_->enters.set(ring_->enters());
  stats_->sqe_backlog.set(ring_->backlogged());
  return 0;
}

void Loop::shutdown() {
  RL_ASSERT(by_id_.empty());
  stopping_ = true;
  io_uring_sqe* sqe = ring_->get_sqe();
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->cancel_flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
  sqe->user_data = encode_user_data(kLoopSlot, 0, kOpCancel);
  bool cancel_done = false;
  while (wake_armed_ || tick_armed_ || !cancel_done) {
    if (ring_->submit_and_wait(1) < 0) break;
    ring_->reap([&](const io_uring_cqe& cqe) {
      uint8_t op = decode_op(cqe.user_data);
      if (op == kOpWake) wake_armed_ = false;
      else if (op == kOpTick) tick_armed_ = false;
      else if (op == kOpCancel) cancel_done = true;
    });
  }
}

}  // namespace ringlay::io
