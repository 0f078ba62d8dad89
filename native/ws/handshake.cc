// SPDX-License-Identifier: MIT
#include "ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "http/response.h"
#include "http/syntax.h"

namespace ringlay::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                          static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// RFC 6455 §4.2.1: the key is base64 of 16 bytes: 22 base64 characters and "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (!base64_char(c)) return false;
  }
  return true;
}

}  // namespace

std::string accept_key(std::string_view key) {
  std::string input(key);
  input += kGuid;
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

const char* upgrade_error_name(UpgradeError e) {
  switch (e) {
    case UpgradeError::none: return "none";
    case UpgradeError::not_get: return "not_get";
    case UpgradeError::not_http11: return "not_http11";
    case UpgradeError::missing_upgrade: return "missing_upgrade";
    case UpgradeError::missing_connection_upgrade: return "missing_connection_upgrade";
    case UpgradeError::bad_version: return "bad_version";
    case UpgradeError::bad_key: return "bad_key";
  }
  return "unknown";
}

int upgrade_error_status(UpgradeError e) {
  switch (e) {
    case UpgradeError::none: return 101;
    case UpgradeError::not_get: return 405;
    case UpgradeError::missing_upgrade:
    case UpgradeError::bad_version: return 426;
    default: return 400;
  }
}

UpgradeError check_upgrade(const http::Request& req, std::string* accept) {
  if (req.method != "GET") return UpgradeError::not_get;
  if (req.version_minor != 1) return UpgradeError::not_http11;
  if (!http::list_has_token(req.header_joined("upgrade"), "websocket")) {
    return UpgradeError::missing_upgrade;
  }
  if (!http::list_has_token(req.header_joined("connection"), "upgrade")) {
    return UpgradeError::missing_connection_upgrade;
  }
  if (req.header_count("sec-websocket-version") != 1 ||
      req.header("sec-websocket-version") != "13") {
    return UpgradeError::bad_version;
  }
  if (req.header_count("sec-websocket-key") != 1 || !valid_key(req.header("sec-websocket-key"))) {
    return UpgradeError::bad_key;
  }
  if (accept != nullptr) *accept = accept_key(req.header("sec-websocket-key"));
  return UpgradeError::none;
}

std::string build_accept_response(std::string_view accept, std::string_view server,
                                  std::string_view date) {
  // Built by hand: the generic serializer reserves Connection for keep-alive and would add
  // Content-Length, neither of which belongs in a 101.
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: ";
  out += accept;
  out += "\r\nServer: ";
  out += server;
  if (!date.empty()) {
    out += "\r\nDate: ";
    out += date;
  }
  out += "\r\n\r\n";
  return out;
}

std::string build_refusal_response(UpgradeError e, std::string_view server, std::string_view date) {
  int status = upgrade_error_status(e);
  std::string body = status == 405 ? "{\"error\":\"MethodNotAllowed\",\"message\":\""
                                   : "{\"error\":\"BadRequest\",\"message\":\"";
  body += upgrade_error_name(e);
  body += "\"}";
  http::Header headers[3] = {{"Content-Type", "application/json; charset=utf-8"}};
  size_t n = 1;
  if (status == 426) {
    headers[n++] = {"Upgrade", "websocket"};  // RFC 9110 §15.5.22: a 426 names the protocol
    headers[n++] = {"Sec-WebSocket-Version", "13"};
  } else if (status == 405) {
    headers[n++] = {"Allow", "GET"};
  }
  http::ResponseHead head;
  head.status = status;
  head.headers = {headers, n};
  head.content_length = body.size();
  head.keep_alive = false;
  head.server = server;
  head.date = date;
  std::string out;
  http::serialize_response_head(head, out);
  out += body;
  return out;
}

const char* client_error_name(ClientError e) {
  switch (e) {
    case ClientError::none: return "none";
    case ClientError::bad_response: return "bad_response";
    case ClientError::bad_status: return "bad_status";
    case ClientError::missing_upgrade: return "missing_upgrade";
    case ClientError::missing_connection_upgrade: return "missing_connection_upgrade";
    case ClientError::bad_accept: return "bad_accept";
    case ClientError::unexpected_extension: return "unexpected_extension";
    case ClientError::unexpected_protocol: return "unexpected_protocol";
  }
  return "unknown";
}

ClientHandshake::ClientHandshake(const ClientRequestOptions& opt) {
  std::array<uint8_t, 16> key{};
  // Without the DRBG the key is merely predictable; it is a nonce, not a secret.
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) key.fill(0x42);
  build(opt, key);
}

