// SPDX-License-Identifier: MIT
// Incremental parser for an HTTP/1.1 response head (status line + header fields), for our
// WebSocket client's handshake: it reads up to the blank line and hands back whatever follows
// (the first WebSocket bytes, if the server sent them in the same segment). Bodies are not
// read: a non-101 answer ends the connection anyway. Same strictness as the request parser
// (no bare LF, no obs-fold, no space before ':'), with a size limit on the head.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringlay::http {

enum class ResponseError : uint8_t {
  none = 0,
  bad_status_line,   // not "HTTP/1.x SP 3DIGIT SP reason CRLF"
  bad_header,        // header syntax (name not a token, space before ':', CTL in value)
  obs_fold,
  bare_lf,
  head_too_large,    // over max_head_bytes before the blank line
};
const char* response_error_name(ResponseError e);

class ResponseParser {
 public:
  explicit ResponseParser(size_t max_head_bytes = 16 * 1024) : max_head_bytes_(max_head_bytes) {}

  enum class Status : uint8_t { need_more, done, error };
  // Feeds bytes; once it returns done, status()/headers()/remaining() are valid and further
  // calls return done without consuming input (they append to remaining()).
  Status feed(std::span<const uint8_t> bytes);
  Status feed(std::string_view bytes) {
    return feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }

  int status() const { return status_; }
  std::string_view reason() const { return reason_; }
  // Lower-case names, values OWS-trimmed, in arrival order (repeats kept).
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  // First value for a lower-case name, "" when absent.
  std::string_view header(std::string_view lower_name) const;
  ResponseError error() const { return error_; }
  // Bytes after the head. Moves them out.
  std::string take_remaining() { return std::move(rest_); }

 private:
  Status fail(ResponseError e);
  bool reject(ResponseError e);  // fail(), for parse_head
  bool parse_head(std::string_view head);

  size_t max_head_bytes_;
  std::string buf_;
  size_t scan_ = 0;
  size_t line_start_ = 0;
  bool done_ = false;
  ResponseError error_ = ResponseError::none;
  int status_ = 0;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string rest_;
};

}  // namespace ringlay::http
