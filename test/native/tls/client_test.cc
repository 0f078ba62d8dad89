// SPDX-License-Identifier: MIT
// The TLS client against an OpenSSL server, both on memory BIOs: certificates are made at
// run time (tls/test_certs.h), so nothing expires in the repository.
#include "tls/client.h"

#include <climits>
#include <string>

#include "harness.h"
#include "tls/test_certs.h"

using namespace ringlay;
using namespace ringlay::tls;
using ringlay::test::KeyCert;
using ringlay::test::TestServer;

namespace {

struct Pki {
  KeyCert ca = ringlay::test::make_ca("ringlay test CA");
  KeyCert other_ca = ringlay::test::make_ca("some other CA");
  KeyCert leaf = ringlay::test::make_leaf(ca, "DNS:relay.test,DNS:*.pds.test,IP:127.0.0.1");
  KeyCert expired = ringlay::test::make_leaf(ca, "DNS:relay.test", -86400 * 10, -86400);
  std::unique_ptr<Context> trusting = make_ctx(ca.cert_pem());
  std::unique_ptr<Context> not_trusting = make_ctx(other_ca.cert_pem());

  static std::unique_ptr<Context> make_ctx(const std::string& pem) {
    Error e = Error::none;
    std::string msg;
    return Context::create(pem, &e, &msg);
  }
};

Pki& pki() {
  static Pki p;
  return p;
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Runs both sides until neither has anything to say. Server→client ciphertext is fed in
// pieces of at most `chunk` bytes (1 = a split at every byte boundary).
Status pump(Client& c, TestServer& s, std::string& plain, size_t chunk = SIZE_MAX) {
  Status st = Status::ok;
  for (int round = 0; round < 50; ++round) {
    BytesRef out = c.take_output();
    bool quiet = !out;
    if (out) s.feed(out.view());
    std::string back = s.take_output();
    quiet = quiet && back.empty();
    for (size_t at = 0; at < back.size() && st != Status::error; at += chunk) {
      st = c.feed(bytes(std::string_view(back).substr(at, chunk)), plain);
    }
    if (st == Status::error || st == Status::closed) {
      BytesRef alert = c.take_output();  // an alert, if OpenSSL wrote one
      if (alert) s.feed(alert.view());
      return st;
    }
    if (quiet) break;
  }
  return st;
}

struct Conn {
  Client client;
  TestServer server;
  std::string plain;
  Conn(const Context& ctx, std::string_view host, const KeyCert& leaf) : client(ctx, host), server(leaf) {}
  Status handshake(size_t chunk = SIZE_MAX) {
    Status st = client.start();
    if (st != Status::ok) return st;
    return pump(client, server, plain, chunk);
  }
};

}  // namespace

TEST(tls_trusted_ca_data_flows_both_ways) {
  Conn c(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(c.handshake() == Status::ok);
  REQUIRE(c.client.handshake_done());
  CHECK_EQ(std::string_view(c.client.version()), "TLSv1.3");
  CHECK(c.server.handshake_done());
  REQUIRE(c.client.write(bytes("GET / HTTP/1.1\r\n\r\n")) == Status::ok);
  c.server.feed(c.client.take_output().view());
  CHECK_EQ(c.server.read_all(), "GET / HTTP/1.1\r\n\r\n");
  std::string big(100000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  c.server.write(big);
  REQUIRE(pump(c.client, c.server, c.plain) == Status::ok);
  CHECK(c.plain == big);
}

TEST(tls_wildcard_and_ip_names) {
  Conn wild(*pki().trusting, "a.pds.test", pki().leaf);
  CHECK(wild.handshake() == Status::ok && wild.client.handshake_done());
  Conn ip(*pki().trusting, "127.0.0.1", pki().leaf);
  CHECK(ip.handshake() == Status::ok && ip.client.handshake_done());
  Conn bad_ip(*pki().trusting, "127.0.0.2", pki().leaf);
  CHECK(bad_ip.handshake() == Status::error);
  CHECK_EQ(std::string_view(error_name(bad_ip.client.error())), "cert_hostname_mismatch");
  // A wildcard covers one label only.
  Conn deep(*pki().trusting, "a.b.pds.test", pki().leaf);
  CHECK(deep.handshake() == Status::error);
  CHECK_EQ(std::string_view(error_name(deep.client.error())), "cert_hostname_mismatch");
}

TEST(tls_unknown_ca_is_cert_untrusted) {
  Conn c(*pki().not_trusting, "relay.test", pki().leaf);
  REQUIRE(c.handshake() == Status::error);
  CHECK_EQ(std::string_view(error_name(c.client.error())), "cert_untrusted");
  // OpenSSL's own words reach the caller.
  CHECK_EQ(c.client.message(), "unable to get local issuer certificate");
  CHECK(!c.client.handshake_done());
  // Sticky: nothing more goes through.
  std::string plain;
  CHECK(c.client.feed(bytes("x"), plain) == Status::error);
  CHECK(c.client.write(bytes("x")) == Status::error);
}

TEST(tls_wrong_hostname_is_mismatch) {
  Conn c(*pki().trusting, "evil.test", pki().leaf);
  REQUIRE(c.handshake() == Status::error);
  CHECK_EQ(std::string_view(error_name(c.client.error())), "cert_hostname_mismatch");
  CHECK_EQ(c.client.message(), "hostname mismatch (expected evil.test)");
}

TEST(tls_expired_certificate) {
  Conn c(*pki().trusting, "relay.test", pki().expired);
  REQUIRE(c.handshake() == Status::error);
  CHECK_EQ(std::string_view(error_name(c.client.error())), "cert_expired");
  CHECK_EQ(c.client.message(), "certificate has expired");
}

TEST(tls_ciphertext_split_at_every_byte) {
  // Handshake and application data fed one byte at a time: every boundary is a split.
  Conn c(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(c.handshake(1) == Status::ok);
  REQUIRE(c.client.handshake_done());
  c.server.write("firehose frame bytes");
  REQUIRE(pump(c.client, c.server, c.plain, 1) == Status::ok);
  CHECK_EQ(c.plain, "firehose frame bytes");
}

TEST(tls_record_split_at_every_two_way_boundary) {
  // A record decrypts once per connection, so each cut gets a fresh connection carrying the
  // same two records (same lengths), cut in two at that byte.
  size_t wire_size = 0;
  for (size_t cut = 0; cut == 0 || cut <= wire_size; ++cut) {
    Conn d(*pki().trusting, "relay.test", pki().leaf);
    REQUIRE(d.handshake() == Status::ok);
    d.server.write("record one");
    d.server.write("record two, a little longer");
    std::string w = d.server.take_output();
    if (cut == 0) wire_size = w.size();
    REQUIRE(w.size() == wire_size);
    std::string plain;
    CHECK(d.client.feed(bytes(std::string_view(w).substr(0, cut)), plain) == Status::ok);
    CHECK(d.client.feed(bytes(std::string_view(w).substr(cut)), plain) == Status::ok);
    CHECK_EQ(plain, "record onerecord two, a little longer");
  }
}

TEST(tls_write_before_handshake_is_held) {
  Conn c(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(c.client.start() == Status::ok);
  REQUIRE(c.client.write(bytes("early request")) == Status::ok);
  REQUIRE(pump(c.client, c.server, c.plain) == Status::ok);
  REQUIRE(c.client.handshake_done());
  CHECK_EQ(c.server.read_all(), "early request");
}

TEST(tls_close_notify_both_ways) {
  Conn c(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(c.handshake() == Status::ok);
  c.server.write("last words");
  c.server.shutdown();
  std::string plain;
  CHECK(c.client.feed(bytes(c.server.take_output()), plain) == Status::closed);
  CHECK_EQ(plain, "last words");
  CHECK(c.client.on_eof() == Status::closed);

  Conn d(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(d.handshake() == Status::ok);
  d.client.shutdown();
  d.server.feed(d.client.take_output().view());
  d.server.read_all();
  CHECK(d.server.got_close_notify());
  // EOF without close_notify is a truncation.
  Conn e(*pki().trusting, "relay.test", pki().leaf);
  REQUIRE(e.handshake() == Status::ok);
  CHECK(e.client.on_eof() == Status::error);
  CHECK_EQ(std::string_view(error_name(e.client.error())), "unexpected_eof");
}

TEST(tls_garbage_from_server) {
  Context& ctx = *pki().trusting;
  Client c(ctx, "relay.test");
  REQUIRE(c.start() == Status::ok);
  CHECK(c.pending_output() > 0);
  std::string plain;
  CHECK(c.feed(bytes("HTTP/1.1 400 Bad Request\r\n\r\n"), plain) == Status::error);
  CHECK_EQ(std::string_view(error_name(c.error())), "handshake_failed");
  CHECK(!c.message().empty());
}

TEST(tls_context_from_pem) {
  Error e = Error::none;
  std::string msg;
  CHECK(Context::create("no certificates here", &e, &msg) == nullptr);
  CHECK_EQ(std::string_view(error_name(e)), "bad_ca");
  std::string corrupt = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto ctx = Context::create(corrupt + pki().ca.cert_pem() + pki().other_ca.cert_pem() + pki().ca.cert_pem(), &e, &msg);
  REQUIRE(ctx != nullptr);
  CHECK_EQ(ctx->skipped_certs(), 1u);
  CHECK(ctx->cert_count() >= 2u);
}
