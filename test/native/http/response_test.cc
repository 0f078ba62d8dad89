// SPDX-License-Identifier: MIT
#include "http/response.h"

#include "harness.h"

using namespace ringlay::http;

TEST(http_date_is_imf_fixdate) {
  CHECK_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(http_server_header_names_atproto_relay) {
  CHECK_EQ(server_header_value("0.1.0"), "ringlay/0.1.0 (atproto-relay)");
}

TEST(http_response_head_has_transport_headers) {
  Header hs[] = {{"Content-Type", "application/json"}, {"Access-Control-Allow-Origin", "*"}};
  ResponseHead head;
  head.status = 404;
  head.headers = hs;
  head.content_length = 17;
  head.keep_alive = true;
  head.server = "ringlay/0.1.0 (atproto-relay)";
  head.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string out;
  CHECK_EQ(serialize_response_head(head, out), 0u);
  CHECK_EQ(out,
           "HTTP/1.1 404 Not Found\r\n"
           "Server: ringlay/0.1.0 (atproto-relay)\r\n"
           "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
           "Content-Length: 17\r\n"
           "Connection: keep-alive\r\n"
           "Content-Type: application/json\r\n"
           "Access-Control-Allow-Origin: *\r\n"
           "\r\n");
}

TEST(http_response_drops_reserved_and_injected_headers) {
  Header hs[] = {{"Content-Length", "5"},      {"server", "evil"},         {"X-Ok", "yes"},
                 {"X-Inject", "a\r\nSet: b"},   {"Bad Name", "v"},          {"Connection", "keep-alive"},
                 {"Transfer-Encoding", "chunked"}};
  ResponseHead head;
  head.status = 200;
  head.headers = hs;
  head.content_length = 0;
  head.keep_alive = false;
  head.server = "s (atproto-relay)";
  std::string out;
  CHECK_EQ(serialize_response_head(head, out), 6u);
  CHECK_EQ(out,
           "HTTP/1.1 200 OK\r\nServer: s (atproto-relay)\r\nContent-Length: 0\r\n"
           "Connection: close\r\nX-Ok: yes\r\n\r\n");
}

TEST(http_error_response_for_each_status) {
  std::string r = serialize_error_response(Error::header_too_large, "s (atproto-relay)", "");
  CHECK(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(r.find("Connection: close\r\n") != std::string::npos);
  std::string body = "{\"error\":\"RequestHeaderFieldsTooLarge\",\"message\":\"header_too_large\"}";
  CHECK(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(r.size() > body.size() && r.substr(r.size() - body.size()) == body);
  CHECK(serialize_error_response(Error::bare_lf, "s", "").rfind("HTTP/1.1 400 Bad Request", 0) == 0);
  CHECK(serialize_error_response(Error::transfer_encoding_unsupported, "s", "").rfind("HTTP/1.1 501 ", 0) == 0);
  CHECK(serialize_error_response(Error::version_not_supported, "s", "").rfind("HTTP/1.1 505 ", 0) == 0);
  CHECK(serialize_error_response(Error::uri_too_long, "s", "").rfind("HTTP/1.1 414 ", 0) == 0);
  CHECK(serialize_error_response(Error::body_too_large, "s", "").rfind("HTTP/1.1 413 ", 0) == 0);
}
