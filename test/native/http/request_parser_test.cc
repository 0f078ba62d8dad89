// SPDX-License-Identifier: MIT
#include "http/request_parser.h"

#include <string>
#include <vector>

#include "harness.h"

using namespace ringlay::http;

namespace {

// Feeds `input` in pieces cut at `cuts` and returns the status after the last piece.
ParseStatus feed_split(RequestParser& p, std::string_view input, std::vector<size_t> cuts) {
  size_t at = 0;
  ParseStatus s = ParseStatus::need_more;
  cuts.push_back(input.size());
  for (size_t cut : cuts) {
    p.feed(input.substr(at, cut - at));
    at = cut;
    s = p.next();
    if (s != ParseStatus::need_more && at < input.size()) {
      // A request or error before the end is only acceptable if it is final.
      if (s == ParseStatus::error) return s;
    }
  }
  return s;
}

Error parse_error(std::string_view input, Limits limits = {}) {
  RequestParser p(limits);
  p.feed(input);
  ParseStatus s = p.next();
  return s == ParseStatus::error ? p.error() : Error::none;
}

constexpr std::string_view kGet =
    "GET /xrpc/com.atproto.sync.subscribeRepos?cursor=42 HTTP/1.1\r\n"
    "Host: relay.example\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "X-Multi: a\r\n"
    "x-multi:   b  \r\n"
    "\r\n";

void check_get(const Request& r) {
  CHECK_EQ(r.method, "GET");
  CHECK_EQ(r.path, "/xrpc/com.atproto.sync.subscribeRepos");
  CHECK_EQ(r.query, "cursor=42");
  CHECK_EQ(r.target, "/xrpc/com.atproto.sync.subscribeRepos?cursor=42");
  CHECK_EQ(r.version_minor, 1);
  CHECK_EQ(r.header("HOST"), "relay.example");
  CHECK_EQ(r.header_joined("x-multi"), "a, b");
  CHECK(r.keep_alive);
  CHECK(r.upgrade);
  CHECK(r.body.empty());
}

}  // namespace

TEST(http_get_every_two_way_split) {
  for (size_t cut = 0; cut <= kGet.size(); ++cut) {
    RequestParser p;
    ParseStatus s = feed_split(p, kGet, {cut});
    if (!CHECK(s == ParseStatus::request)) {
      std::fprintf(stderr, "    cut at %zu\n", cut);
      return;
    }
    check_get(p.request());
  }
}

TEST(http_get_byte_at_a_time) {
  RequestParser p;
  for (size_t i = 0; i < kGet.size(); ++i) {
    p.feed(kGet.substr(i, 1));
    ParseStatus s = p.next();
    REQUIRE(s == (i + 1 == kGet.size() ? ParseStatus::request : ParseStatus::need_more));
  }
  check_get(p.request());
}

TEST(http_post_body_every_split) {
  std::string req = "POST /xrpc/com.atproto.sync.requestCrawl HTTP/1.1\r\nHost: h\r\n"
                    "Content-Type: application/json\r\nContent-Length: 24\r\n\r\n"
                    "{\"hostname\":\"pds.test\"}\n";
  for (size_t a = 0; a <= req.size(); a += 3) {
    for (size_t b = a; b <= req.size(); b += 7) {
      RequestParser p;
      REQUIRE(feed_split(p, req, {a, b}) == ParseStatus::request);
      CHECK_EQ(p.request().body, "{\"hostname\":\"pds.test\"}\n");
      CHECK_EQ(p.request().method, "POST");
      CHECK(!p.request().upgrade);
    }
  }
}

TEST(http_body_waits_for_all_bytes) {
  RequestParser p;
  p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabc");
  CHECK(p.next() == ParseStatus::need_more);
  p.feed("de");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().body, "abcde");
}

TEST(http_pipelined_requests_one_at_a_time) {
  RequestParser p;
  p.feed("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\n");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/a");
  // Asking again without consume() gives the same request.
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/a");
  p.consume();
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/b");
  CHECK_EQ(p.request().body, "ok");
  p.consume();
  CHECK(p.next() == ParseStatus::need_more);
  p.feed("Host: h\r\n\r\n");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/c");
  p.consume();
  CHECK_EQ(p.buffered_bytes(), 0u);
}

