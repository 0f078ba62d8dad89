// SPDX-License-Identifier: MIT
#include "io/http_conn.h"

#include <cstring>

#include "http/response.h"
#include "io/net.h"
#include "relay/replay_cursor.h"
#include "util/assert.h"
#include "ws/frame.h"
#include "ws/handshake.h"

namespace ringlay::io {

namespace {

// The fan-out core's reason names (static strings) → the counter they feed.
CloseReason reason_from_name(const char* name) {
  if (std::strcmp(name, "too_slow") == 0) return CloseReason::too_slow;
  if (std::strcmp(name, "peer_closed") == 0) return CloseReason::peer_closed;
  if (std::strcmp(name, "shutdown") == 0) return CloseReason::stopped;
  if (std::strcmp(name, "future_cursor") == 0) return CloseReason::future_cursor;
  if (std::strcmp(name, "replay_error") == 0) return CloseReason::replay_error;
  if (std::strcmp(name, "idle_timeout") == 0) return CloseReason::idle_timeout;
  if (std::strcmp(name, ws::error_name(ws::Error::message_too_big)) == 0) return CloseReason::message_too_big;
  return CloseReason::protocol_error;
}

BytesRef bytes_of(const std::string& s) { return BytesRef::copy_of(s); }

void add_header(std::vector<HeaderPair>& out, std::string_view name, std::string_view value) {
  std::string lower(name);
  for (char& ch : lower) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  for (HeaderPair& h : out) {
    if (h.name == lower) {
      h.value.append(", ").append(value);
      return;
    }
  }
  out.push_back(HeaderPair{std::move(lower), std::string(value)});
}

}  // namespace

void ListenerHandler::on_accept(Loop& loop, Conn&, int fd, const sockaddr_storage& peer) {
  if (driver_.stopping()) {
    ::close(fd);
    return;
  }
  set_nodelay(fd);
  loop.adopt(fd, peer, std::make_unique<HttpConn>(driver_));
}

HttpConn::HttpConn(Driver& driver)
    : DriverHandler(HandlerKind::http),
      driver_(driver),
      parser_(http::Limits{8 * 1024, driver.config().limits.max_header_bytes, 100,
                           driver.config().limits.max_body_bytes}) {
  idle_since_ms_ = driver.loop().now_ms();
}

HttpConn::~HttpConn() = default;

bool HttpConn::on_data(Loop& loop, Conn& conn, const RecvBuffer& buf) {
  if (mode_ == Mode::consumer) {
    last_heard_ms_ = loop.now_ms();
    on_ws_bytes(loop, conn, buf.bytes);
    return true;
  }
  parser_.feed(buf.bytes);
  if (request_since_ms_ == 0 && !awaiting_) request_since_ms_ = loop.now_ms();
  if (awaiting_) {
    // Pipelined bytes wait in the parser; past one full request's worth, stop reading.
    const TransportLimits& l = driver_.config().limits;
    if (!recv_paused_ && parser_.buffered_bytes() > l.max_header_bytes + l.max_body_bytes) {
      recv_paused_ = true;
      loop.pause_recv(conn);
    }
    return true;
  }
  process_requests(loop, conn);
  return true;
}

void HttpConn::process_requests(Loop& loop, Conn& conn) {
  while (mode_ == Mode::http && !awaiting_ && conn.is_open()) {
    switch (parser_.next()) {
      case http::ParseStatus::need_more:
        if (parser_.buffered_bytes() == 0) request_since_ms_ = 0;
        return;
      case http::ParseStatus::error:
        refuse(loop, conn,
               http::serialize_error_response(parser_.error(), driver_.config().server_header, driver_.date()),
               CloseReason::bad_request);
        return;
      case http::ParseStatus::request: {
        const http::Request& req = parser_.request();
        if (req.path == kSubscribeReposPath && req.upgrade) {
          upgrade(loop, conn, req);
          return;
        }
        hand_to_js(loop, conn, req);
        parser_.consume();
        request_since_ms_ = parser_.buffered_bytes() > 0 ? loop.now_ms() : 0;
        break;
      }
    }
  }
}

void HttpConn::hand_to_js(Loop& loop, Conn& conn, const http::Request& req) {
  Event e;
  e.kind = EventKind::http_request;
  e.id = conn.id();
  e.seq = ++seq_;
  e.a = req.method;
  e.b = req.path;
  e.c = req.query;
  e.d = format_address(conn.peer());
  for (const http::Header& h : req.headers) add_header(e.headers, h.name, h.value);
  e.body = BytesRef::copy_of(req.body);
  driver_.emit(std::move(e));
  driver_.stats().http_requests.add();
  awaiting_ = true;
  head_only_ = req.method == "HEAD";
  close_after_ = !req.keep_alive;
}

void HttpConn::respond(Loop& loop, Conn& conn, Command& cmd) {
  if (mode_ != Mode::http || !awaiting_ || cmd.seq != seq_ || !conn.is_open()) return;
  std::vector<http::Header> headers;
  headers.reserve(cmd.headers.size());
  for (const HeaderPair& h : cmd.headers) headers.push_back(http::Header{h.name, h.value});
  // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 §8.6).
  bool no_body = cmd.status < 200 || cmd.status == 204 || cmd.status == 304;
  http::ResponseHead head;
  head.status = cmd.status;
  head.headers = headers;
  head.content_length = no_body ? 0 : cmd.body.size();
  head.keep_alive = !close_after_ && !driver_.stopping();
  head.server = driver_.config().server_header;
  head.date = driver_.date();
  head.content_length_header = !no_body;
  std::string out;
  http::serialize_response_head(head, out);
  loop.send(conn, bytes_of(out));
  if (!no_body && !head_only_ && cmd.body.size() > 0) loop.send(conn, cmd.body);
  awaiting_ = false;
  idle_since_ms_ = loop.now_ms();
  if (!head.keep_alive) {
    loop.close(conn, driver_.stopping() ? CloseReason::stopped : CloseReason::local_close, true);
    return;
  }
  if (recv_paused_) {
    recv_paused_ = false;
    loop.resume_recv(conn);
  }
  process_requests(loop, conn);
}

void HttpConn::refuse(Loop& loop, Conn& conn, std::string response, CloseReason reason) {
  loop.send(conn, bytes_of(response));
  loop.close(conn, reason, true);
}

void HttpConn::upgrade(Loop& loop, Conn& conn, const http::Request& req) {
  const DriverConfig& cfg = driver_.config();
  std::string accept;
  ws::UpgradeError err = ws::check_upgrade(req, &accept);
  if (err != ws::UpgradeError::none) {
    refuse(loop, conn, ws::build_refusal_response(err, cfg.server_header, driver_.date()), CloseReason::bad_handshake);
    return;
  }
  // ?cursor= is checked before the upgrade: a bad one gets 400 (protocol.md §1.1).
  relay::CursorParam cursor = relay::parse_cursor(req.query);
  if (cursor.bad) {
    driver_.fanout().count_bad_cursor();
    refuse(loop, conn, bad_cursor_response(), CloseReason::bad_request);
    return;
  }
  if (driver_.stopping()) {
    http::ResponseHead head;
    head.status = 503;
    head.keep_alive = false;
    head.server = cfg.server_header;
    head.date = driver_.date();
    std::string out;
    http::serialize_response_head(head, out);
    refuse(loop, conn, std::move(out), CloseReason::stopped);
    return;
  }
  std::string query(req.query);
  std::string early = parser_.take_remaining();
  mode_ = Mode::consumer;
  // The 101 goes first, then what the cursor decided (#info, the FutureCursor error, replay);
  // attaching now means no frame published from here on is missed.
  relay::StartDecision start = relay::decide_start(cursor, driver_.replay_log());
  std::string response = ws::build_accept_response(accept, cfg.server_header, driver_.date());
  accept_bytes_left_ = response.size();
  consumer_ = driver_.fanout().attach_from(start, bytes_of(response));
  driver_.consumer_attached(consumer_, conn.id());
  ws::Options opts;
  opts.role = ws::Role::server;
  opts.max_message_bytes = cfg.limits.max_consumer_message_bytes;
  opts.discard_messages = true;
  ws_ = std::make_unique<ws::FrameParser>(opts);
  last_heard_ms_ = last_ping_ms_ = loop.now_ms();
  driver_.stats().consumers.add();
  Event e;
  e.kind = EventKind::consumer_open;
  e.id = conn.id();
  e.b = fanout::name(start.start);
  e.c = std::move(query);
  e.d = format_address(conn.peer());
  driver_.emit(std::move(e));
  if (!early.empty()) {
    on_ws_bytes(loop, conn, {reinterpret_cast<const uint8_t*>(early.data()), early.size()});
  }
}

std::string HttpConn::bad_cursor_response() {
  const std::string& body = relay::bad_cursor_body();
  http::Header type{"Content-Type", "application/json; charset=utf-8"};
  http::ResponseHead head;
  head.status = 400;
  head.headers = std::span<const http::Header>(&type, 1);
  head.content_length = body.size();
  head.keep_alive = false;
  head.server = driver_.config().server_header;
  head.date = driver_.date();
  std::string out;
  http::serialize_response_head(head, out);
  return out + body;
}

void HttpConn::begin_close(uint16_t code, const char* reason) {
  fanout::Fanout& fo = driver_.fanout();
  if (fo.mode(consumer_) == fanout::Mode::closing) return;
  close_.close_locally(code);
  fo.begin_close(consumer_, code, reason);
}

void HttpConn::on_ws_bytes(Loop& loop, Conn& conn, std::span<const uint8_t> bytes) {
  ws_events_.clear();
  ws::FeedStatus st = ws_->feed(bytes, ws_events_);
  fanout::Fanout& fo = driver_.fanout();
  for (ws::Event& ev : ws_events_) {
    switch (ev.kind) {
      case ws::EventKind::ping:
        // A pong is a control frame through the core, so the socket keeps one writer; over
        // the control budget (a ping flood) it is simply not answered.
        fo.queue_control(consumer_, ws::encode_server_frame(ws::Opcode::pong, ev.data.span()));
        break;
      case ws::EventKind::pong:
      case ws::EventKind::message:
        break;  // consumers have nothing to say; the parser already bounded and dropped it
      case ws::EventKind::close:
        peer_close_code_ = ev.close_code;
        if (close_.on_peer_close(ev.close_code) && fo.mode(consumer_) != fanout::Mode::closing) {
          fo.begin_close(consumer_, close_.reply_code(), "peer_closed");
        }
        break;
    }
  }
  if (st != ws::FeedStatus::error) return;
  ws::Error e = ws_->error();
  if (accept_bytes_left_ > 0) {
    // The 101 is not out yet: a close frame cannot follow it. Cut the connection.
    loop.close(conn, reason_from_name(ws::error_name(e)), false);
    return;
  }
  begin_close(ws::error_close_code(e), ws::error_name(e));
}

void HttpConn::pump(Loop& loop, Conn& conn) {
  if (mode_ != Mode::consumer || batch_in_flight_ || !conn.is_open()) return;
  fanout::Fanout& fo = driver_.fanout();
  if (closing_since_ms_ == 0 && fo.mode(consumer_) == fanout::Mode::closing) closing_since_ms_ = loop.now_ms();
  switch (fo.next(consumer_, batch_)) {
    case fanout::Action::none:
      return;
    case fanout::Action::send:
      RL_ASSERT(loop.can_send_external(conn));
      batch_in_flight_ = true;
      loop.send_external(conn, batch_.iov, batch_.bytes);
      return;
    case fanout::Action::close:
      // Everything, our close frame included, is written: end TCP (server side first).
      loop.close(conn, reason_from_name(fo.close_reason(consumer_)), true);
      return;
  }
}

void HttpConn::on_send_done(Loop& loop, Conn& conn, size_t bytes) {
  if (mode_ != Mode::consumer) return;
  batch_in_flight_ = false;
  accept_bytes_left_ -= bytes < accept_bytes_left_ ? bytes : accept_bytes_left_;
  // A closing consumer that still reads keeps its grace: the timer counts from the last
  // progress, so only a stalled one is cut.
  if (closing_since_ms_ != 0 && bytes > 0) closing_since_ms_ = loop.now_ms();
  driver_.fanout().complete(consumer_, batch_, bytes);
  // The driver pumps every ready consumer at the end of the turn.
}

void HttpConn::on_recv_end(Loop& loop, Conn& conn, int res) {
  if (mode_ == Mode::consumer) {
    // After the peer's close frame its FIN is expected: our answer still goes out, then
    // the core says close.
    if (close_.received() && res == 0) return;
    loop.close(conn, res == 0 ? CloseReason::peer_closed : CloseReason::connection_reset, false);
    return;
  }
  if (awaiting_ && res == 0) {
    // Half-close after a request: answer it, then close.
    close_after_ = true;
    return;
  }
  loop.close(conn, res == 0 ? CloseReason::peer_closed : CloseReason::connection_reset, false);
}

void HttpConn::on_tick(Loop& loop, Conn& conn, uint64_t now_ms) {
  const TransportLimits& l = driver_.config().limits;
  if (mode_ == Mode::http) {
    if (awaiting_) return;
    if (request_since_ms_ != 0 && now_ms - request_since_ms_ > l.http_request_timeout_ms) {
      loop.close(conn, CloseReason::idle_timeout, false);
    } else if (request_since_ms_ == 0 && now_ms - idle_since_ms_ > l.http_idle_timeout_ms) {
      loop.close(conn, CloseReason::idle_timeout, true);
    }
    return;
  }
  fanout::Fanout& fo = driver_.fanout();
  if (fo.mode(consumer_) == fanout::Mode::closing) {
    if (closing_since_ms_ == 0) closing_since_ms_ = now_ms;
    // A consumer that stopped reading never drains its close frame: cut it once nothing
    // has moved for the close timeout.
    if (now_ms - closing_since_ms_ > l.close_timeout_ms) {
      loop.close(conn, reason_from_name(fo.close_reason(consumer_)), false);
    }
    return;
  }
  uint32_t interval = l.consumer_ping_interval_ms;
  if (now_ms - last_heard_ms_ >= 4ull * interval) {
    begin_close(ws::kCloseGoingAway, "idle_timeout");
  } else if (now_ms - last_heard_ms_ >= interval && now_ms - last_ping_ms_ >= interval) {
    last_ping_ms_ = now_ms;
    fo.queue_control(consumer_, ws::encode_server_frame(ws::Opcode::ping, {}));
  }
}

void HttpConn::shut_down(Loop& loop, Conn& conn) {
  if (mode_ == Mode::consumer) {
    if (accept_bytes_left_ > 0) loop.close(conn, CloseReason::stopped, false);
    else begin_close(ws::kCloseGoingAway, "shutdown");
    return;
  }
  if (awaiting_) close_after_ = true;
  else loop.close(conn, CloseReason::stopped, true);
}

void HttpConn::on_close(Loop& loop, Conn& conn, CloseReason reason) {
  if (mode_ != Mode::consumer || reported_) return;
  reported_ = true;
  fanout::Fanout& fo = driver_.fanout();
  Event e;
  e.kind = EventKind::consumer_close;
  e.id = conn.id();
  if (fo.mode(consumer_) == fanout::Mode::closing) {
    e.code = fo.close_code(consumer_);
    e.a = fo.close_reason(consumer_);
  } else {
    // The connection ended without our close frame: the peer's code if it sent one.
    e.code = peer_close_code_ != 0 ? peer_close_code_ : ws::kCloseAbnormal;
    e.a = name(reason);
  }
  driver_.emit(std::move(e));
  fo.remove(consumer_);
  driver_.consumer_detached(consumer_);
  driver_.stats().consumers.sub();
}

}  // namespace ringlay::io
