// SPDX-License-Identifier: MIT
#include "ws/frame_parser.h"

#include <random>
#include <string>
#include <vector>

#include "harness.h"

using namespace ringlay;
using namespace ringlay::ws;

namespace {

struct Result {
  FeedStatus status = FeedStatus::ok;
  Error error = Error::none;
  std::vector<std::string> events;  // "msg:t:<bytes>", "ping:<bytes>", "close:<code>:<reason>"
};

std::string describe(const Event& e) {
  switch (e.kind) {
    case EventKind::message: return std::string("msg:") + (e.text ? "t:" : "b:") + std::string(e.data.view());
    case EventKind::ping: return "ping:" + std::string(e.data.view());
    case EventKind::pong: return "pong:" + std::string(e.data.view());
    case EventKind::close: return "close:" + std::to_string(e.close_code) + ":" + e.close_reason;
  }
  return "?";
}

Result parse(Options opt, std::string_view wire, std::vector<size_t> cuts = {}) {
  FrameParser p(opt);
  Result r;
  std::vector<Event> events;
  size_t at = 0;
  cuts.push_back(wire.size());
  for (size_t cut : cuts) {
    r.status = p.feed(as_bytes(wire.substr(at, cut - at)), events);
    at = cut;
    if (r.status != FeedStatus::ok) break;
  }
  r.error = p.error();
  for (const Event& e : events) r.events.push_back(describe(e));
  return r;
}

Options server(size_t max = 1 << 20) { return {Role::server, max, false}; }
Options client(size_t max = 1 << 20) { return {Role::client, max, false}; }

// A client→server frame with an arbitrary first byte (FIN/RSV/opcode), masked.
std::string cframe(uint8_t b0, std::string_view payload, std::array<uint8_t, 4> mask = {9, 8, 7, 6}) {
  FrameHeader h = client_frame_header(Opcode::binary, payload.size(), mask);
  h.bytes[0] = b0;
  std::string out(reinterpret_cast<const char*>(h.bytes.data()), h.size);
  std::string body(payload);
  apply_mask(reinterpret_cast<uint8_t*>(body.data()), body.size(), mask);
  return out + body;
}

// A server→client frame, unmasked.
std::string sframe(uint8_t b0, std::string_view payload) {
  FrameHeader h = server_frame_header(Opcode::binary, payload.size());
  h.bytes[0] = b0;
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.size) + std::string(payload);
}

}  // namespace

TEST(ws_rfc6455_examples) {
  CHECK_EQ(parse(client(), "\x81\x05Hello").events.at(0), "msg:t:Hello");
  CHECK_EQ(parse(server(), "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58").events.at(0), "msg:t:Hello");
  Result frag = parse(client(), "\x01\x03Hel\x80\x02lo");
  REQUIRE(frag.events.size() == 1);
  CHECK_EQ(frag.events[0], "msg:t:Hello");
  CHECK_EQ(parse(client(), "\x89\x05Hello").events.at(0), "ping:Hello");
  std::string b256 = std::string("\x82\x7e\x01\x00", 4) + std::string(256, 'x');
  CHECK_EQ(parse(client(), b256).events.at(0), "msg:b:" + std::string(256, 'x'));
  std::string b64k = std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) + std::string(65536, 'y');
  CHECK_EQ(parse(client(), b64k).events.at(0), "msg:b:" + std::string(65536, 'y'));
}

TEST(ws_every_split_with_interleaved_control_frames) {
  // Fragmented binary with a ping and a pong between the fragments, a text message, a close.
  std::string wire = cframe(0x02, "frag-one,") + cframe(0x89, "p1") + cframe(0x00, "frag-two,") +
                     cframe(0x8A, "") + cframe(0x80, "end") + cframe(0x81, "t\xc3\xa9xt") +
                     cframe(0x88, "\x03\xe8" "bye");
  std::vector<std::string> want = {"ping:p1", "pong:", "msg:b:frag-one,frag-two,end", "msg:t:t\xc3\xa9xt",
                                   "close:1000:bye"};
  for (size_t a = 0; a <= wire.size(); ++a) {
    Result r = parse(server(), wire, {a});
    REQUIRE(r.status == FeedStatus::closed);
    REQUIRE(r.events == want);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < wire.size(); ++i) every.push_back(i);
  CHECK(parse(server(), wire, every).events == want);
}

TEST(ws_random_splits_of_large_masked_messages) {
  std::mt19937 rng(7);
  std::string payload(200000, '\0');
  for (char& c : payload) c = static_cast<char>(rng());
  std::string wire = cframe(0x02, payload.substr(0, 70000)) + cframe(0x80, payload.substr(70000)) +
                     cframe(0x82, payload.substr(0, 300));
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < wire.size();) {
      at += 1 + rng() % 5000;
      if (at < wire.size()) cuts.push_back(at);
    }
    Result r = parse(server(), wire, cuts);
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0] == "msg:b:" + payload);
    CHECK(r.events[1] == "msg:b:" + payload.substr(0, 300));
  }
}

TEST(ws_masking_is_enforced_by_role) {
  CHECK_EQ(std::string_view(error_name(parse(server(), sframe(0x82, "x")).error)), "unmasked_frame");
  CHECK_EQ(std::string_view(error_name(parse(client(), cframe(0x82, "x")).error)), "masked_frame");
  CHECK_EQ(error_close_code(Error::unmasked_frame), kCloseProtocolError);
}

