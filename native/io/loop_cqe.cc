// SPDX-License-Identifier: MIT
// Completion handling for the Loop: one function per operation, each with its errno table
// (EINTR/EAGAIN retried, ENOBUFS on a multishot receive is back-pressure, known errnos
// named, anything else counted and logged as unexpected).
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/loop.h"
#include "io/loop_internal.h"
#include "util/assert.h"
#include "util/log.h"

namespace ringlay::io {

void Handler::on_recv_end(Loop& loop, Conn& conn, int res) {
  loop.close(conn, res == 0 ? CloseReason::peer_closed : CloseReason::connection_reset, false);
}

namespace {

// The peer is gone: errnos a receive, send or established socket reports when the other
// end resets or vanishes. Not bugs, not worth a log line each.
bool is_peer_gone(int err) {
  switch (err) {
    case ECONNRESET:
    case EPIPE:
    case ETIMEDOUT:
    case ENOTCONN:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
      return true;
    default:
      return false;
  }
}

}  // namespace

void Loop::dispatch(const io_uring_cqe& cqe) {
  uint8_t op = decode_op(cqe.user_data);
  uint32_t slot = decode_slot(cqe.user_data);
  if (slot == kLoopSlot) {
    on_loop_cqe(op, cqe);
    return;
  }
  RL_ASSERT(slot < conns_.size());
  Conn* c = conns_[slot].get();
  RL_ASSERT(c != nullptr && c->fd_ >= 0 && c->gen_ == decode_gen(cqe.user_data));
  bool final = (cqe.flags & IORING_CQE_F_MORE) == 0;
  switch (op) {
    case kOpAccept: on_accept_cqe(*c, cqe); break;
    case kOpRecv: on_recv_cqe(*c, cqe); break;
    case kOpSend: on_send_cqe(*c, cqe); break;
    case kOpConnect: on_connect_cqe(*c, cqe); break;
    case kOpLinkTimeout:
      // -ETIME: the deadline passed and the connect is being cancelled. -ECANCELED/-ENOENT:
      // the connect finished first.
      if (cqe.res == -ETIME) c->connect_timed_out_ = true;
      break;
    case kOpCancel:
      // Count of cancelled requests, -ENOENT (none left) or -EALREADY (already completing):
      // all fine, their own completions settle the count.
      break;
    default: RL_ASSERT(!"unknown operation in user_data");
  }
  if (final) {
    RL_ASSERT(c->inflight_ > 0);
    --c->inflight_;
    maybe_release(*c);
  }
}

void Loop::on_loop_cqe(uint8_t op, const io_uring_cqe& cqe) {
  if (op == kOpWake) {
    wake_armed_ = false;
    if (cqe.res < 0 && cqe.res != -EINTR && cqe.res != -EAGAIN && cqe.res != -ECANCELED) {
      stats_->unexpected_errors.add();
      RL_LOG_ERROR("io", "wake-up read failed: %s", errno_name(cqe.res));
    }
    if (!stopping_) arm_wake();
    if (on_wake_) on_wake_();
  } else if (op == kOpTick) {
    on_tick_cqe(cqe);
  }
  // kOpCancel at the loop level only comes from shutdown(), which reaps it itself.
}

void Loop::on_accept_cqe(Conn& c, const io_uring_cqe& cqe) {
  bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) c.recv_armed_ = false;
  if (cqe.res >= 0) {
    int fd = cqe.res;
    if (c.state_ != ConnState::open) {
      ::close(fd);
    } else {
      stats_->connections_accepted.add();
      // Multishot accept returns no address; the peer's is one cheap syscall away.
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
      c.handler_->on_accept(*this, c, fd, peer);
    }
  } else {
    switch (-cqe.res) {
      case EINTR:
      case EAGAIN:
      case ECONNABORTED:
      case EPROTO:
        break;  // transient: the next accept will do
      case ECANCELED:
        return;  // the listener is closing
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // Out of fds or memory: stop accepting until the next tick instead of spinning.
        stats_->accept_errors.add();
        RL_LOG_WARN("io", "accept failed: %s; pausing accepts for one tick", errno_name(cqe.res));
        c.accept_backoff_ = true;
        break;
      default:
        stats_->accept_errors.add();
        stats_->unexpected_errors.add();
        RL_LOG_ERROR("io", "accept failed unexpectedly: %s", errno_name(cqe.res));
        c.accept_backoff_ = true;
        break;
    }
  }
  if (!more && c.state_ == ConnState::open && !c.accept_backoff_ && !c.recv_armed_) arm_accept(c);
}

