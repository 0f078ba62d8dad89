// SPDX-License-Identifier: MIT
// HTTP/1.1 response serializer. The transport owns the framing headers: every response gets
// Server (always containing "atproto-relay", the marker other relays use to refuse to
// subscribe to a relay as if it were a PDS), Date, Content-Length and Connection; a handler
// supplies everything else (Content-Type, ...). Handler headers that would break framing or
// inject lines are dropped (counted in the return value), never written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace ringlay::http {

// "ringlay/<version> (atproto-relay)".
std::string server_header_value(std::string_view version);

// Reason phrase for a status ("Not Found"); "Unknown" for codes we never send.
std::string_view status_reason(int status);

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
std::string http_date(std::time_t now);

struct ResponseHead {
  int status = 200;
  std::span<const Header> headers;  // handler headers (Content-Type, ...)
  size_t content_length = 0;
  bool keep_alive = true;     // writes "Connection: keep-alive" or "Connection: close"
  std::string_view server;    // full Server value, see server_header_value()
  std::string_view date;      // http_date() result; the driver caches it per second
  // 101 and 1xx/204/304 responses carry no Content-Length (RFC 9110 §8.6); set false for them.
  bool content_length_header = true;
};

// Appends the status line and header block (ending in the blank line) to `out`. Returns how
// many handler headers were dropped: names reserved by the transport (Server, Date,
// Content-Length, Connection, Transfer-Encoding), names that are not tokens, values with CR, LF
// or other CTLs.
size_t serialize_response_head(const ResponseHead& head, std::string& out);

// A complete response for a parse error: the error's status, a JSON XRPC-style body
// {"error":"BadRequest"|..., "message":"<error_name>"} and "Connection: close".
std::string serialize_error_response(Error e, std::string_view server, std::string_view date);

}  // namespace ringlay::http