TEST(ws_protocol_errors) {
  struct Case {
    std::string wire;
    Error e;
  } cases[] = {
      {sframe(0xC2, "x"), Error::reserved_bits},
      {sframe(0xA2, "x"), Error::reserved_bits},
      {sframe(0x83, "x"), Error::bad_opcode},
      {sframe(0x8B, ""), Error::bad_opcode},
      {sframe(0x89, std::string(126, 'p')), Error::control_too_long},
      {sframe(0x09, "p"), Error::control_fragmented},
      {sframe(0x80, "x"), Error::unexpected_continuation},
      {sframe(0x02, "a") + sframe(0x82, "b"), Error::expected_continuation},
      {std::string("\x82\x7e\x00\x7d", 4) + std::string(125, 'x'), Error::non_minimal_length},
      {std::string("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10), Error::non_minimal_length},
      {std::string("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10), Error::length_overflow},
      {sframe(0x88, "\x03"), Error::bad_close_payload},
      {sframe(0x81, "\xc3\x28"), Error::invalid_utf8},
  };
  for (const Case& c : cases) {
    Result r = parse(client(), c.wire);
    CHECK(r.status == FeedStatus::error);
    CHECK_EQ(std::string_view(error_name(r.error)), std::string_view(error_name(c.e)));
  }
  CHECK_EQ(error_close_code(Error::invalid_utf8), kCloseInvalidData);
}

TEST(ws_close_codes) {
  CHECK_EQ(parse(client(), sframe(0x88, "")).events.at(0), "close:1005:");
  CHECK_EQ(parse(client(), sframe(0x88, "\x0f\xa0" "app")).events.at(0), "close:4000:app");
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2000, 5000}) {
    std::string p = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    Result r = parse(client(), sframe(0x88, p));
    CHECK(r.status == FeedStatus::error);
    CHECK_EQ(std::string_view(error_name(r.error)), "bad_close_code");
  }
  Result bad_reason = parse(client(), sframe(0x88, "\x03\xe8\xff"));
  CHECK_EQ(std::string_view(error_name(bad_reason.error)), "invalid_utf8");
  // Bytes after the close frame are ignored, even garbage.
  Result after = parse(client(), sframe(0x88, "\x03\xe8") + "\xff\xff\xff");
  CHECK(after.status == FeedStatus::closed);
  CHECK_EQ(after.events.size(), 1u);
}

TEST(ws_message_too_big_is_refused_on_the_header) {
  // Only the header of a 2 MB frame arrives: refused before any payload is buffered.
  std::string hdr = std::string("\x82\x7f\x00\x00\x00\x00\x00\x20\x00\x00", 10);
  Result r = parse(client(1000000), hdr);
  CHECK(r.status == FeedStatus::error);
  CHECK_EQ(std::string_view(error_name(r.error)), "message_too_big");
  CHECK_EQ(error_close_code(r.error), kCloseTooBig);
  // Fragmented: 600 + 600 bytes over a 1000-byte limit fails at the second fragment's header,
  // with none of its payload sent.
  std::string frags = sframe(0x02, std::string(600, 'a')) + std::string("\x80\x7e\x02\x58", 4);
  Result f = parse(client(1000), frags);
  CHECK(f.status == FeedStatus::error);
  CHECK_EQ(std::string_view(error_name(f.error)), "message_too_big");
  // Exactly at the limit is fine.
  CHECK_EQ(parse(client(1200), sframe(0x02, std::string(600, 'a')) + sframe(0x80, std::string(600, 'b')))
               .events.size(),
           1u);
  // A ping between fragments does not count against the message.
  CHECK_EQ(parse(client(10), sframe(0x02, "12345") + sframe(0x89, "ping-payload") + sframe(0x80, "67890"))
               .events.size(),
           2u);
}

TEST(ws_text_utf8_across_fragments) {
  // "é" split between two fragments is valid; ending mid-code point is not.
  CHECK_EQ(parse(client(), sframe(0x01, "a\xc3") + sframe(0x80, "\xa9z")).events.at(0), "msg:t:a\xc3\xa9z");
  Result r = parse(client(), sframe(0x01, "a\xc3") + sframe(0x80, ""));
  CHECK_EQ(std::string_view(error_name(r.error)), "invalid_utf8");
  // Invalid bytes fail on arrival, before the message ends.
  Result early = parse(client(), sframe(0x01, "ok\xff"));
  CHECK(early.status == FeedStatus::error);
  CHECK_EQ(std::string_view(error_name(early.error)), "invalid_utf8");
}

TEST(ws_discard_mode_checks_but_keeps_nothing) {
  Options opt{Role::server, 100, true};
  Result r = parse(opt, cframe(0x81, "hello") + cframe(0x02, "ab") + cframe(0x80, "cd"));
  REQUIRE(r.events.size() == 2);
  CHECK_EQ(r.events[0], "msg:t:");
  CHECK_EQ(r.events[1], "msg:b:");
  CHECK_EQ(std::string_view(error_name(parse(opt, cframe(0x81, "bad\xff")).error)), "invalid_utf8");
  CHECK_EQ(std::string_view(error_name(parse(opt, cframe(0x82, std::string(101, 'x'))).error)),
           "message_too_big");
}

TEST(ws_empty_messages) {
  Result r = parse(client(), sframe(0x82, "") + sframe(0x01, "") + sframe(0x80, ""));
  REQUIRE(r.events.size() == 2);
  CHECK_EQ(r.events[0], "msg:b:");
  CHECK_EQ(r.events[1], "msg:t:");
}
