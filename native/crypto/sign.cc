// SPDX-License-Identifier: MIT
// Test/bench signing. The EC_KEY / ECDSA_do_sign calls are deprecated in OpenSSL 3.0; this
// file mirrors p256.cc, which explains why that API is used (same object model as verify).
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "crypto/sign.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "crypto/curves.h"
#include "util/assert.h"

namespace ringlay::crypto {
namespace {

const secp256k1_context* k256_sign_context() {
  static const secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
  RL_ASSERT(ctx != nullptr);
  return ctx;
}

bool scalar_in_range(Curve curve, const uint8_t* k) {
  return !detail::is_zero(k) && detail::compare(k, detail::order(curve).data()) < 0;
}

// out = n - s (s in [1, n-1]), big-endian.
void sub_from_order(Curve curve, uint8_t* s) {
  const detail::Scalar& n = detail::order(curve);
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = static_cast<int>(n[i]) - static_cast<int>(s[i]) - borrow;
    borrow = d < 0 ? 1 : 0;
    s[i] = static_cast<uint8_t>(d + (borrow << 8));
  }
}

// A P-256 EC_KEY holding `secret` and its public point, or null.
EC_KEY* p256_private(const std::array<uint8_t, 32>& secret) {
  EC_KEY* key = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM* d = BN_bin2bn(secret.data(), 32, nullptr);
  const EC_GROUP* group = key != nullptr ? EC_KEY_get0_group(key) : nullptr;
  EC_POINT* q = group != nullptr ? EC_POINT_new(group) : nullptr;
  bool ok = q != nullptr && d != nullptr && EC_POINT_mul(group, q, d, nullptr, nullptr, nullptr) == 1 &&
            EC_KEY_set_private_key(key, d) == 1 && EC_KEY_set_public_key(key, q) == 1;
  EC_POINT_free(q);
  BN_clear_free(d);
  if (!ok) {
    EC_KEY_free(key);
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

}  // namespace

bool signing_key_from_secret(Curve curve, std::span<const uint8_t> secret, SigningKey& out,
                             PublicKey& pub) {
  if (secret.size() != 32 || !scalar_in_range(curve, secret.data())) return false;
  SigningKey key;
  key.curve = curve;
  std::copy(secret.begin(), secret.end(), key.secret.begin());
  uint8_t point[65];
  size_t len = sizeof point;
  if (curve == Curve::secp256k1) {
    secp256k1_pubkey pk;
    if (secp256k1_ec_pubkey_create(k256_sign_context(), &pk, key.secret.data()) != 1) return false;
    int ok = secp256k1_ec_pubkey_serialize(k256_sign_context(), point, &len, &pk,
                                           SECP256K1_EC_COMPRESSED);
    RL_ASSERT(ok == 1);
  } else {
    EC_KEY* ec = p256_private(key.secret);
    if (ec == nullptr) return false;
    len = EC_POINT_point2oct(EC_KEY_get0_group(ec), EC_KEY_get0_public_key(ec),
                             POINT_CONVERSION_COMPRESSED, point, sizeof point, nullptr);
    EC_KEY_free(ec);
    if (len != 33) return false;
  }
  if (parse_point(curve, {point, len}, pub) != KeyError::ok) return false;
  out = key;
  return true;
}

bool generate_signing_key(Curve curve, SigningKey& out, PublicKey& pub) {
  uint8_t secret[32];
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (RAND_bytes(secret, sizeof secret) != 1) return false;
    if (signing_key_from_secret(curve, secret, out, pub)) return true;
  }
  return false;
}

bool sign_digest(const SigningKey& key, const Sha256Digest& digest, std::array<uint8_t, 64>& sig) {
  if (key.curve == Curve::secp256k1) {
    secp256k1_ecdsa_signature s;
    if (secp256k1_ecdsa_sign(k256_sign_context(), &s, digest.data(), key.secret.data(), nullptr,
                             nullptr) != 1) {
      return false;
    }
    secp256k1_ecdsa_signature_serialize_compact(k256_sign_context(), sig.data(), &s);
  } else {
    EC_KEY* ec = p256_private(key.secret);
    if (ec == nullptr) return false;
    ECDSA_SIG* s = ECDSA_do_sign(digest.data(), static_cast<int>(digest.size()), ec);
    EC_KEY_free(ec);
    if (s == nullptr) {
      ERR_clear_error();
      return false;
    }
    bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(s), sig.data(), 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(s), sig.data() + 32, 32) == 32;
    ECDSA_SIG_free(s);
    if (!ok) return false;
  }
  if (detail::compare(sig.data() + 32, detail::half_order(key.curve).data()) > 0) {
    sub_from_order(key.curve, sig.data() + 32);
  }
  return true;
}

void flip_s(Curve curve, std::array<uint8_t, 64>& sig) { sub_from_order(curve, sig.data() + 32); }

}  // namespace ringlay::crypto