void Loop::rearm_recv_if_wanted(Conn& c) {
  if (c.recv_armed_ || c.starved_ || c.eof_) return;
  bool wanted = (c.recv_wanted_ && (c.state_ == ConnState::open || c.state_ == ConnState::draining)) ||
                c.state_ == ConnState::lingering;
  if (!wanted) return;
  stats_->recv_rearms.add();
  arm_recv(c);
}

void Loop::on_recv_cqe(Conn& c, const io_uring_cqe& cqe) {
  bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) c.recv_armed_ = false;
  if (cqe.flags & IORING_CQE_F_BUFFER) {
    uint16_t bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    bufs_->taken(bid);
    bool done = true;
    if (cqe.res > 0) {
      stats_->bytes_in.add(static_cast<uint64_t>(cqe.res));
      RecvBuffer buf{bid, bufs_->bytes(bid, static_cast<uint32_t>(cqe.res))};
      // Only an open Conn's handler sees bytes; a closing one's are discarded.
      if (c.state_ == ConnState::open && c.handler_) done = c.handler_->on_data(*this, c, buf);
    }
    if (done) bufs_->recycle(bid);
  }
  if (cqe.res > 0) {
    if (!more) rearm_recv_if_wanted(c);
    return;
  }
  int err = -cqe.res;
  if (cqe.res == 0 || is_peer_gone(err)) {
    c.eof_ = true;
    if (c.state_ == ConnState::lingering) teardown(c);
    else if (c.state_ == ConnState::open && c.handler_) c.handler_->on_recv_end(*this, c, cqe.res);
    return;
  }
  switch (err) {
    case ENOBUFS:
      // Back-pressure, not an error: the buffer ring is empty. Park until buffers return.
      stats_->recv_enobufs.add();
      c.starved_ = true;
      starved_.push_back(c.slot_);
      return;
    case EINTR:
    case EAGAIN:
    case ECANCELED:  // pause_recv or teardown; re-armed only if resumed meanwhile
      rearm_recv_if_wanted(c);
      return;
    default:
      stats_->unexpected_errors.add();
      RL_LOG_ERROR("io", "recv failed unexpectedly on conn %llu: %s",
                   static_cast<unsigned long long>(c.id_), errno_name(cqe.res));
      c.eof_ = true;
      if (c.state_ == ConnState::open) close(c, CloseReason::recv_error, false);
      else teardown(c);
      return;
  }
}

void Loop::rearm_starved() {
  if (starved_.empty()) return;
  // Wait for half the ring: re-arming on the first returned buffer would let one busy
  // socket take it and hit ENOBUFS again at once.
  uint32_t threshold = std::max<uint32_t>(1, bufs_->count() / 2);
  if (bufs_->available() < threshold) return;
  std::vector<uint32_t> slots;
  slots.swap(starved_);
  for (uint32_t slot : slots) {
    Conn* c = slot < conns_.size() ? conns_[slot].get() : nullptr;
    if (c == nullptr || c->fd_ < 0 || !c->starved_) continue;
    c->starved_ = false;
    if (c->state_ == ConnState::closing) continue;
    rearm_recv_if_wanted(*c);
  }
}

void Loop::consume_sent(Conn& c, size_t n) {
  c.out_bytes_ -= n;
  stats_->queued_send_bytes.sub(n);
  while (n > 0) {
    RL_ASSERT(!c.out_.empty());
    Conn::Chunk& ch = c.out_.front();
    size_t len = ch.end - ch.begin;
    if (n < len) {
      ch.begin += static_cast<uint32_t>(n);
      return;
    }
    n -= len;
    c.out_.pop_front();
  }
}

