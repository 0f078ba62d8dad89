// SPDX-License-Identifier: MIT
// Incremental WebSocket frame parser for both roles (RFC 6455 §5), sans-I/O: feed bytes as
// they arrive (any split), get whole messages and control frames out. It enforces: masking by
// role (client→server frames masked, server→client not), RSV bits zero (we never negotiate an
// extension), known opcodes, minimal length encoding, control frames ≤ 125 bytes and never
// fragmented, continuation only inside a fragmented message, a maximum message size checked
// on each frame header *before* its payload is buffered (so an oversized message costs no
// memory), UTF-8 of text messages as bytes arrive, and close frame syntax (code, UTF-8 reason).
// Control frames may arrive between the fragments of a message and are reported at once.
//
// What the driver does with the events (the parser itself sends nothing):
//   message  → deliver (upstream) or ignore (a consumer sending us data)
//   ping     → send a pong with the same payload (server: fanout::Fanout::queue_control, so
//              the socket keeps one writer; client: encode_client_frame)
//   pong     → note liveness
//   close    → ws::CloseHandshake (ws/close_handshake.h): if we did not start the close,
//              answer with a close frame carrying the same code, then close TCP (server) or
//              wait for the server to close it (client, with a timeout)
//   error    → send a close frame with error_close_code(error()) and reason error_name(),
//              then close; count error_name()
// After a close frame or an error, feed() ignores further input.
//
// Threading: one owner at a time, no locks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/shared_bytes.h"
#include "ws/frame.h"
#include "ws/utf8.h"

namespace ringlay::ws {

enum class Error : uint8_t {
  none = 0,
  reserved_bits,          // 1002 RSV1-3 set
  bad_opcode,             // 1002 opcode 3-7 or 0xB-0xF
  unmasked_frame,         // 1002 server role: client frame without mask
  masked_frame,           // 1002 client role: server frame with mask
  control_too_long,       // 1002 control payload > 125
  control_fragmented,     // 1002 control frame without FIN
  unexpected_continuation,  // 1002 continuation with no message in progress
  expected_continuation,  // 1002 text/binary while a fragmented message is in progress
  non_minimal_length,     // 1002 length encoded in more bytes than needed
  length_overflow,        // 1002 64-bit length with the top bit set
  bad_close_payload,      // 1002 close payload of 1 byte
  bad_close_code,         // 1002 close code not allowed on the wire
  message_too_big,        // 1009 message over Options::max_message_bytes
  invalid_utf8,           // 1007 text message or close reason not UTF-8
  out_of_memory,          // 1011 allocation for a message failed
};
const char* error_name(Error e);
uint16_t error_close_code(Error e);

enum class EventKind : uint8_t { message, ping, pong, close };

struct Event {
  EventKind kind = EventKind::message;
  bool text = false;   // message: sent as a text message (already validated as UTF-8)
  // message: the whole payload, unmasked (empty with Options::discard_messages);
  // ping/pong: the control payload.
  BytesRef data;
  uint16_t close_code = 0;  // close: the peer's code, kCloseNoStatus (1005) if it sent none
  std::string close_reason;  // close: UTF-8 reason (may be empty)
};

struct Options {
  Role role = Role::server;
  // Largest message (sum of fragments). Consumers: TransportLimits.maxConsumerMessageBytes;
  // upstreams: upstreamMaxMessageBytes (atproto: 5,000,000).
  size_t max_message_bytes = 64 * 1024;
  // Check sizes, UTF-8 and syntax but keep no payload: consumers should not send data, and
  // buffering what they send anyway would be wasted memory.
  bool discard_messages = false;
};

enum class FeedStatus : uint8_t {
  ok,      // everything consumed; more input welcome
  closed,  // a close frame was parsed (it is the last event); the rest is ignored
  error,   // protocol error, see error(); the events before it are valid
};

class FrameParser {
 public:
  explicit FrameParser(Options options) : opt_(options) {}

  // Parses `bytes`, appending events to `out` in wire order.
  FeedStatus feed(std::span<const uint8_t> bytes, std::vector<Event>& out);
  Error error() const { return error_; }
  // Messages delivered so far (whole messages, after reassembly).
  uint64_t messages() const { return messages_; }

 private:
  enum class Stage : uint8_t { header, payload, done };
  size_t read_header(const uint8_t* p, size_t n);
  bool start_frame();
  size_t read_payload(const uint8_t* p, size_t n);
  bool finish_frame(std::vector<Event>& out);
  bool finish_control(std::vector<Event>& out);
  FeedStatus fail(Error e);
  bool reject(Error e);                    // fail(), for the bool-returning steps
  size_t fail_after(Error e, size_t used);  // fail(), for read_payload

  Options opt_;
  Stage stage_ = Stage::header;
  Error error_ = Error::none;
  // Current frame.
  std::array<uint8_t, kMaxHeaderSize> hdr_{};
  uint8_t hdr_have_ = 0;
  uint8_t hdr_need_ = 2;
  bool fin_ = false;
  Opcode op_ = Opcode::continuation;
  bool masked_ = false;
  std::array<uint8_t, 4> mask_{};
  uint64_t frame_len_ = 0;
  uint64_t frame_have_ = 0;
  // Control frame payload (≤ 125 bytes, may arrive split).
  std::array<uint8_t, kMaxControlPayload> ctrl_{};
  // Message in progress: single-frame messages are written straight into `msg_` (allocated at
  // the exact size once the header is known); fragmented ones grow `frag_` and are copied into
  // one exact-size buffer at the final fragment.
  bool in_message_ = false;
  bool msg_text_ = false;
  bool fragmented_ = false;
  uint64_t msg_size_ = 0;
  BytesRef msg_;
  std::vector<uint8_t> frag_;
  Utf8Validator utf8_;
  uint64_t messages_ = 0;
};

}  // namespace ringlay::ws
