// SPDX-License-Identifier: MIT
// One upstream subscription: a WebSocket client over TCP or TLS (tls/client.h fed by the
// ring's receives), to an address TypeScript resolved. Stages: connect (with the handshake
// deadline as its linked timeout), TLS handshake with SNI and verification, the HTTP upgrade,
// then binary messages (whole, reassembled, at most max_message_bytes) collected for JS once
// per turn. Keepalive pings; a peer silent for a whole interval after a ping is dropped.
// JS hears onClose exactly once (on_close below), after every message that arrived before.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/driver.h"
#include "tls/client.h"
#include "ws/close_handshake.h"
#include "ws/frame_parser.h"
#include "ws/handshake.h"

namespace ringlay::io {

class UpstreamConn final : public DriverHandler {
 public:
  UpstreamConn(Driver& driver, uint64_t upstream_id, std::unique_ptr<UpstreamSpec> spec);
  ~UpstreamConn() override;

  void on_connect(Loop& loop, Conn& conn, int res) override;
  bool on_data(Loop& loop, Conn& conn, const RecvBuffer& buf) override;
  void on_recv_end(Loop& loop, Conn& conn, int res) override;
  void on_tick(Loop& loop, Conn& conn, uint64_t now_ms) override;
  void on_close(Loop& loop, Conn& conn, CloseReason reason) override;

  // TypeScript's Upstream.close(code, reason); also transport shutdown (1001).
  void close_by_caller(Loop& loop, Conn& conn, uint16_t code, std::string_view reason);
  // Moves the messages collected this turn into `out`.
  void take_messages(std::vector<BytesRef>& out);
  uint64_t upstream_id() const { return upstream_id_; }
  const UpstreamSpec& spec() const { return *spec_; }
  // Relay flow control: stop (or resume) reading. While paused the peer's silence is ours, so
  // the keepalive does not count it.
  void set_paused(Loop& loop, Conn& conn, bool paused);

 private:
  enum class Stage : uint8_t { connecting, handshake, open, closing };

  void start_session(Loop& loop, Conn& conn);
  void on_plain(Loop& loop, Conn& conn, std::span<const uint8_t> bytes);
  void on_frames(Loop& loop, Conn& conn, std::span<const uint8_t> bytes);
  void write_plain(Loop& loop, Conn& conn, const BytesRef& bytes);
  void flush_tls(Loop& loop, Conn& conn);
  void send_frame(Loop& loop, Conn& conn, ws::Opcode op, std::span<const uint8_t> payload);
  // Sends our close frame and waits (close_timeout_ms) for the server to end TCP.
  void start_close(Loop& loop, Conn& conn, uint16_t code, std::string_view reason);
  // Ends the connection now, reporting `code` and the error.
  void fail(Loop& loop, Conn& conn, CloseReason reason, uint16_t code, const char* error_code,
            std::string message, bool drain = true);
  // How a close handshake we are in ends (by the server's FIN or our timeout) is counted.
  CloseReason settled_reason() const;
  void fail_tls(Loop& loop, Conn& conn);

  Driver& driver_;
  uint64_t upstream_id_;
  std::unique_ptr<UpstreamSpec> spec_;
  Stage stage_ = Stage::connecting;
  std::unique_ptr<tls::Client> tls_;
  std::unique_ptr<ws::ClientHandshake> handshake_;
  std::unique_ptr<ws::FrameParser> ws_;
  ws::CloseHandshake close_{ws::Role::client};
  std::string plain_;
  std::vector<ws::Event> events_;
  std::vector<BytesRef> pending_;
  bool listed_ = false;  // in the driver's end-of-turn delivery list
  // What on_close reports.
  bool reported_ = false;
  bool by_caller_ = false;
  bool protocol_failed_ = false;  // our close frame reports an error of theirs
  CloseReason failure_ = CloseReason::protocol_error;
  uint16_t close_code_ = ws::kCloseAbnormal;
  std::string close_reason_;
  std::string error_code_;
  std::string error_message_;
  uint64_t started_ms_ = 0;
  uint64_t closing_since_ms_ = 0;
  uint64_t last_ping_ms_ = 0;
  bool alive_ = true;  // traffic since the last ping
  bool paused_ = false;
};

}  // namespace ringlay::io
