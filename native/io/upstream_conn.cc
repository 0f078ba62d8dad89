// SPDX-License-Identifier: MIT
#include "io/upstream_conn.h"

#include <cerrno>
#include <utility>

#include "util/assert.h"
#include "ws/frame.h"

namespace ringlay::io {

namespace {

// The connect errnos TypeScript tells apart (TransportErrorInfo codes).
const char* connect_error_code(int err) {
  switch (err) {
    case ECONNREFUSED: return "connect_refused";
    case ETIMEDOUT: return "handshake_timeout";
    default: return "connect_error";
  }
}

CloseReason connect_close_reason(int err) {
  switch (err) {
    case ECONNREFUSED: return CloseReason::connect_refused;
    case ETIMEDOUT: return CloseReason::connect_timeout;
    default: return CloseReason::connect_error;
  }
}

// tls::Error → (TransportErrorInfo code, counter).
std::pair<const char*, CloseReason> tls_error(tls::Error e) {
  switch (e) {
    case tls::Error::cert_untrusted: return {"cert_untrusted", CloseReason::cert_untrusted};
    case tls::Error::cert_hostname_mismatch: return {"cert_hostname_mismatch", CloseReason::cert_hostname_mismatch};
    case tls::Error::cert_expired:
    case tls::Error::cert_not_yet_valid: return {"cert_expired", CloseReason::cert_untrusted};
    default: return {"tls_error", CloseReason::tls_error};
  }
}

}  // namespace

UpstreamConn::UpstreamConn(Driver& driver, uint64_t upstream_id, std::unique_ptr<UpstreamSpec> spec)
    : DriverHandler(HandlerKind::upstream), driver_(driver), upstream_id_(upstream_id), spec_(std::move(spec)) {
  started_ms_ = driver.loop().now_ms();
  driver.stats().upstreams.add();
}

UpstreamConn::~UpstreamConn() { driver_.stats().upstreams.sub(); }

void UpstreamConn::on_connect(Loop& loop, Conn& conn, int res) {
  if (res < 0) {
    fail(loop, conn, connect_close_reason(-res), ws::kCloseAbnormal, connect_error_code(-res),
         std::string("connect to ") + spec_->address + " failed: " + errno_name(res));
    return;
  }
  start_session(loop, conn);
}

void UpstreamConn::start_session(Loop& loop, Conn& conn) {
  stage_ = Stage::handshake;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  for (const HeaderPair& h : spec_->headers) headers.emplace_back(h.name, h.value);
  ws::ClientRequestOptions req;
  req.host = spec_->host_header;
  req.path_and_query = spec_->path_and_query;
  req.user_agent = driver_.config().user_agent;
  req.headers = headers;
  handshake_ = std::make_unique<ws::ClientHandshake>(req);
  BytesRef request = BytesRef::copy_of(handshake_->request());
  if (spec_->tls) {
    if (!driver_.config().tls) {
      fail(loop, conn, CloseReason::tls_error, ws::kCloseAbnormal, "tls_error", "no CA certificates to verify with");
      return;
    }
    tls_ = std::make_unique<tls::Client>(*driver_.config().tls, spec_->host);
    if (tls_->start() == tls::Status::error) return fail_tls(loop, conn);
    // Held by the TLS client until its handshake completes.
    write_plain(loop, conn, request);
    return;
  }
  write_plain(loop, conn, request);
}

void UpstreamConn::write_plain(Loop& loop, Conn& conn, const BytesRef& bytes) {
  if (!tls_) {
    loop.send(conn, bytes);
    return;
  }
  if (tls_->write(bytes.span()) == tls::Status::error) return fail_tls(loop, conn);
  flush_tls(loop, conn);
}

void UpstreamConn::flush_tls(Loop& loop, Conn& conn) {
  if (tls_->pending_output() == 0) return;
  BytesRef out = tls_->take_output();
  if (!out) {
    fail(loop, conn, CloseReason::out_of_memory, ws::kCloseAbnormal, "tls_error", "out of memory");
    return;
  }
  loop.send(conn, out);
}

void UpstreamConn::fail_tls(Loop& loop, Conn& conn) {
  // An alert for the peer may be waiting; it goes out before the close.
  if (tls_->pending_output() > 0) flush_tls(loop, conn);
  auto [code, reason] = tls_error(tls_->error());
  fail(loop, conn, reason, ws::kCloseAbnormal, code, tls_->message());
}

bool UpstreamConn::on_data(Loop& loop, Conn& conn, const RecvBuffer& buf) {
  alive_ = true;
  if (!tls_) {
    on_plain(loop, conn, buf.bytes);
    return true;
  }
  plain_.clear();
  tls::Status st = tls_->feed(buf.bytes, plain_);
  if (tls_->pending_output() > 0) flush_tls(loop, conn);
  if (!plain_.empty()) on_plain(loop, conn, {reinterpret_cast<const uint8_t*>(plain_.data()), plain_.size()});
  if (st == tls::Status::error && conn.is_open()) fail_tls(loop, conn);
  return true;
}

void UpstreamConn::on_plain(Loop& loop, Conn& conn, std::span<const uint8_t> bytes) {
  if (stage_ != Stage::handshake) {
    if (ws_) on_frames(loop, conn, bytes);
    return;
  }
  switch (handshake_->feed(bytes)) {
    case ws::ClientHandshake::Status::need_more:
      return;
    case ws::ClientHandshake::Status::failed:
      fail(loop, conn, CloseReason::bad_handshake, ws::kCloseAbnormal, "bad_handshake", handshake_->error_message());
      return;
    case ws::ClientHandshake::Status::open:
      break;
  }
  stage_ = Stage::open;
  last_ping_ms_ = loop.now_ms();
  Event e;
  e.kind = EventKind::upstream_open;
  e.id = upstream_id_;
  e.code = handshake_->status();
  for (const auto& [name, value] : handshake_->headers()) {
    bool merged = false;
    for (HeaderPair& h : e.headers) {
      if (h.name == name) {
        h.value.append(", ").append(value);
        merged = true;
      }
    }
    if (!merged) e.headers.push_back(HeaderPair{name, value});
  }
  driver_.emit(std::move(e));
  ws::Options opts;
  opts.role = ws::Role::client;
  opts.max_message_bytes = spec_->max_message_bytes;
  ws_ = std::make_unique<ws::FrameParser>(opts);
  std::string rest = handshake_->take_remaining();
  handshake_.reset();
  if (!rest.empty()) on_frames(loop, conn, {reinterpret_cast<const uint8_t*>(rest.data()), rest.size()});
}

void UpstreamConn::on_frames(Loop& loop, Conn& conn, std::span<const uint8_t> bytes) {
  events_.clear();
  ws::FeedStatus st = ws_->feed(bytes, events_);
  for (ws::Event& ev : events_) {
    switch (ev.kind) {
      case ws::EventKind::message:
        if (ev.text) {
          start_close(loop, conn, ws::kCloseUnsupportedData, "");
          protocol_failed_ = true;
          failure_ = CloseReason::protocol_error;
          error_code_ = "protocol_error";
          error_message_ = "text message on a binary event stream";
          // After a protocol error nothing the server says matters: our close frame, our
          // FIN, done (as the ws package does).
          loop.close(conn, failure_, true);
          return;
        }
        if (stage_ != Stage::open) break;  // closing: what comes now is not delivered
        driver_.stats().upstream_messages.add();
        pending_.push_back(std::move(ev.data));
        if (!listed_) {
          listed_ = true;
          driver_.upstream_has_messages(conn.id());
        }
        break;
      case ws::EventKind::ping:
        send_frame(loop, conn, ws::Opcode::pong, ev.data.span());
        break;
      case ws::EventKind::pong:
        break;
      case ws::EventKind::close:
        close_reason_ = ev.close_reason;
        close_code_ = ev.close_code;
        if (close_.on_peer_close(ev.close_code)) {
          std::string payload = ws::close_payload(close_.reply_code(), "");
          send_frame(loop, conn, ws::Opcode::close, ws::as_bytes(payload));
        }
        stage_ = Stage::closing;
        if (closing_since_ms_ == 0) closing_since_ms_ = loop.now_ms();
        if (close_.complete()) {
          // Both close frames exchanged: send our FIN once the reply is out and wait
          // (briefly) for the server's; JS hears the close now.
          loop.close(conn, settled_reason(), true);
          return;
        }
        break;
    }
  }
  if (st == ws::FeedStatus::error) {
    ws::Error e = ws_->error();
    bool too_big = e == ws::Error::message_too_big;
    start_close(loop, conn, ws::error_close_code(e), ws::error_name(e));
    // Our code describes this close, whatever the server answers.
    close_code_ = ws::error_close_code(e);
    close_reason_.clear();
    protocol_failed_ = true;
    failure_ = too_big ? CloseReason::message_too_big : CloseReason::protocol_error;
    error_code_ = too_big ? "message_too_big" : "protocol_error";
    error_message_ = ws::error_name(e);
    loop.close(conn, failure_, true);
  }
}

void UpstreamConn::send_frame(Loop& loop, Conn& conn, ws::Opcode op, std::span<const uint8_t> payload) {
  if (!conn.is_open()) return;
  write_plain(loop, conn, ws::encode_client_frame(op, payload, ws::random_mask()));
}

void UpstreamConn::start_close(Loop& loop, Conn& conn, uint16_t code, std::string_view reason) {
  if (stage_ != Stage::open && stage_ != Stage::closing) return;
  if (close_.close_locally(code)) {
    std::string payload = ws::close_payload(code, reason);
    send_frame(loop, conn, ws::Opcode::close, ws::as_bytes(payload));
  }
  if (stage_ == Stage::open) close_code_ = code;
  stage_ = Stage::closing;
  if (closing_since_ms_ == 0) closing_since_ms_ = loop.now_ms();
}

void UpstreamConn::close_by_caller(Loop& loop, Conn& conn, uint16_t code, std::string_view reason) {
  if (!conn.is_open()) return;
  by_caller_ = true;
  if (stage_ == Stage::open || stage_ == Stage::closing) {
    start_close(loop, conn, code, reason);
    return;
  }
  // Not open yet: nothing to close politely.
  close_code_ = ws::kCloseAbnormal;
  loop.close(conn, CloseReason::local_close, false);
}

void UpstreamConn::fail(Loop& loop, Conn& conn, CloseReason reason, uint16_t code, const char* error_code,
                        std::string message, bool drain) {
  if (!conn.is_open()) return;
  close_code_ = code;
  if (!by_caller_ && error_code_.empty()) {
    error_code_ = error_code;
    error_message_ = std::move(message);
  }
  // With drain, anything queued (a TLS alert, our close frame) still goes out first.
  loop.close(conn, reason, drain);
}

CloseReason UpstreamConn::settled_reason() const {
  if (protocol_failed_) return failure_;
  return by_caller_ ? CloseReason::local_close : CloseReason::peer_closed;
}

void UpstreamConn::on_recv_end(Loop& loop, Conn& conn, int res) {
  if (close_.received() || (stage_ == Stage::closing && close_.sent())) {
    // The server ended TCP after the close handshake: the normal end.
    loop.close(conn, settled_reason(), false);
    return;
  }
  if (stage_ == Stage::connecting || stage_ == Stage::handshake) {
    fail(loop, conn, CloseReason::bad_handshake, ws::kCloseAbnormal, tls_ && !tls_->handshake_done() ? "tls_error" : "bad_handshake",
         res == 0 ? "connection closed during the handshake" : std::string("connection failed: ") + errno_name(res));
    return;
  }
  fail(loop, conn, res == 0 ? CloseReason::peer_closed : CloseReason::connection_reset, ws::kCloseAbnormal,
       "connection_lost", res == 0 ? "connection closed without a close frame" : errno_name(res));
}

void UpstreamConn::on_tick(Loop& loop, Conn& conn, uint64_t now_ms) {
  const TransportLimits& l = driver_.config().limits;
  switch (stage_) {
    case Stage::connecting:
      return;  // the connect's linked timeout covers it
    case Stage::handshake:
      if (now_ms - started_ms_ > spec_->handshake_timeout_ms) {
        fail(loop, conn, CloseReason::handshake_timeout, ws::kCloseAbnormal, "handshake_timeout",
             "no WebSocket handshake within " + std::to_string(spec_->handshake_timeout_ms) + " ms");
      }
      return;
    case Stage::closing:
      // The server never ended TCP after the close frames: we do (RFC 6455 §7.1.1).
      if (now_ms - closing_since_ms_ > l.close_timeout_ms) loop.close(conn, settled_reason(), false);
      return;
    case Stage::open:
      break;
  }
  if (spec_->ping_interval_ms == 0 || now_ms - last_ping_ms_ < spec_->ping_interval_ms) return;
  if (!alive_ && !paused_) {
    fail(loop, conn, CloseReason::idle_timeout, ws::kCloseAbnormal, "ping_timeout",
         "no traffic for " + std::to_string(spec_->ping_interval_ms) + " ms after a ping", false);
    return;
  }
  alive_ = false;
  last_ping_ms_ = now_ms;
  send_frame(loop, conn, ws::Opcode::ping, {});
}

void UpstreamConn::set_paused(Loop& loop, Conn& conn, bool paused) {
  if (paused_ == paused || !conn.is_open()) return;
  paused_ = paused;
  if (paused) {
    loop.pause_recv(conn);
    return;
  }
  // A fresh interval: the pong to a ping sent while paused may still be in the socket.
  alive_ = true;
  last_ping_ms_ = loop.now_ms();
  loop.resume_recv(conn);
}

void UpstreamConn::take_messages(std::vector<BytesRef>& out) {
  listed_ = false;
  out.swap(pending_);
  pending_.clear();
}

void UpstreamConn::on_close(Loop& loop, Conn& conn, CloseReason reason) {
  if (reported_) return;
  reported_ = true;
  // Messages that arrived before the close are delivered before it.
  driver_.flush_upstream(conn.id());
  Event e;
  e.kind = EventKind::upstream_close;
  e.id = upstream_id_;
  e.code = close_code_;
  e.a = close_reason_;
  if (!by_caller_ && error_code_.empty() && close_code_ == ws::kCloseAbnormal && reason != CloseReason::stopped) {
    error_code_ = "connection_lost";
    error_message_ = name(reason);
  }
  if (!by_caller_) {
    e.b = error_code_;
    e.c = error_message_;
  }
  driver_.emit(std::move(e));
  if (spec_->relay) driver_.relay_upstream_closed(spec_->relay_host, upstream_id_);
  driver_.upstream_ended(upstream_id_);
}

}  // namespace ringlay::io
