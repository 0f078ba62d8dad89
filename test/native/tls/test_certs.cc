// SPDX-License-Identifier: MIT
#include "tls/test_certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>

namespace ringlay::test {

KeyCert::~KeyCert() {
  EVP_PKEY_free(key);
  X509_free(cert);
}

std::string KeyCert::cert_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

namespace {

void must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  must(ext != nullptr, "X509V3_EXT_conf_nid");
  must(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

KeyCert base_cert(std::string_view cn, long serial, long not_before_s, long not_after_s) {
  KeyCert kc;
  kc.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  must(kc.key != nullptr, "EVP_PKEY_Q_keygen");
  kc.cert = X509_new();
  X509_set_version(kc.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kc.cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(kc.cert), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(kc.cert), not_after_s);
  X509_set_pubkey(kc.cert, kc.key);
  X509_NAME* name = X509_get_subject_name(kc.cert);
  std::string cn_s(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn_s.c_str()), -1, -1, 0);
  return kc;
}

}  // namespace

KeyCert make_ca(std::string_view common_name) {
  static long serial = 1000;
  KeyCert ca = base_cert(common_name, ++serial, -3600, 86400 * 30);
  X509_set_issuer_name(ca.cert, X509_get_subject_name(ca.cert));
  add_ext(ca.cert, ca.cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(ca.cert, ca.cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.cert, ca.cert, NID_subject_key_identifier, "hash");
  must(X509_sign(ca.cert, ca.key, EVP_sha256()) > 0, "X509_sign (CA)");
  return ca;
}

KeyCert make_leaf(const KeyCert& ca, std::string_view san, long not_before_s, long not_after_s) {
  static long serial = 5000;
  KeyCert leaf = base_cert("ringlay test server", ++serial, not_before_s, not_after_s);
  X509_set_issuer_name(leaf.cert, X509_get_subject_name(ca.cert));
  add_ext(leaf.cert, ca.cert, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(leaf.cert, ca.cert, NID_ext_key_usage, "serverAuth");
  add_ext(leaf.cert, ca.cert, NID_subject_alt_name, std::string(san).c_str());
  must(X509_sign(leaf.cert, ca.key, EVP_sha256()) > 0, "X509_sign (leaf)");
  return leaf;
}

TestServer::TestServer(const KeyCert& leaf) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  must(ctx_ != nullptr, "SSL_CTX_new (server)");
  must(SSL_CTX_use_certificate(ctx_, leaf.cert) == 1, "SSL_CTX_use_certificate");
  must(SSL_CTX_use_PrivateKey(ctx_, leaf.key) == 1, "SSL_CTX_use_PrivateKey");
  ssl_ = SSL_new(ctx_);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_accept_state(ssl_);
}

TestServer::~TestServer() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

bool TestServer::feed(std::string_view ciphertext) {
  if (!ciphertext.empty()) BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  if (!SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret != 1) {
      int err = SSL_get_error(ssl_, ret);
      return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
    }
  }
  return true;
}

bool TestServer::handshake_done() { return SSL_is_init_finished(ssl_) == 1; }

std::string TestServer::take_output() {
  std::string out;
  char buf[4096];
  int n;
  while ((n = BIO_read(out_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string TestServer::read_all() {
  std::string out;
  char buf[4096];
  while (true) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) close_notify_ = true;
    return out;
  }
}

void TestServer::write(std::string_view plain) {
  size_t written = 0;
  must(SSL_write_ex(ssl_, plain.data(), plain.size(), &written) == 1, "SSL_write (server)");
}

void TestServer::shutdown() { SSL_shutdown(ssl_); }

}  // namespace ringlay::test
