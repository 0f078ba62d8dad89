// SPDX-License-Identifier: MIT
// The parser works in two passes over the buffered bytes: scan_head() finds line ends as bytes
// arrive (remembering where it stopped, so byte-at-a-time input stays linear) and enforces the
// size limits early, before the head is complete; parse_head() then checks the complete head
// in one go. Keeping the syntax checks out of the incremental pass means a split can never land
// in a half-checked token: only "where is the next LF" is incremental.
#include "http/request_parser.h"

#include <cstring>

#include "http/syntax.h"
#include "util/assert.h"

namespace ringlay::http {

const char* error_name(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::bad_request_line: return "bad_request_line";
    case Error::bad_method: return "bad_method";
    case Error::bad_target: return "bad_target";
    case Error::bad_version: return "bad_version";
    case Error::bad_header: return "bad_header";
    case Error::obs_fold: return "obs_fold";
    case Error::bare_lf: return "bare_lf";
    case Error::bad_host: return "bad_host";
    case Error::bad_content_length: return "bad_content_length";
    case Error::content_length_and_transfer_encoding: return "content_length_and_transfer_encoding";
    case Error::uri_too_long: return "uri_too_long";
    case Error::header_too_large: return "header_too_large";
    case Error::too_many_headers: return "too_many_headers";
    case Error::body_too_large: return "body_too_large";
    case Error::transfer_encoding_unsupported: return "transfer_encoding_unsupported";
    case Error::version_not_supported: return "version_not_supported";
  }
  return "unknown";
}

int error_status(Error e) {
  switch (e) {
    case Error::none: return 200;
    case Error::uri_too_long: return 414;
    case Error::header_too_large:
    case Error::too_many_headers: return 431;
    case Error::body_too_large: return 413;
    case Error::transfer_encoding_unsupported: return 501;
    case Error::version_not_supported: return 505;
    default: return 400;
  }
}

std::string_view Request::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

std::string Request::header_joined(std::string_view name) const {
  std::string out;
  for (const Header& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += h.value;
  }
  return out;
}

size_t Request::header_count(std::string_view name) const {
  size_t n = 0;
  for (const Header& h : headers) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

RequestParser::RequestParser(Limits limits) : limits_(limits) {}

void RequestParser::feed(std::span<const uint8_t> bytes) {
  if (error_ != Error::none) return;
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ParseStatus RequestParser::fail(Error e) {
  error_ = e;
  parsed_ = false;
  return ParseStatus::error;
}

bool RequestParser::reject(Error e) {
  fail(e);
  return false;
}

ParseStatus RequestParser::next() {
  if (error_ != Error::none) return ParseStatus::error;
  if (head_end_ == 0) {
    ParseStatus s = scan_head();
    if (s != ParseStatus::request) return s;
    s = parse_head();
    if (s != ParseStatus::request) return s;
  } else {
    // The buffer may have moved since the last call (feed appends): re-point the views. The
    // head was valid before, so this cannot fail.
    ParseStatus again = parse_head();
    RL_ASSERT(again == ParseStatus::request);
  }
  if (buf_.size() - head_end_ < body_size_) return ParseStatus::need_more;
  req_.body = std::string_view(buf_).substr(head_end_, body_size_);
  parsed_ = true;
  return ParseStatus::request;
}

// Finds the blank line ending the head; ParseStatus::request means "head complete".
// Split-invariant by construction: at each LF the checks run in one fixed order (limits, then
// bare LF, then header count), and the checks on an incomplete line fire only when the
// complete line is certain to fail the same limit, so every way of cutting the input into
// reads gives the result of feeding it whole.
ParseStatus RequestParser::scan_head() {
  while (scan_ < buf_.size()) {
    const void* hit = std::memchr(buf_.data() + scan_, '\n', buf_.size() - scan_);
    if (hit == nullptr) {
      scan_ = buf_.size();
      break;
    }
    size_t lf = static_cast<const char*>(hit) - buf_.data();
    bool cr = lf > line_start_ && buf_[lf - 1] == '\r';
    size_t line_len = lf - line_start_ - (cr ? 1 : 0);
    if (lines_ == 0 && line_len > limits_.max_request_line_bytes) return fail(Error::uri_too_long);
    if (lf + 1 - head_start_ > limits_.max_header_bytes) return fail(Error::header_too_large);
    if (!cr) return fail(Error::bare_lf);
    scan_ = line_start_ = lf + 1;
    if (line_len == 0) {
      if (lines_ > 0) {
        head_end_ = lf + 1;
        return ParseStatus::request;
      }
      // RFC 9112 §2.2: ignore empty lines before the request line (some clients send a CRLF
      // after a POST body). A few, not a stream of them.
      if (++empty_lines_ > kMaxEmptyLines) return fail(Error::bad_request_line);
      head_start_ = lf + 1;
      continue;
    }
    ++lines_;
    if (lines_ - 1 > limits_.max_headers) return fail(Error::too_many_headers);
  }
  // Incomplete line: fail early only when the finished line must fail too (it may still end
  // in a CR that does not count, and its LF will count toward the head size).
  size_t line_have = buf_.size() - line_start_;
  if (lines_ == 0 && line_have > limits_.max_request_line_bytes + 1) {
    return fail(Error::uri_too_long);
  }
  if (buf_.size() - head_start_ + 1 > limits_.max_header_bytes) {
    return fail(Error::header_too_large);
  }
  return ParseStatus::need_more;
}

ParseStatus RequestParser::parse_head() {
  std::string_view head = std::string_view(buf_).substr(head_start_, head_end_ - head_start_);
  req_ = Request{};
  size_t eol = head.find("\r\n");
  if (!parse_request_line(head.substr(0, eol))) return ParseStatus::error;
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == pos) break;  // the blank line
    if (!parse_field(head.substr(pos, end - pos))) return ParseStatus::error;
    pos = end + 2;
  }
  if (!finish_fields()) return ParseStatus::error;
  return ParseStatus::request;
}

