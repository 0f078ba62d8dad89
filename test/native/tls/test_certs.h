// SPDX-License-Identifier: MIT
// Test-only PKI built at run time with OpenSSL's X509 APIs: a CA and server certificates it
// signs (P-256 keys), plus an in-memory OpenSSL server to talk to the TLS client.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

namespace ringlay::test {

struct KeyCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  KeyCert() = default;
  KeyCert(KeyCert&& o) noexcept : key(o.key), cert(o.cert) { o.key = nullptr; o.cert = nullptr; }
  KeyCert(const KeyCert&) = delete;
  ~KeyCert();
  std::string cert_pem() const;
};

KeyCert make_ca(std::string_view common_name);
// A server certificate for `san` (e.g. "DNS:relay.test,IP:127.0.0.1") signed by `ca`, valid
// from now + not_before_s to now + not_after_s.
KeyCert make_leaf(const KeyCert& ca, std::string_view san, long not_before_s = -3600,
                  long not_after_s = 86400);

// An OpenSSL server endpoint on memory BIOs.
class TestServer {
 public:
  explicit TestServer(const KeyCert& leaf);
  ~TestServer();
  // Ciphertext from the client in; returns false on a fatal server error.
  bool feed(std::string_view ciphertext);
  std::string take_output();
  bool handshake_done();
  // Plaintext received so far (drains SSL_read).
  std::string read_all();
  void write(std::string_view plain);
  void shutdown();
  bool got_close_notify() const { return close_notify_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
  bool close_notify_ = false;
};

}  // namespace ringlay::test
