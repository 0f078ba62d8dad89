// SPDX-License-Identifier: MIT
// ECDSA signing, for tests and benchmarks only: the relay never signs anything. It lets the
// native tests and benchRawVerify make fresh keys and signatures (and their high-S twins)
// without fixtures.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/keys.h"
#include "util/sha256.h"

namespace ringlay::crypto {

struct SigningKey {
  Curve curve = Curve::secp256k1;
  std::array<uint8_t, 32> secret{};  // big-endian scalar in [1, n-1]
};

// Derives the public key of `secret`. False when the secret is 0 or >= n.
bool signing_key_from_secret(Curve curve, std::span<const uint8_t> secret, SigningKey& out,
                             PublicKey& pub);

// A fresh random key (OpenSSL's RAND_bytes).
bool generate_signing_key(Curve curve, SigningKey& out, PublicKey& pub);

// Compact r||s over `digest`, normalized to low-S (what atproto signers produce).
bool sign_digest(const SigningKey& key, const Sha256Digest& digest, std::array<uint8_t, 64>& sig);

// Replaces s by n - s: the other, high-S signature that verifies mathematically but that
// atproto rejects (and back again).
void flip_s(Curve curve, std::array<uint8_t, 64>& sig);

}  // namespace ringlay::crypto
