// SPDX-License-Identifier: MIT
// ECDSA verification of commit signatures (protocol.md §3.3): SHA-256 digest, 64-byte compact
// r||s signature only, low-S required on both curves. secp256k1 via libsecp256k1, P-256 via
// OpenSSL.
//
// Threading: verify() is reentrant and may run on any number of threads at once with the same
// key. It allocates nothing for secp256k1 and a few small OpenSSL objects for P-256.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/keys.h"
#include "util/sha256.h"

namespace ringlay::crypto {

// Why a signature was rejected. Stable snake_case names via name(). The checks run in this
// order, so a signature gets the first reason that applies.
enum class VerifyError : uint8_t {
  ok = 0,
  no_key,                // the key is not valid() (default-constructed, moved-from)
  der_signature,         // looks like an ASN.1 DER signature (30 len …): atproto allows compact only
  bad_signature_length,  // not 64 bytes (and not DER)
  r_out_of_range,        // r == 0 or r >= n
  s_out_of_range,        // s == 0 or s >= n
  high_s,                // s > n/2: a malleable twin of a valid signature, rejected by atproto
  bad_signature,         // well-formed but does not verify with this key and digest
  internal_error,        // an allocation inside OpenSSL failed
};
const char* name(VerifyError error);

inline constexpr size_t kSignatureSize = 64;

// Format checks only (length, DER shape, r/s range, low-S), no curve arithmetic.
VerifyError check_signature_format(Curve curve, std::span<const uint8_t> sig);

// Full verification of `sig` over the SHA-256 `digest` of the signed bytes.
VerifyError verify(const PublicKey& key, const Sha256Digest& digest, std::span<const uint8_t> sig);

// SHA-256 of `message`, then verify().
inline VerifyError verify_message(const PublicKey& key, std::span<const uint8_t> message,
                                  std::span<const uint8_t> sig) {
  return verify(key, sha256(message), sig);
}

// Warms up the per-process state (libsecp256k1's verify tables) so the first verify on a
// worker does not pay for it. Optional; verify() does it on first use.
void init();

}  // namespace ringlay::crypto
