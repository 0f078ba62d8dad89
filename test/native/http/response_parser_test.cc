// SPDX-License-Identifier: MIT
#include "http/response_parser.h"

#include "harness.h"

using namespace ringlay::http;

namespace {
constexpr std::string_view kResponse =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Server: indigo-relay/1 (atproto-relay)\r\n"
    "\r\n"
    "\x82\x03" "abc";
}

TEST(http_response_every_split) {
  for (size_t cut = 0; cut <= kResponse.size(); ++cut) {
    ResponseParser p;
    ResponseParser::Status s = p.feed(kResponse.substr(0, cut));
    if (s != ResponseParser::Status::done) s = p.feed(kResponse.substr(cut));
    else p.feed(kResponse.substr(cut));
    REQUIRE(s == ResponseParser::Status::done);
    CHECK_EQ(p.status(), 101);
    CHECK_EQ(p.reason(), "Switching Protocols");
    CHECK_EQ(p.header("server"), "indigo-relay/1 (atproto-relay)");
    CHECK_EQ(p.headers().size(), 3u);
    CHECK_EQ(p.take_remaining(), std::string("\x82\x03" "abc"));
  }
}

TEST(http_response_errors) {
  struct Case {
    std::string_view in;
    ResponseError e;
  } cases[] = {
      {"HTTP/2 101 OK\r\n\r\n", ResponseError::bad_status_line},
      {"HTTP/1.1 1O1 OK\r\n\r\n", ResponseError::bad_status_line},
      {"HTTP/1.1 101 OK\n\r\n", ResponseError::bare_lf},
      {"HTTP/1.1 101 OK\r\nA : b\r\n\r\n", ResponseError::bad_header},
      {"HTTP/1.1 101 OK\r\nA: b\r\n c\r\n\r\n", ResponseError::obs_fold},
  };
  for (const Case& c : cases) {
    ResponseParser p;
    CHECK(p.feed(c.in) == ResponseParser::Status::error);
    CHECK_EQ(std::string_view(response_error_name(p.error())), response_error_name(c.e));
  }
  ResponseParser small(64);
  CHECK(small.feed("HTTP/1.1 101 OK\r\nX: " + std::string(100, 'a')) == ResponseParser::Status::error);
  CHECK_EQ(std::string_view(response_error_name(small.error())), "head_too_large");
}

TEST(http_response_without_reason) {
  ResponseParser p;
  REQUIRE(p.feed("HTTP/1.1 404\r\n\r\n") == ResponseParser::Status::done);
  CHECK_EQ(p.status(), 404);
  CHECK_EQ(p.reason(), "");
}
