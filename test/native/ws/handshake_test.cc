// SPDX-License-Identifier: MIT
#include "ws/handshake.h"

#include "harness.h"
#include "http/request_parser.h"

using namespace ringlay;
using namespace ringlay::ws;

namespace {

constexpr std::string_view kUpgrade =
    "GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

UpgradeError check(std::string_view raw, std::string* accept = nullptr) {
  http::RequestParser p;
  p.feed(raw);
  if (p.next() != http::ParseStatus::request) return UpgradeError::bad_key;  // marks a test bug
  return check_upgrade(p.request(), accept);
}

std::string replace(std::string_view s, std::string_view from, std::string_view to) {
  std::string out(s);
  size_t at = out.find(from);
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

std::array<uint8_t, 16> kKey = {'t', 'h', 'e', ' ', 's', 'a', 'm', 'p', 'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};

}  // namespace

TEST(ws_accept_key_rfc_sample) {
  CHECK_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_server_accepts_and_refuses_extensions) {
  std::string accept;
  REQUIRE(check(kUpgrade, &accept) == UpgradeError::none);
  CHECK_EQ(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::string resp = build_accept_response(accept, "ringlay/0.1.0 (atproto-relay)", "");
  CHECK_EQ(resp,
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
           "Server: ringlay/0.1.0 (atproto-relay)\r\n\r\n");
  // permessage-deflate was offered and is not accepted: no extension header in the 101.
  CHECK(resp.find("Extensions") == std::string::npos);
}

TEST(ws_server_upgrade_errors) {
  struct Case {
    std::string raw;
    UpgradeError e;
    int status;
  } cases[] = {
      {replace(kUpgrade, "GET ", "POST "), UpgradeError::not_get, 405},
      {replace(replace(kUpgrade, "HTTP/1.1", "HTTP/1.0"), "Connection: Upgrade", "Connection: Upgrade, keep-alive"),
       UpgradeError::not_http11, 400},
      {replace(kUpgrade, "Upgrade: websocket\r\n", ""), UpgradeError::missing_upgrade, 426},
      {replace(kUpgrade, "Upgrade: websocket", "Upgrade: h2c"), UpgradeError::missing_upgrade, 426},
      {replace(kUpgrade, "Connection: Upgrade", "Connection: keep-alive"), UpgradeError::missing_connection_upgrade, 400},
      {replace(kUpgrade, "Version: 13", "Version: 8"), UpgradeError::bad_version, 426},
      {replace(kUpgrade, "Sec-WebSocket-Version: 13\r\n", ""), UpgradeError::bad_version, 426},
      {replace(kUpgrade, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), UpgradeError::bad_key, 400},
      {replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "short=="), UpgradeError::bad_key, 400},
      {replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ!="), UpgradeError::bad_key, 400},
      {replace(kUpgrade, "Sec-WebSocket-Version: 13\r\n",
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
       UpgradeError::bad_key, 400},
  };
  for (const Case& c : cases) {
    UpgradeError e = check(c.raw);
    CHECK_EQ(std::string_view(upgrade_error_name(e)), std::string_view(upgrade_error_name(c.e)));
    CHECK_EQ(upgrade_error_status(e), c.status);
  }
  std::string refusal = build_refusal_response(UpgradeError::bad_version, "s (atproto-relay)", "");
  CHECK(refusal.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0) == 0);
  CHECK(refusal.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(refusal.find("Connection: close\r\n") != std::string::npos);
  CHECK(build_refusal_response(UpgradeError::not_get, "s", "").find("Allow: GET\r\n") != std::string::npos);
}

TEST(ws_client_request_shape) {
  std::pair<std::string_view, std::string_view> extra[] = {
      {"X-Trace", "abc"}, {"Sec-WebSocket-Extensions", "permessage-deflate"}, {"Bad Name", "x"}, {"X-Inj", "a\r\nb"}};
  ClientRequestOptions opt{"pds.example:8443", "/xrpc/com.atproto.sync.subscribeRepos?cursor=9",
                           "ringlay/0.1.0 (atproto-relay)", extra};
  ClientHandshake hs(opt, kKey);
  CHECK_EQ(hs.key(), "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK_EQ(hs.dropped_headers(), 3u);
  CHECK_EQ(hs.request(),
           "GET /xrpc/com.atproto.sync.subscribeRepos?cursor=9 HTTP/1.1\r\n"
           "Host: pds.example:8443\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n"
           "User-Agent: ringlay/0.1.0 (atproto-relay)\r\n"
           "X-Trace: abc\r\n\r\n");
  // Our own server side accepts what our client sends.
  std::string accept;
  CHECK(check(hs.request(), &accept) == UpgradeError::none);
  // Random keys differ between handshakes.
  CHECK(ClientHandshake(opt).key() != ClientHandshake(opt).key());
}

TEST(ws_client_validates_response_every_split) {
  ClientRequestOptions opt{"h", "/", "", {}};
  std::string resp =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: indigo-relay (atproto-relay)\r\n\r\n"
      "\x82\x01Z";
  for (size_t cut = 0; cut <= resp.size(); ++cut) {
    ClientHandshake hs(opt, kKey);
    ClientHandshake::Status s = hs.feed(std::string_view(resp).substr(0, cut));
    if (s == ClientHandshake::Status::need_more) s = hs.feed(std::string_view(resp).substr(cut));
    else CHECK(s == ClientHandshake::Status::open);
    REQUIRE(s == ClientHandshake::Status::open);
    CHECK_EQ(hs.status(), 101);
    std::string server;
    for (const auto& [n, v] : hs.headers()) if (n == "server") server = v;
    CHECK_EQ(server, "indigo-relay (atproto-relay)");
    // Frame bytes that came with the head (possibly fed after "open") are handed back.
    if (cut >= resp.size() - 3) {
      ClientHandshake again(opt, kKey);
      again.feed(resp);
      CHECK_EQ(again.take_remaining(), std::string("\x82\x01Z"));
    }
  }
}

TEST(ws_client_handshake_failures) {
  ClientRequestOptions opt{"h", "/", "", {}};
  auto run = [&](std::string resp) {
    ClientHandshake hs(opt, kKey);
    CHECK(hs.feed(resp) == ClientHandshake::Status::failed);
    return hs.error_message();
  };
  std::string ok_head = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  CHECK_EQ(run("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), "bad_status: 404 Not Found");
  CHECK_EQ(run("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"),
           "bad_accept: AAAA");
  CHECK_EQ(run("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
           "missing_upgrade");
  CHECK_EQ(run("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
           "missing_connection_upgrade");
  CHECK_EQ(run("HTTP/1.1 101 OK\r\n" + ok_head + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
           "unexpected_extension: permessage-deflate");
  CHECK_EQ(run("HTTP/1.1 101 OK\r\n" + ok_head + "Sec-WebSocket-Protocol: chat\r\n\r\n"), "unexpected_protocol: chat");
  CHECK_EQ(run("HTTP/1.1 101 OK\n\r\n"), "bad_response: bare_lf");
}