void Loop::on_send_cqe(Conn& c, const io_uring_cqe& cqe) {
  c.send_inflight_ = false;
  if (c.state_ == ConnState::closing) return;
  if (cqe.res >= 0) {
    size_t n = static_cast<size_t>(cqe.res);
    RL_ASSERT(n <= c.inflight_bytes_);
    stats_->bytes_out.add(n);
    if (n < c.inflight_bytes_) stats_->partial_sends.add();
    if (c.external_) {
      if (c.state_ == ConnState::open && c.handler_) c.handler_->on_send_done(*this, c, n);
      if (c.state_ == ConnState::draining && c.out_.empty()) finish_drain(c);
      return;
    }
    consume_sent(c, n);
    if (c.state_ == ConnState::open && c.handler_ && n > 0) c.handler_->on_sent(*this, c, n);
    // on_sent may have closed the Conn.
    if (c.state_ == ConnState::closing) return;
    if (!c.out_.empty()) {
      if (!c.dirty_) {
        c.dirty_ = true;
        dirty_.push_back(c.slot_);
      }
    } else if (c.state_ == ConnState::draining) {
      finish_drain(c);
    }
    return;
  }
  int err = -cqe.res;
  if (is_peer_gone(err)) {
    close(c, CloseReason::connection_reset, false);
    return;
  }
  switch (err) {
    case EINTR:
    case EAGAIN:
    case ENOBUFS:
    case ENOMEM:
      // Transient: send again next turn (an external batch is simply re-sent: nothing of
      // it was accepted).
      if (c.external_) {
        if (c.state_ == ConnState::open && c.handler_) c.handler_->on_send_done(*this, c, 0);
        return;
      }
      if (!c.dirty_) {
        c.dirty_ = true;
        dirty_.push_back(c.slot_);
      }
      return;
    case ECANCELED:
      return;
    default:
      stats_->unexpected_errors.add();
      RL_LOG_ERROR("io", "sendmsg failed unexpectedly on conn %llu: %s",
                   static_cast<unsigned long long>(c.id_), errno_name(cqe.res));
      close(c, CloseReason::send_error, false);
      return;
  }
}

void Loop::on_connect_cqe(Conn& c, const io_uring_cqe& cqe) {
  c.connecting_ = false;
  if (c.state_ != ConnState::open) return;
  int res = cqe.res;
  // The linked timeout is the only canceller of a connect on an open Conn (close() moves
  // the Conn out of `open` first).
  if (res == -ECANCELED || c.connect_timed_out_) res = res == 0 ? 0 : -ETIMEDOUT;
  if (res == 0) {
    c.recv_wanted_ = true;
    arm_recv(c);
  }
  c.handler_->on_connect(*this, c, res);
  if (res < 0 && c.state_ == ConnState::open) close(c, CloseReason::connect_error, false);
}

void Loop::on_tick_cqe(const io_uring_cqe& cqe) {
  tick_armed_ = false;
  // -ETIME is the normal expiry; -ECANCELED comes from shutdown().
  if (cqe.res != -ETIME && cqe.res != -ECANCELED && cqe.res != 0) {
    stats_->unexpected_errors.add();
    RL_LOG_ERROR("io", "tick timeout failed: %s", errno_name(cqe.res));
  }
  if (stopping_) return;
  arm_tick();
  now_ms_ = monotonic_ms();
  for (size_t i = 0; i < conns_.size(); ++i) {
    Conn* c = conns_[i].get();
    if (c == nullptr || c->fd_ < 0) continue;
    switch (c->state_) {
      case ConnState::open:
        if (c->listener_ && c->accept_backoff_) {
          c->accept_backoff_ = false;
          if (!c->recv_armed_) arm_accept(*c);
        }
        if (c->handler_) c->handler_->on_tick(*this, *c, now_ms_);
        break;
      case ConnState::draining:
      case ConnState::lingering:
        if (now_ms_ >= c->deadline_ms_) teardown(*c);
        break;
      case ConnState::closing:
        break;
    }
  }
  if (on_tick_) on_tick_(now_ms_);
}

}  // namespace ringlay::io