ClientHandshake::ClientHandshake(const ClientRequestOptions& opt, std::array<uint8_t, 16> key) {
  build(opt, key);
}

namespace {

// Header names the handshake writes itself or that would change framing.
bool reserved_request_header(std::string_view name) {
  return http::iequals(name, "host") || http::iequals(name, "upgrade") ||
         http::iequals(name, "connection") || http::iequals(name, "content-length") ||
         http::iequals(name, "transfer-encoding") || http::iequals(name, "user-agent") ||
         (name.size() >= 14 && http::iequals(name.substr(0, 14), "sec-websocket-"));
}

// The URL parser in TS already percent-encodes; this only guarantees a valid request line.
std::string safe_target(std::string_view target) {
  std::string out;
  if (target.empty() || target[0] != '/') out.push_back('/');
  for (char ch : target) {
    uint8_t c = static_cast<uint8_t>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '#') {
      static const char* hex = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

}  // namespace

void ClientHandshake::build(const ClientRequestOptions& opt, std::array<uint8_t, 16> key) {
  key_ = base64(key.data(), key.size());
  std::string& r = request_;
  r = "GET " + safe_target(opt.path_and_query) + " HTTP/1.1\r\nHost: ";
  for (char c : opt.host) {
    if (http::is_field_value_char(static_cast<uint8_t>(c)) && c != ' ') r.push_back(c);
  }
  r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r += key_;
  r += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!opt.user_agent.empty() && http::is_field_value(opt.user_agent)) {
    r += "User-Agent: ";
    r += opt.user_agent;
    r += "\r\n";
  }
  for (const auto& [name, value] : opt.headers) {
    if (reserved_request_header(name) || !http::is_token(name) || !http::is_field_value(value)) {
      ++dropped_;
      continue;
    }
    r += name;
    r += ": ";
    r += http::trim_ows(value);
    r += "\r\n";
  }
  r += "\r\n";
}

ClientHandshake::Status ClientHandshake::fail(ClientError e, std::string detail) {
  error_ = e;
  message_ = client_error_name(e);
  if (!detail.empty()) message_ += ": " + detail;
  state_ = Status::failed;
  return state_;
}

ClientHandshake::Status ClientHandshake::feed(std::span<const uint8_t> bytes) {
  if (state_ == Status::open) {
    parser_.feed(bytes);  // after the head: kept for take_remaining()
    return state_;
  }
  if (state_ != Status::need_more) return state_;
  switch (parser_.feed(bytes)) {
    case http::ResponseParser::Status::need_more: return state_;
    case http::ResponseParser::Status::error:
      return fail(ClientError::bad_response, http::response_error_name(parser_.error()));
    case http::ResponseParser::Status::done: return validate();
  }
  return state_;
}

ClientHandshake::Status ClientHandshake::validate() {
  auto joined = [this](std::string_view name) {
    std::string out;
    for (const auto& [n, v] : parser_.headers()) {
      if (n != name) continue;
      if (!out.empty()) out += ", ";
      out += v;
    }
    return out;
  };
  if (parser_.status() != 101) {
    std::string detail = std::to_string(parser_.status());
    if (!parser_.reason().empty()) detail += " " + std::string(parser_.reason());
    return fail(ClientError::bad_status, detail);
  }
  if (!http::list_has_token(joined("upgrade"), "websocket")) {
    return fail(ClientError::missing_upgrade, "");
  }
  if (!http::list_has_token(joined("connection"), "upgrade")) {
    return fail(ClientError::missing_connection_upgrade, "");
  }
  std::string accept = joined("sec-websocket-accept");
  if (accept != accept_key(key_)) return fail(ClientError::bad_accept, accept);
  if (!joined("sec-websocket-extensions").empty()) {
    return fail(ClientError::unexpected_extension, joined("sec-websocket-extensions"));
  }
  if (!joined("sec-websocket-protocol").empty()) {
    return fail(ClientError::unexpected_protocol, joined("sec-websocket-protocol"));
  }
  state_ = Status::open;
  return state_;
}

}  // namespace ringlay::ws
