// SPDX-License-Identifier: MIT
// Internal to native/crypto: the per-curve primitives behind keys.cc, verify.cc and sign.cc.
// secp256k1 goes through libsecp256k1 (k256.cc), P-256 through OpenSSL's EC_KEY (p256.cc);
// the rest of the module never touches either library directly.
#pragma once

#include <openssl/types.h>
#include <secp256k1.h>

#include <array>
#include <cstdint>
#include <span>

#include "crypto/keys.h"
#include "util/sha256.h"

namespace ringlay::crypto::detail {

using Scalar = std::array<uint8_t, 32>;  // big-endian

// Group orders n and floor(n/2) (protocol.md §3.3): low-S means s <= floor(n/2).
const Scalar& order(Curve curve);
const Scalar& half_order(Curve curve);

// Big-endian compare of two 32-byte scalars: <0, 0, >0.
int compare(const uint8_t* a, const uint8_t* b);
bool is_zero(const uint8_t* a);

// --- secp256k1 (k256.cc) ---
// The verify context: created on first use, shared read-only by every thread, never freed.
const secp256k1_context* k256_verify_context();
// Parses a 33/65-byte SEC1 point; fills the parsed key and its compressed form.
bool k256_parse(std::span<const uint8_t> point, secp256k1_pubkey& key,
                std::array<uint8_t, 33>& compressed);
void k256_uncompressed(const secp256k1_pubkey& key, std::array<uint8_t, 65>& out);
// 1 valid, 0 invalid. `rs` is compact r||s already range- and low-S-checked by the caller.
int k256_verify(const secp256k1_pubkey& key, const Sha256Digest& digest, const uint8_t* rs);

// --- P-256 (p256.cc) ---
// Parses a 33/65-byte SEC1 point into a new EC_KEY (null when invalid or out of memory; *oom
// tells which) and its compressed form.
EC_KEY* p256_parse(std::span<const uint8_t> point, std::array<uint8_t, 33>& compressed,
                   bool* oom);
void p256_free(EC_KEY* key);
bool p256_uncompressed(const EC_KEY* key, std::array<uint8_t, 65>& out);
// 1 valid, 0 invalid, -1 internal error (allocation). `rs` as for k256_verify.
int p256_verify(const EC_KEY* key, const Sha256Digest& digest, const uint8_t* rs);

}  // namespace ringlay::crypto::detail