bool RequestParser::parse_request_line(std::string_view line) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return reject(Error::bad_request_line);
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return reject(Error::bad_method);
  if (target.empty() || target[0] != '/') return reject(Error::bad_target);
  for (char ch : target) {
    uint8_t c = static_cast<uint8_t>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '#') return reject(Error::bad_target);
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) ||
      version[6] != '.' || !digit(version[7])) {
    return reject(Error::bad_version);
  }
  if (version[5] != '1') return reject(Error::version_not_supported);
  req_.method = method;
  req_.target = target;
  size_t q = target.find('?');
  req_.path = target.substr(0, q);
  req_.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  // RFC 9110 §2.5: a higher 1.x minor is handled as the highest we speak.
  req_.version_minor = version[7] == '0' ? 0 : 1;
  return true;
}

bool RequestParser::parse_field(std::string_view line) {
  if (line[0] == ' ' || line[0] == '\t') return reject(Error::obs_fold);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return reject(Error::bad_header);
  // A space before the colon makes the name a non-token (RFC 9112 §5.1 requires rejecting it).
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_token(name) || !is_field_value(value)) return reject(Error::bad_header);
  req_.headers.push_back({name, value});
  return true;
}

namespace {

// Parses every Content-Length element (repeats and lists allowed only if all equal).
bool content_length(const Request& req, size_t& out) {
  bool seen = false;
  for (const Header& h : req.headers) {
    if (!iequals(h.name, "content-length")) continue;
    std::string_view list = h.value;
    while (true) {
      size_t comma = list.find(',');
      std::string_view v = trim_ows(list.substr(0, comma));
      if (v.empty() || v.size() > 15) return false;  // 15 digits: no overflow, far over limits
      size_t n = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (seen && n != out) return false;
      seen = true;
      out = n;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return true;
}

}  // namespace

bool RequestParser::finish_fields() {
  size_t hosts = req_.header_count("host");
  if ((req_.version_minor == 1 && hosts != 1) || hosts > 1) return reject(Error::bad_host);
  bool has_cl = req_.header_count("content-length") > 0;
  if (req_.header_count("transfer-encoding") > 0) {
    return reject(has_cl ? Error::content_length_and_transfer_encoding
                         : Error::transfer_encoding_unsupported);
  }
  body_size_ = 0;
  if (!content_length(req_, body_size_)) return reject(Error::bad_content_length);
  if (body_size_ > limits_.max_body_bytes) return reject(Error::body_too_large);
  bool close = false, keep_alive = false, upgrade = false;
  for (const Header& h : req_.headers) {
    if (!iequals(h.name, "connection")) continue;
    close |= list_has_token(h.value, "close");
    keep_alive |= list_has_token(h.value, "keep-alive");
    upgrade |= list_has_token(h.value, "upgrade");
  }
  req_.keep_alive = req_.version_minor == 1 ? !close : keep_alive && !close;
  req_.upgrade = upgrade && req_.header_count("upgrade") > 0;
  return true;
}

void RequestParser::consume() {
  if (!parsed_) return;
  size_t end = head_end_ + body_size_;
  buf_.erase(0, end);
  start_ = head_start_ = scan_ = line_start_ = 0;
  head_end_ = body_size_ = lines_ = empty_lines_ = 0;
  parsed_ = false;
  req_ = Request{};
}

std::string RequestParser::take_remaining() {
  size_t end = parsed_ ? head_end_ + body_size_ : start_;
  std::string rest = buf_.substr(end);
  buf_.clear();
  start_ = head_start_ = scan_ = line_start_ = head_end_ = body_size_ = lines_ = empty_lines_ = 0;
  parsed_ = false;
  req_ = Request{};
  return rest;
}

}  // namespace ringlay::http
