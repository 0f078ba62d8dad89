// SPDX-License-Identifier: MIT
// libFuzzer target for the HTTP/1.1 request and response parsers.
// Input: [config byte] then chunks [len][len bytes]... The stream (all chunk bytes) is parsed
// twice: fed chunk by chunk, and fed whole. Both must give the same requests and the same
// error: the parsers are split-invariant (zlay's handshake crash was a CRLF split across
// reads). Parsed requests are also checked (body length = Content-Length, path + query =
// target), run through the WebSocket upgrade check, and echoed through the serializer, whose
// output must parse back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/request_parser.h"
#include "http/response.h"
#include "http/response_parser.h"
#include "ws/handshake.h"

using namespace ringlay;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

http::Limits limits_from(uint8_t cfg) {
  static const size_t kLines[] = {16, 64, 200, 8192};
  static const size_t kExtra[] = {2, 64, 300, 16384};
  static const size_t kCounts[] = {1, 3, 10, 100};
  static const size_t kBodies[] = {0, 10, 1000, 1 << 20};
  http::Limits l;
  l.max_request_line_bytes = kLines[cfg & 3];
  // Header limit above the line limit (+2 for CRLF) so one byte can only break one limit first.
  l.max_header_bytes = l.max_request_line_bytes + kExtra[(cfg >> 2) & 3];
  l.max_headers = kCounts[(cfg >> 4) & 3];
  l.max_body_bytes = kBodies[(cfg >> 6) & 3];
  return l;
}

void check_request(const http::Request& r, std::vector<std::string>& log) {
  std::string cl(r.header("content-length"));
  if (!cl.empty() && cl.find(',') == std::string::npos) require(std::to_string(r.body.size()) == cl);
  std::string target(r.path);
  if (r.target.find('?') != std::string_view::npos) target += "?" + std::string(r.query);
  require(target == r.target);
  std::string s = std::string(r.method) + " " + std::string(r.target) + " " + std::to_string(r.version_minor) +
                  (r.keep_alive ? " ka" : " close") + (r.upgrade ? " up" : "") + " |" + std::string(r.body);
  for (const http::Header& h : r.headers) s += "\n" + std::string(h.name) + "=" + std::string(h.value);
  std::string accept;
  ws::UpgradeError ue = ws::check_upgrade(r, &accept);
  s += ws::upgrade_error_name(ue);
  log.push_back(std::move(s));
  // The serializer never emits a head that does not parse back.
  http::ResponseHead head;
  head.status = 200;
  head.headers = r.headers;
  head.content_length = r.body.size();
  head.server = "ringlay/fuzz (atproto-relay)";
  std::string out;
  http::serialize_response_head(head, out);
  http::ResponseParser rp;
  require(rp.feed(out) == http::ResponseParser::Status::done);
  require(rp.header("server") == "ringlay/fuzz (atproto-relay)");
}

struct Outcome {
  std::vector<std::string> log;
  std::string end;
};

Outcome run_requests(http::Limits limits, const std::vector<std::string_view>& chunks) {
  http::RequestParser p(limits);
  Outcome o;
  for (std::string_view chunk : chunks) {
    p.feed(chunk);
    while (true) {
      http::ParseStatus s = p.next();
      if (s == http::ParseStatus::need_more) break;
      if (s == http::ParseStatus::error) {
        o.end = http::error_name(p.error());
        return o;
      }
      check_request(p.request(), o.log);
      p.consume();
    }
  }
  o.end = "need_more:" + std::to_string(p.buffered_bytes());
  return o;
}

std::string run_response(const std::vector<std::string_view>& chunks) {
  http::ResponseParser p(512);
  std::string rest;
  for (std::string_view chunk : chunks) {
    http::ResponseParser::Status s = p.feed(chunk);
    if (s == http::ResponseParser::Status::error) return http::response_error_name(p.error());
  }
  std::string out = std::to_string(p.status()) + std::string(p.reason());
  for (const auto& [n, v] : p.headers()) out += "\n" + n + "=" + v;
  return out + "|" + p.take_remaining();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  http::Limits limits = limits_from(data[0]);
  std::vector<std::string_view> chunks;
  std::string whole;
  for (size_t at = 1; at < size;) {
    size_t n = std::min<size_t>(data[at], size - at - 1);
    chunks.emplace_back(reinterpret_cast<const char*>(data) + at + 1, n);
    whole.append(chunks.back());
    at += 1 + n;
  }
  Outcome split = run_requests(limits, chunks);
  Outcome one = run_requests(limits, {whole});
  require(split.log == one.log);
  require(split.end == one.end);
  require(run_response(chunks) == run_response({whole}));
  return 0;
}
