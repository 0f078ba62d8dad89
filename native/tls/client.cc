// SPDX-License-Identifier: MIT
// The SSL object reads ciphertext from one memory BIO and writes ciphertext to another; we
// never hand OpenSSL a file descriptor. The input BIO is told to report "retry" rather than
// EOF when empty, so running out of bytes is WANT_READ (wait for the next recv), never an error.
#include "tls/client.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace ringlay::tls {

const char* error_name(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::cert_untrusted: return "cert_untrusted";
    case Error::cert_hostname_mismatch: return "cert_hostname_mismatch";
    case Error::cert_expired: return "cert_expired";
    case Error::cert_not_yet_valid: return "cert_not_yet_valid";
    case Error::cert_invalid: return "cert_invalid";
    case Error::handshake_failed: return "handshake_failed";
    case Error::protocol_error: return "protocol_error";
    case Error::unexpected_eof: return "unexpected_eof";
    case Error::bad_ca: return "bad_ca";
    case Error::internal_error: return "internal_error";
  }
  return "unknown";
}

namespace {

std::string last_ssl_error(const char* fallback) {
  unsigned long e = ERR_peek_last_error();
  if (e == 0) return fallback;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// One PEM CERTIFICATE block into the store; false if it does not parse.
bool add_block(X509_STORE* store, std::string_view block) {
  BIO* bio = BIO_new_mem_buf(block.data(), static_cast<int>(block.size()));
  if (bio == nullptr) return false;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  // Duplicates (Node's roots and --ca-file overlapping) are not an error for the store.
  bool ok = X509_STORE_add_cert(store, cert) == 1;
  X509_free(cert);
  return ok;
}

}  // namespace

std::unique_ptr<Context> Context::create(std::string_view ca_pem, Error* error,
                                         std::string* message) {
  ERR_clear_error();
  auto fail = [&](Error e, std::string m) -> std::unique_ptr<Context> {
    if (error != nullptr) *error = e;
    if (message != nullptr) *message = std::move(m);
    return nullptr;
  };
  std::unique_ptr<Context> ctx(new Context());
  ctx->ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx->ctx_ == nullptr) {
    return fail(Error::internal_error, last_ssl_error("SSL_CTX_new failed"));
  }
  SSL_CTX_set_min_proto_version(ctx->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx->ctx_, SSL_VERIFY_PEER, nullptr);
  // Thousands of mostly idle upstreams: give read/write buffers back between records.
  SSL_CTX_set_mode(ctx->ctx_, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx->ctx_, SSL_OP_NO_RENEGOTIATION);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx->ctx_);
  // Block by block, so one malformed certificate skips itself, not the rest of the bundle.
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while ((pos = ca_pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = ca_pem.find(kEnd, pos);
    if (end == std::string_view::npos) {
      ++ctx->skipped_;
      break;
    }
    end += kEnd.size();
    if (add_block(store, ca_pem.substr(pos, end - pos))) {
      ++ctx->certs_;
    } else {
      ++ctx->skipped_;
    }
    pos = end;
  }
  ERR_clear_error();
  if (ctx->certs_ == 0) return fail(Error::bad_ca, "no usable CA certificate in the PEM text");
  return ctx;
}

Context::~Context() { SSL_CTX_free(ctx_); }

Client::Client(const Context& ctx, std::string_view host) {
  ERR_clear_error();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  host_ = host;
  ssl_ = SSL_new(ctx.raw());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    fail(Error::internal_error, last_ssl_error("SSL_new failed"));
    return;
  }
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);  // ssl_ owns both BIOs now
  SSL_set_connect_state(ssl_);
  unsigned char addr[16];
  bool is_ip = inet_pton(AF_INET, host_.c_str(), addr) == 1 ||
               inet_pton(AF_INET6, host_.c_str(), addr) == 1;
  bool ok;
  if (is_ip) {
    // RFC 6066 §3: no SNI for literal addresses; the certificate must name the IP.
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl_, host_.c_str()) == 1 &&
         SSL_set1_host(ssl_, host_.c_str()) == 1;
  }
  if (!ok) fail(Error::internal_error, last_ssl_error("cannot set the verification host"));
}

Client::~Client() { SSL_free(ssl_); }

