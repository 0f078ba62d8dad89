// SPDX-License-Identifier: MIT
// Incremental HTTP/1.1 request parser (RFC 9112), sans-I/O: the driver feeds bytes as they
// arrive, split anywhere (mid-CRLF, mid-header: zlay's handshake crash came from a CRLF split
// across reads), and asks for the next complete request. Strict on purpose: token methods,
// origin-form targets, HTTP/1.0 and HTTP/1.1 only, no obs-fold, no bare LF, no whitespace
// before a colon, exactly one Host on 1.1, Content-Length bodies only (a request with
// Transfer-Encoding gets 501: no chunked request bodies, which closes the CL/TE smuggling
// door). Pipelined requests are parsed one at a time: the driver answers the current one,
// calls consume(), then next() again.
//
// Threading: one owner at a time, no locks. Memory: the parser keeps the unconsumed bytes in
// one buffer, bounded by the limits while a request is being parsed; while a parsed request
// is waiting for consume() the driver should stop feeding once buffered_bytes() exceeds what it
// is willing to hold for pipelining (the parser does not drop bytes itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlay::http {

// Why a request was refused. Each has a status (error_status) and a stable snake_case name
// (error_name) that the driver logs and counts. After an error the connection must be closed
// once the error response (serialize_error_response) has been written.
enum class Error : uint8_t {
  none = 0,
  bad_request_line,        // 400 request line not "method SP target SP version CRLF"
  bad_method,              // 400 method is not a token
  bad_target,              // 400 not origin-form ("/..."), or a byte outside VCHAR, or '#'
  bad_version,             // 400 version not "HTTP/d.d"
  bad_header,              // 400 header name not a token, space before ':', bad value byte
  obs_fold,                // 400 header line starting with SP/HTAB (obsolete line folding)
  bare_lf,                 // 400 LF without CR
  bad_host,                // 400 HTTP/1.1 without Host, or more than one Host
  bad_content_length,      // 400 Content-Length not digits, conflicting repeats, or overflow
  content_length_and_transfer_encoding,  // 400 both present (request smuggling shape)
  uri_too_long,            // 414 request line over Limits::max_request_line_bytes
  header_too_large,        // 431 request line + headers over Limits::max_header_bytes
  too_many_headers,        // 431 more than Limits::max_headers fields
  body_too_large,          // 413 Content-Length over Limits::max_body_bytes (found early)
  transfer_encoding_unsupported,  // 501 any Transfer-Encoding on a request
  version_not_supported,   // 505 HTTP major version other than 1
};
const char* error_name(Error e);
int error_status(Error e);

struct Limits {
  size_t max_request_line_bytes = 8 * 1024;  // over it: 414
  size_t max_header_bytes = 16 * 1024;       // request line + fields + CRLFs; over it: 431
  size_t max_headers = 100;                  // over it: 431
  size_t max_body_bytes = 1024 * 1024;       // over it: 413
};

struct Header {
  std::string_view name;   // as received (compare with iequals)
  std::string_view value;  // OWS trimmed
};

// A parsed request. Every view points into the parser's buffer and stays valid until the next
// non-const call on the parser (feed, next, consume, take_remaining).
struct Request {
  std::string_view method;  // case-sensitive token, e.g. "GET"
  std::string_view target;  // raw request-target, e.g. "/xrpc/x?cursor=5"
  std::string_view path;    // target before '?'
  std::string_view query;   // after '?', without it ("" when absent)
  uint8_t version_minor = 1;  // 0 for HTTP/1.0, 1 for HTTP/1.1
  std::vector<Header> headers;
  std::string_view body;    // Content-Length bytes ("" when none)
  // Whether the connection stays open after the response: HTTP/1.1 unless "Connection: close",
  // HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;
  // Connection has the "upgrade" token and an Upgrade header is present (validate a WebSocket
  // handshake with ws::check_upgrade). After answering an upgrade, the driver takes the rest of
  // the bytes with take_remaining() and stops using the parser.
  bool upgrade = false;

  // First value of a header (case-insensitive name), "" when absent.
  std::string_view header(std::string_view name) const;
  // Every value of a header joined with ", " (how TS sees repeated headers).
  std::string header_joined(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};

enum class ParseStatus : uint8_t {
  need_more,  // no complete request yet: feed more bytes
  request,    // request() is complete; answer it, then consume()
  error,      // error() says why; sticky: send the error response and close
};

class RequestParser {
 public:
  explicit RequestParser(Limits limits = {});

  // Appends bytes received from the peer. Parsing happens in next().
  void feed(std::span<const uint8_t> bytes);
  void feed(std::string_view bytes) {
    feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }
  // Parses as far as the buffered bytes allow. Calling it again without consume() returns the
  // same request. Work is incremental: bytes already scanned are not scanned again.
  ParseStatus next();
  const Request& request() const { return req_; }
  Error error() const { return error_; }
  // Drops the current request's bytes; the next next() looks at the following pipelined one.
  void consume();
  // Bytes held (current request plus anything pipelined after it).
  size_t buffered_bytes() const { return buf_.size() - start_; }
  // After an upgrade request: the bytes after the current request (the first WebSocket bytes,
  // if the client sent any early). The parser is finished after this.
  std::string take_remaining();

 private:
  ParseStatus fail(Error e);
  bool reject(Error e);  // fail() for the bool-returning helpers
  ParseStatus scan_head();
  ParseStatus parse_head();
  bool parse_request_line(std::string_view line);
  bool parse_field(std::string_view line);
  bool finish_fields();

  Limits limits_;
  std::string buf_;
  static constexpr size_t kMaxEmptyLines = 8;
  size_t start_ = 0;        // first byte of the current request in buf_
  size_t head_start_ = 0;   // its request line, after any empty lines (limits count from here)
  size_t scan_ = 0;         // next byte to scan for line ends
  size_t line_start_ = 0;   // start of the line being scanned
  size_t head_end_ = 0;     // one past the blank line once found, else 0
  size_t body_size_ = 0;
  size_t lines_ = 0;        // non-empty lines of the head seen so far
  size_t empty_lines_ = 0;  // empty lines before the request line
  bool parsed_ = false;     // req_ is filled and not yet consumed
  Error error_ = Error::none;
  Request req_;
};

}  // namespace ringlay::http