TEST(http_views_survive_feeding_while_pending) {
  RequestParser p;
  p.feed("GET /first?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.next() == ParseStatus::request);
  // More pipelined bytes arrive (the buffer may reallocate) before the answer is written.
  p.feed(std::string(10000, 'G'));
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/first");
  CHECK_EQ(p.request().query, "x=1");
  CHECK_EQ(p.request().header("host"), "h");
}

TEST(http_leading_empty_lines_are_ignored) {
  RequestParser p;
  p.feed("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().path, "/");
  CHECK_EQ(p.request().query, "");
}

TEST(http_keep_alive_rules) {
  struct Case {
    std::string_view req;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", true},  // higher 1.x minor handled as 1.1
  };
  for (const Case& c : cases) {
    RequestParser p;
    p.feed(c.req);
    REQUIRE(p.next() == ParseStatus::request);
    CHECK_EQ(p.request().keep_alive, c.keep_alive);
  }
}

TEST(http_upgrade_needs_both_headers) {
  RequestParser p;
  p.feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK(!p.request().upgrade);
  RequestParser q;
  q.feed("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
  REQUIRE(q.next() == ParseStatus::request);
  CHECK(!q.request().upgrade);
}

TEST(http_take_remaining_after_upgrade) {
  RequestParser p;
  p.feed("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x80");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK(p.request().upgrade);
  CHECK_EQ(p.take_remaining(), std::string("\x81\x80"));
}

TEST(http_malformed_requests_map_to_status_and_reason) {
  struct Case {
    std::string_view req;
    Error error;
    int status;
  } cases[] = {
      {"GET /\r\nHost: h\r\n\r\n", Error::bad_request_line, 400},
      {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_request_line, 400},
      {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", Error::bad_request_line, 400},
      {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_method, 400},
      {"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_target, 400},
      {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_target, 400},
      {"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_target, 400},
      {"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", Error::bad_target, 400},
      {"GET / HTTP/1.x\r\nHost: h\r\n\r\n", Error::bad_version, 400},
      {"GET / http/1.1\r\nHost: h\r\n\r\n", Error::bad_version, 400},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", Error::version_not_supported, 505},
      {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", Error::version_not_supported, 505},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", Error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", Error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", Error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", Error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", Error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", Error::obs_fold, 400},
      {"GET / HTTP/1.1\nHost: h\r\n\r\n", Error::bare_lf, 400},
      {"GET / HTTP/1.1\r\nHost: h\n\r\n", Error::bare_lf, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n\n", Error::bare_lf, 400},
      {"GET / HTTP/1.1\r\n\r\n", Error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Error::bad_host, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", Error::bad_content_length, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", Error::bad_content_length, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", Error::bad_content_length, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", Error::bad_content_length, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", Error::bad_content_length, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       Error::content_length_and_transfer_encoding, 400},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", Error::transfer_encoding_unsupported, 501},
  };
  for (const Case& c : cases) {
    Error e = parse_error(c.req);
    if (!CHECK_EQ(std::string_view(error_name(e)), error_name(c.error))) {
      std::fprintf(stderr, "    input: %s\n", ringlay::test::hex(c.req).c_str());
    }
    CHECK_EQ(error_status(e), c.status);
  }
}

TEST(http_repeated_equal_content_length_is_accepted) {
  RequestParser p;
  p.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nhi");
  REQUIRE(p.next() == ParseStatus::request);
  CHECK_EQ(p.request().body, "hi");
}

TEST(http_limits) {
  Limits small;
  small.max_request_line_bytes = 64;
  small.max_header_bytes = 256;
  small.max_headers = 3;
  small.max_body_bytes = 10;
  std::string long_target = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK_EQ(std::string_view(error_name(parse_error(long_target, small))), "uri_too_long");
  CHECK_EQ(error_status(Error::uri_too_long), 414);
  // Detected before the line ends: a peer cannot make us buffer an endless request line.
  CHECK_EQ(std::string_view(error_name(parse_error("GET /" + std::string(100, 'a'), small))), "uri_too_long");
  std::string big_header = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'v') + "\r\n\r\n";
  CHECK_EQ(std::string_view(error_name(parse_error(big_header, small))), "header_too_large");
  CHECK_EQ(std::string_view(error_name(parse_error("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'v'), small))),
           "header_too_large");
  CHECK_EQ(error_status(Error::header_too_large), 431);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  CHECK_EQ(std::string_view(error_name(parse_error(many, small))), "too_many_headers");
  CHECK_EQ(error_status(Error::too_many_headers), 431);
  std::string three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
  CHECK_EQ(std::string_view(error_name(parse_error(three, small))), "none");
  // 413 as soon as the head is read, without waiting for (or buffering) the body.
  CHECK_EQ(std::string_view(error_name(parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", small))),
           "body_too_large");
  CHECK_EQ(error_status(Error::body_too_large), 413);
  CHECK_EQ(std::string_view(error_name(parse_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", small))),
           "none");
}

TEST(http_error_is_sticky) {
  RequestParser p;
  p.feed("GET / HTTP/1.1\nHost: h\r\n\r\n");
  CHECK(p.next() == ParseStatus::error);
  p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(p.next() == ParseStatus::error);
  CHECK_EQ(std::string_view(error_name(p.error())), "bare_lf");
}

TEST(http_every_split_of_malformed_input_gives_the_same_error) {
  std::string_view bad = "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n";
  for (size_t cut = 0; cut <= bad.size(); ++cut) {
    RequestParser p;
    REQUIRE(feed_split(p, bad, {cut}) == ParseStatus::error);
    CHECK_EQ(std::string_view(error_name(p.error())), "obs_fold");
  }
  std::string_view crlf = "GET / HTTP/1.1\r\nHost: h\r\nX: y\r\r\n\r\n";
  for (size_t cut = 0; cut <= crlf.size(); ++cut) {
    RequestParser p;
    REQUIRE(feed_split(p, crlf, {cut}) == ParseStatus::error);
    CHECK_EQ(std::string_view(error_name(p.error())), "bad_header");
  }
}

TEST(http_leading_crlf_split_mid_crlf) {
  std::string_view req = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p;
    REQUIRE(feed_split(p, req, {cut}) == ParseStatus::request);
    CHECK_EQ(p.request().path, "/x");
  }
}

TEST(http_limits_do_not_depend_on_splits) {
  // A request line of exactly the limit, and a head of exactly max_header_bytes, pass for every
  // split (the CR before the LF and the final LF are where off-by-ones hide).
  Limits lim;
  std::string line = "GET /" + std::string(40 - 15, 'a') + " HTTP/1.1";
  lim.max_request_line_bytes = line.size();
  std::string req = line + "\r\nHost: h\r\n\r\n";
  lim.max_header_bytes = req.size();
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p(lim);
    REQUIRE(feed_split(p, req, {cut}) == ParseStatus::request);
  }
  Limits tighter = lim;
  tighter.max_header_bytes = req.size() - 1;
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p(tighter);
    REQUIRE(feed_split(p, req, {cut}) == ParseStatus::error);
    CHECK_EQ(std::string_view(error_name(p.error())), "header_too_large");
  }
  Limits shorter = lim;
  shorter.max_request_line_bytes = line.size() - 1;
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p(shorter);
    REQUIRE(feed_split(p, req, {cut}) == ParseStatus::error);
    CHECK_EQ(std::string_view(error_name(p.error())), "uri_too_long");
  }
}

TEST(http_leading_empty_lines_do_not_shift_limits) {
  // Found by http_fuzz: with empty lines counted toward the header limit, a long first line
  // hit "header_too_large" when split and "uri_too_long" when whole.
  Limits lim;
  lim.max_request_line_bytes = 16;
  lim.max_header_bytes = 18;
  std::string req = "\r\n" + std::string(40, 'G');
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RequestParser p(lim);
    REQUIRE(feed_split(p, req, {cut}) == ParseStatus::error);
    CHECK_EQ(std::string_view(error_name(p.error())), "uri_too_long");
  }
  // A stream of empty lines is refused rather than buffered.
  std::string many;
  for (int i = 0; i < 20; ++i) many += "\r\n";
  CHECK_EQ(std::string_view(error_name(parse_error(many + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"))), "bad_request_line");
}
