// SPDX-License-Identifier: MIT
// libFuzzer target for the WebSocket frame parser and the client handshake.
// Input: [config byte] then chunks [len][len bytes]... The stream is parsed fed chunk by chunk
// and fed whole; events and the final status must be identical (reassembly across reads is
// where parsers break). Every message must respect the size limit and, if text, be UTF-8;
// every close code must be one a peer may send. Each message is re-encoded for the opposite
// role and parsed back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ws/frame.h"
#include "ws/frame_parser.h"
#include "ws/handshake.h"
#include "ws/utf8.h"

using namespace ringlay;
using namespace ringlay::ws;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

Options options_from(uint8_t cfg) {
  static const size_t kMax[] = {0, 125, 1000, 1 << 20};
  Options o;
  o.role = (cfg & 1) ? Role::client : Role::server;
  o.discard_messages = (cfg & 2) != 0;
  o.max_message_bytes = kMax[(cfg >> 2) & 3];
  return o;
}

void round_trip(const Options& opt, const Event& e) {
  // Encode as the peer would (a server's peer is a client: masked) and parse again.
  std::array<uint8_t, 4> mask{1, 2, 3, 4};
  Opcode op = e.text ? Opcode::text : Opcode::binary;
  BytesRef frame = opt.role == Role::server ? encode_client_frame(op, e.data.span(), mask)
                                            : encode_server_frame(op, e.data.span());
  FrameParser again(Options{opt.role, opt.max_message_bytes, false});
  std::vector<Event> events;
  require(again.feed(frame.span(), events) == FeedStatus::ok);
  require(events.size() == 1 && events[0].data.view() == e.data.view() && events[0].text == e.text);
}

std::vector<std::string> run_frames(const Options& opt, const std::vector<std::string_view>& chunks) {
  FrameParser p(opt);
  std::vector<Event> events;
  FeedStatus s = FeedStatus::ok;
  for (std::string_view chunk : chunks) {
    s = p.feed(as_bytes(chunk), events);
    if (s != FeedStatus::ok) break;
  }
  std::vector<std::string> log;
  for (const Event& e : events) {
    std::string line = std::to_string(static_cast<int>(e.kind)) + (e.text ? "t" : "b");
    if (e.kind == EventKind::message) {
      if (opt.discard_messages) require(e.data.size() == 0);
      require(e.data.size() <= opt.max_message_bytes);
      if (e.text) require(valid_utf8(e.data.view()));
      if (!opt.discard_messages) round_trip(opt, e);
    } else if (e.kind == EventKind::close) {
      require(e.close_code == kCloseNoStatus || valid_close_code(e.close_code));
      require(valid_utf8(e.close_reason));
      line += std::to_string(e.close_code) + e.close_reason;
    } else {
      require(e.data.size() <= kMaxControlPayload);
    }
    line += "|" + std::string(e.data.view());
    log.push_back(std::move(line));
  }
  log.push_back(std::to_string(static_cast<int>(s)) + error_name(p.error()));
  return log;
}

std::string run_handshake(const std::vector<std::string_view>& chunks) {
  ClientRequestOptions opt{"h", "/", "", {}};
  ClientHandshake hs(opt, std::array<uint8_t, 16>{});
  ClientHandshake::Status s = ClientHandshake::Status::need_more;
  for (std::string_view chunk : chunks) {
    s = hs.feed(chunk);
    if (s == ClientHandshake::Status::failed) break;
  }
  std::string rest = s == ClientHandshake::Status::open ? hs.take_remaining() : "";
  return std::to_string(static_cast<int>(s)) + hs.error_message() + "|" + rest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Options opt = options_from(data[0]);
  std::vector<std::string_view> chunks;
  std::string whole;
  for (size_t at = 1; at < size;) {
    size_t n = std::min<size_t>(data[at], size - at - 1);
    chunks.emplace_back(reinterpret_cast<const char*>(data) + at + 1, n);
    whole.append(chunks.back());
    at += 1 + n;
  }
  require(run_frames(opt, chunks) == run_frames(opt, {whole}));
  if (data[0] & 0x10) require(run_handshake(chunks) == run_handshake({whole}));
  return 0;
}
