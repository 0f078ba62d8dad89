// SPDX-License-Identifier: MIT
// TLS client on OpenSSL memory BIOs, sans-I/O: the driver feeds the ciphertext it received,
// sends the ciphertext we produce, and reads and writes plaintext. No socket is ever given to
// OpenSSL, so the same code runs on the ring thread, in tests (an in-memory loopback against
// an OpenSSL server) and in fuzzers.
//
// Trust: one Context per process, built once from PEM text (Node's tls.rootCertificates plus
// the optional --ca-file contents) and shared by every upstream connection (SSL_CTX is
// reference-counted and safe for concurrent SSL_new once configured; nothing mutates it after
// create()). Each Client verifies the chain and the host name: SSL_set1_host for names (with
// SNI), the IP address check for literal addresses (no SNI, RFC 6066 §3). Failures carry a
// stable code (error_name) and OpenSSL's own text (message()), e.g.
//   cert_untrusted: "unable to get local issuer certificate"
// which the driver passes to TypeScript as TransportErrorInfo {code, message}.
//
// Threading: a Context may be used from any thread after creation; a Client from one owner at a
// time. OpenSSL's error queue is per thread; every call clears it first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "util/shared_bytes.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace ringlay::tls {

enum class Error : uint8_t {
  none = 0,
  cert_untrusted,          // chain does not end at a trusted CA (or self-signed)
  cert_hostname_mismatch,  // name or IP not in the certificate
  cert_expired,
  cert_not_yet_valid,
  cert_invalid,            // any other verification failure (bad signature, purpose, ...)
  handshake_failed,        // alert or protocol failure during the handshake
  protocol_error,          // bad record or alert after the handshake
  unexpected_eof,          // peer_closed() without close_notify (reported by the driver)
  bad_ca,                  // Context: PEM text held no usable certificate
  internal_error,          // allocation or OpenSSL setup failure
};
const char* error_name(Error e);

class Context {
 public:
  // Parses every CERTIFICATE block of `ca_pem` into the trust store. Fails with bad_ca only if
  // none parsed; blocks that fail are counted (skipped_certs()). TLS 1.2 minimum.
  static std::unique_ptr<Context> create(std::string_view ca_pem, Error* error,
                                         std::string* message);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  SSL_CTX* raw() const { return ctx_; }
  size_t cert_count() const { return certs_; }
  size_t skipped_certs() const { return skipped_; }

 private:
  Context() = default;
  SSL_CTX* ctx_ = nullptr;
  size_t certs_ = 0;
  size_t skipped_ = 0;
};

enum class Status : uint8_t {
  ok,      // progress made (or nothing to do); check handshake_done(), pending_output()
  closed,  // the peer sent close_notify; no more plaintext will come
  error,   // error() / message(); send pending_output() (an alert) if any, then close
};

class Client {
 public:
  // `host` is the name from the URL: used for SNI and verification. An IPv4/IPv6 literal
  // (brackets allowed) is verified as an address and sends no SNI. The Context must outlive
  // the Client.
  Client(const Context& ctx, std::string_view host);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Produces the ClientHello (take it with take_output()). Call once, after TCP connects.
  Status start();
  // Feeds ciphertext from the socket and appends any plaintext it decrypts to `plain`.
  // Drives the handshake as needed.
  Status feed(std::span<const uint8_t> ciphertext, std::string& plain);
  // Encrypts plaintext. Before the handshake completes it is held and written once it does.
  Status write(std::span<const uint8_t> plaintext);
  // Queues close_notify (take it with take_output()).
  void shutdown();
  // The socket reached EOF. closed if close_notify came first, else error unexpected_eof
  // (a truncation the application could not otherwise tell from a clean end).
  Status on_eof();

  // Ciphertext waiting to be sent, as one buffer the driver keeps until the send completes;
  // empty when none.
  BytesRef take_output();
  size_t pending_output() const;

  bool handshake_done() const { return handshake_done_; }
  Error error() const { return error_; }
  const std::string& message() const { return message_; }
  // The negotiated protocol, e.g. "TLSv1.3" (after the handshake).
  const char* version() const;

 private:
  Status drive_handshake();
  Status read_plain(std::string& plain);
  Status flush_pending_plain();
  Status fail_from_ssl(int ret, bool in_handshake);
  Status fail(Error e, std::string message);

  std::string host_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the peer (owned by ssl_)
  BIO* out_ = nullptr;  // ciphertext to the peer (owned by ssl_)
  bool handshake_done_ = false;
  bool closed_ = false;
  Error error_ = Error::none;
  std::string message_;
  std::string pending_plain_;  // written before the handshake finished
};

}  // namespace ringlay::tls
