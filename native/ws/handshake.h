// SPDX-License-Identifier: MIT
// The WebSocket opening handshake (RFC 6455 §4), both sides, sans-I/O.
//
// Server: the HTTP request parser has produced a request; check_upgrade() validates it (GET,
// HTTP/1.1, Upgrade: websocket, Connection: upgrade, Sec-WebSocket-Version: 13, a key that is
// base64 of 16 bytes) and build_accept_response() writes the 101. No extension is ever
// accepted (permessage-deflate is refused by not echoing it: compressing per consumer costs
// more CPU than the whole relay, see peers.md A3) and no subprotocol is echoed.
//
// Client: ClientHandshake builds the upgrade request (random key, Host, User-Agent, the
// caller's extra headers) and validates the answer incrementally: 101, Upgrade, Connection,
// the Sec-WebSocket-Accept for our key, no extension or subprotocol we did not ask for. The
// status and every response header are kept (the relay-loop guard reads `server`).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.h"
#include "http/response_parser.h"

namespace ringlay::ws {

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view sec_websocket_key);

// Why an upgrade request is refused, with the HTTP status to answer (upgrade_error_status).
enum class UpgradeError : uint8_t {
  none = 0,
  not_get,              // 405 (event-stream spec: non-GET → 405)
  not_http11,           // 400 HTTP/1.0 cannot upgrade
  missing_upgrade,      // 426 no "Upgrade: websocket" (spec: 426 when Upgrade is missing)
  missing_connection_upgrade,  // 400 Connection lacks the "upgrade" token
  bad_version,          // 426 Sec-WebSocket-Version not 13 (the answer says "...Version: 13")
  bad_key,              // 400 Sec-WebSocket-Key missing, repeated, or not base64 of 16 bytes
};
const char* upgrade_error_name(UpgradeError e);
int upgrade_error_status(UpgradeError e);

// Validates a request as a WebSocket upgrade. On success `accept` (if given) receives the
// Sec-WebSocket-Accept value.
UpgradeError check_upgrade(const http::Request& req, std::string* accept = nullptr);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection, Sec-WebSocket-Accept, Server
// (http::server_header_value) and Date.
std::string build_accept_response(std::string_view accept, std::string_view server,
                                  std::string_view date);
// The refusal for check_upgrade's error: its status, a small JSON body, Connection: close,
// and Sec-WebSocket-Version: 13 for bad_version / missing_upgrade.
std::string build_refusal_response(UpgradeError e, std::string_view server, std::string_view date);

// Why our upstream handshake failed. The driver reports code "bad_handshake" with
// ClientHandshake::error_message() as the message.
enum class ClientError : uint8_t {
  none = 0,
  bad_response,       // unparseable HTTP (detail: the response parser's reason)
  bad_status,         // not 101 (detail: the status and reason phrase)
  missing_upgrade,    // Upgrade header not "websocket"
  missing_connection_upgrade,
  bad_accept,         // Sec-WebSocket-Accept missing or wrong
  unexpected_extension,  // server chose an extension we did not offer
  unexpected_protocol,   // server chose a subprotocol we did not offer
};
const char* client_error_name(ClientError e);

struct ClientRequestOptions {
  std::string_view host;            // Host header value: "host" or "host:port" if not default
  std::string_view path_and_query;  // "/xrpc/com.atproto.sync.subscribeRepos?cursor=5"
  std::string_view user_agent;      // e.g. "ringlay/0.1.0 (atproto-relay)"
  // Extra headers (names and values are checked; invalid ones are dropped and counted in
  // ClientHandshake::dropped_headers()).
  std::span<const std::pair<std::string_view, std::string_view>> headers;
};

class ClientHandshake {
 public:
  // Builds the request with a random key (RAND_bytes).
  explicit ClientHandshake(const ClientRequestOptions& opt);
  // Same, with a fixed 16-byte key (tests).
  ClientHandshake(const ClientRequestOptions& opt, std::array<uint8_t, 16> key);

  // Bytes to send once the connection (and TLS) is up.
  const std::string& request() const { return request_; }
  const std::string& key() const { return key_; }
  size_t dropped_headers() const { return dropped_; }

  enum class Status : uint8_t { need_more, open, failed };
  // Feeds response bytes. `open`: the WebSocket is up; take_remaining() holds any frame bytes
  // that came with the head (and anything fed after open). `failed`: error() and
  // error_message(); status() and headers() are filled if the status line parsed.
  Status feed(std::span<const uint8_t> bytes);
  Status feed(std::string_view bytes) {
    return feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }

  int status() const { return parser_.status(); }
  const std::vector<std::pair<std::string, std::string>>& headers() const {
    return parser_.headers();
  }
  ClientError error() const { return error_; }
  // "<name>: <detail>", e.g. "bad_status: 404 Not Found".
  const std::string& error_message() const { return message_; }
  std::string take_remaining() { return parser_.take_remaining(); }

 private:
  void build(const ClientRequestOptions& opt, std::array<uint8_t, 16> key);
  Status fail(ClientError e, std::string detail);
  Status validate();

  std::string request_;
  std::string key_;
  size_t dropped_ = 0;
  http::ResponseParser parser_;
  Status state_ = Status::need_more;
  ClientError error_ = ClientError::none;
  std::string message_;
};

}  // namespace ringlay::ws
