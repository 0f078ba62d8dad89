// SPDX-License-Identifier: MIT
// The front door: one accepted TCP connection. It speaks HTTP/1.1 (keep-alive, one request
// at a time handed to TypeScript, its response written here) until a WebSocket upgrade on
// /xrpc/com.atproto.sync.subscribeRepos turns it into a firehose consumer, whose writes all
// go through the fan-out core (the 101 included, queued as its first control item, so no
// frame published after the attach is missed and the socket keeps one writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fanout/fanout.h"
#include "http/request_parser.h"
#include "io/driver.h"
#include "ws/close_handshake.h"
#include "ws/frame_parser.h"

namespace ringlay::io {

inline constexpr std::string_view kSubscribeReposPath = "/xrpc/com.atproto.sync.subscribeRepos";

// Accepts connections for one listening socket.
class ListenerHandler final : public DriverHandler {
 public:
  explicit ListenerHandler(Driver& driver) : DriverHandler(HandlerKind::listener), driver_(driver) {}
  void on_accept(Loop& loop, Conn& listener, int fd, const sockaddr_storage& peer) override;

 private:
  Driver& driver_;
};

class HttpConn final : public DriverHandler {
 public:
  explicit HttpConn(Driver& driver);
  ~HttpConn() override;

  bool on_data(Loop& loop, Conn& conn, const RecvBuffer& buf) override;
  void on_recv_end(Loop& loop, Conn& conn, int res) override;
  void on_send_done(Loop& loop, Conn& conn, size_t bytes) override;
  void on_tick(Loop& loop, Conn& conn, uint64_t now_ms) override;
  void on_close(Loop& loop, Conn& conn, CloseReason reason) override;

  // TypeScript's answer to request `seq` (stale answers are dropped).
  void respond(Loop& loop, Conn& conn, Command& cmd);
  // Consumers: send the fan-out core's next batch, or close when it says so.
  void pump(Loop& loop, Conn& conn);
  // Transport shutdown: consumers get 1001, HTTP connections close after their answer.
  void shut_down(Loop& loop, Conn& conn);
  bool is_consumer() const { return mode_ == Mode::consumer; }

 private:
  enum class Mode : uint8_t { http, consumer };

  void process_requests(Loop& loop, Conn& conn);
  void refuse(Loop& loop, Conn& conn, std::string response, CloseReason reason);
  void hand_to_js(Loop& loop, Conn& conn, const http::Request& req);
  void upgrade(Loop& loop, Conn& conn, const http::Request& req);
  std::string bad_cursor_response();
  void on_ws_bytes(Loop& loop, Conn& conn, std::span<const uint8_t> bytes);
  void begin_close(uint16_t code, const char* reason);

  Driver& driver_;
  Mode mode_ = Mode::http;
  http::RequestParser parser_;
  bool awaiting_ = false;        // a request is with TypeScript
  bool recv_paused_ = false;     // pipelined bytes over the bound while awaiting_
  bool head_only_ = false;       // the awaited request is HEAD
  bool close_after_ = false;     // the awaited request asked for Connection: close
  uint64_t seq_ = 0;             // of the awaited request
  uint64_t idle_since_ms_ = 0;   // last request answered (keep-alive idle timer)
  uint64_t request_since_ms_ = 0;  // first byte of the request being read (0: none)

  // Consumer state.
  fanout::ConsumerId consumer_ = 0;
  std::unique_ptr<ws::FrameParser> ws_;
  ws::CloseHandshake close_{ws::Role::server};
  std::vector<ws::Event> ws_events_;
  fanout::SendBatch batch_;
  bool batch_in_flight_ = false;
  bool reported_ = false;        // consumer_close emitted
  uint16_t peer_close_code_ = 0;
  uint64_t last_heard_ms_ = 0;   // any bytes from the consumer
  uint64_t last_ping_ms_ = 0;
  uint64_t closing_since_ms_ = 0;
  size_t accept_bytes_left_ = 0;  // of the 101, not yet accepted by the socket
};

}  // namespace ringlay::io
