// SPDX-License-Identifier: MIT
// Same two-pass shape as the request parser: find the blank line incrementally (bytes are
// scanned once), then check the whole head.
#include "http/response_parser.h"

#include <cstring>

#include "http/syntax.h"

namespace ringlay::http {

const char* response_error_name(ResponseError e) {
  switch (e) {
    case ResponseError::none: return "none";
    case ResponseError::bad_status_line: return "bad_status_line";
    case ResponseError::bad_header: return "bad_header";
    case ResponseError::obs_fold: return "obs_fold";
    case ResponseError::bare_lf: return "bare_lf";
    case ResponseError::head_too_large: return "head_too_large";
  }
  return "unknown";
}

std::string_view ResponseParser::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers_) {
    if (name == lower_name) return value;
  }
  return {};
}

ResponseParser::Status ResponseParser::fail(ResponseError e) {
  error_ = e;
  return Status::error;
}

bool ResponseParser::reject(ResponseError e) {
  fail(e);
  return false;
}

ResponseParser::Status ResponseParser::feed(std::span<const uint8_t> bytes) {
  if (error_ != ResponseError::none) return Status::error;
  if (done_) {
    rest_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::done;
  }
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (scan_ < buf_.size()) {
    const void* hit = std::memchr(buf_.data() + scan_, '\n', buf_.size() - scan_);
    if (hit == nullptr) {
      scan_ = buf_.size();
      break;
    }
    size_t lf = static_cast<const char*>(hit) - buf_.data();
    // Size first: the incomplete-line check below can only ever report the size, so the same
    // order at an LF keeps every split of the input giving one answer.
    if (lf + 1 > max_head_bytes_) return fail(ResponseError::head_too_large);
    if (lf == line_start_ || buf_[lf - 1] != '\r') return fail(ResponseError::bare_lf);
    bool blank = lf - 1 == line_start_;
    scan_ = line_start_ = lf + 1;
    if (blank) {
      if (!parse_head(std::string_view(buf_).substr(0, lf + 1))) return Status::error;
      rest_ = buf_.substr(lf + 1);
      buf_.clear();
      buf_.shrink_to_fit();
      done_ = true;
      return Status::done;
    }
  }
  if (buf_.size() > max_head_bytes_) return fail(ResponseError::head_too_large);
  return Status::need_more;
}

bool ResponseParser::parse_head(std::string_view head) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  // "HTTP/1.x 101 Reason"; the SP before an empty reason is required by RFC 9112 but some
  // servers omit it, which is harmless to accept.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !digit(line[7]) || line[8] != ' ' ||
      !digit(line[9]) || !digit(line[10]) || !digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ') || !is_field_value(line.substr(12))) {
    return reject(ResponseError::bad_status_line);
  }
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  reason_ = line.size() > 13 ? std::string(line.substr(13)) : std::string();
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == pos) break;
    std::string_view field = head.substr(pos, end - pos);
    pos = end + 2;
    if (field[0] == ' ' || field[0] == '\t') return reject(ResponseError::obs_fold);
    size_t colon = field.find(':');
    std::string_view name = field.substr(0, colon);
    if (colon == std::string_view::npos || !is_token(name)) {
      return reject(ResponseError::bad_header);
    }
    std::string_view value = trim_ows(field.substr(colon + 1));
    if (!is_field_value(value)) return reject(ResponseError::bad_header);
    std::string lower(name);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    headers_.emplace_back(std::move(lower), std::string(value));
  }
  return true;
}

}  // namespace ringlay::http