Status Client::fail(Error e, std::string message) {
  if (error_ == Error::none) {
    error_ = e;
    message_ = std::move(message);
  }
  return Status::error;
}

Status Client::start() {
  if (error_ != Error::none) return Status::error;
  return drive_handshake();
}

Status Client::drive_handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    return flush_pending_plain();
  }
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok;
  return fail_from_ssl(ret, true);
}

namespace {

Error verify_error(long v) {
  switch (v) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
      return Error::cert_untrusted;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return Error::cert_hostname_mismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Error::cert_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Error::cert_not_yet_valid;
    default:
      return Error::cert_invalid;
  }
}

}  // namespace

Status Client::fail_from_ssl(int ret, bool in_handshake) {
  if (in_handshake) {
    long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK) {
      Error e = verify_error(v);
      std::string msg = X509_verify_cert_error_string(v);
      if (e == Error::cert_hostname_mismatch) msg += " (expected " + host_ + ")";
      return fail(e, std::move(msg));
    }
  }
  (void)ret;
  return fail(in_handshake ? Error::handshake_failed : Error::protocol_error,
              last_ssl_error(in_handshake ? "handshake failed" : "TLS protocol error"));
}

Status Client::feed(std::span<const uint8_t> ciphertext, std::string& plain) {
  if (error_ != Error::none) return Status::error;
  if (closed_) return Status::closed;
  if (!ciphertext.empty()) {
    int n = static_cast<int>(ciphertext.size());
    // A memory BIO takes everything (it grows); anything else is an allocation failure.
    if (BIO_write(in_, ciphertext.data(), n) != n) {
      return fail(Error::internal_error, "BIO_write failed");
    }
  }
  if (!handshake_done_) {
    Status s = drive_handshake();
    if (s != Status::ok || !handshake_done_) return s;
  }
  return read_plain(plain);
}

Status Client::read_plain(std::string& plain) {
  constexpr size_t kChunk = 16 * 1024;
  while (true) {
    ERR_clear_error();
    size_t old = plain.size();
    plain.resize(old + kChunk);
    size_t got = 0;
    int ret = SSL_read_ex(ssl_, plain.data() + old, kChunk, &got);
    plain.resize(old + (ret == 1 ? got : 0));
    if (ret == 1) continue;
    int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok;
    if (err == SSL_ERROR_ZERO_RETURN) {
      closed_ = true;
      return Status::closed;
    }
    return fail_from_ssl(ret, false);
  }
}

Status Client::flush_pending_plain() {
  if (pending_plain_.empty()) return Status::ok;
  std::string data = std::move(pending_plain_);
  pending_plain_.clear();
  return write({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

Status Client::write(std::span<const uint8_t> plaintext) {
  if (error_ != Error::none) return Status::error;
  if (closed_) return Status::closed;
  if (!handshake_done_) {
    pending_plain_.append(reinterpret_cast<const char*>(plaintext.data()), plaintext.size());
    return Status::ok;
  }
  if (plaintext.empty()) return Status::ok;
  ERR_clear_error();
  size_t written = 0;
  // The output BIO grows as needed, so a write is never partial and never "retry".
  if (SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) != 1 ||
      written != plaintext.size()) {
    return fail_from_ssl(0, false);
  }
  return Status::ok;
}

void Client::shutdown() {
  if (ssl_ == nullptr || !handshake_done_ || error_ != Error::none) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // writes close_notify into the output BIO; we do not wait for the reply
}

Status Client::on_eof() {
  if (closed_) return Status::closed;
  return fail(Error::unexpected_eof, "connection closed without close_notify");
}

size_t Client::pending_output() const { return out_ == nullptr ? 0 : BIO_ctrl_pending(out_); }

BytesRef Client::take_output() {
  size_t n = pending_output();
  if (n == 0) return {};
  SharedBytes* b = SharedBytes::create(n);
  if (b == nullptr) return {};
  int got = BIO_read(out_, b->mutable_data(), static_cast<int>(n));
  BytesRef ref = BytesRef::adopt(b);
  if (got != static_cast<int>(n)) return {};
  return ref;
}

const char* Client::version() const { return ssl_ == nullptr ? "" : SSL_get_version(ssl_); }

}  // namespace ringlay::tls
