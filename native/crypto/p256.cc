// SPDX-License-Identifier: MIT
// P-256 through OpenSSL's EC_KEY / ECDSA_do_verify.
//
// These EC_KEY functions are deprecated in OpenSSL 3.0 (still present in every 3.x, and Node
// builds with them). They are used on purpose, measured on the target machine with the same
// OpenSSL 3.0: ECDSA_do_verify on an EC_KEY built once is the fastest verify OpenSSL offers
// (~44 us), it takes no global locks per call (EVP_PKEY_verify fetches the provider's
// signature method on every EVP_PKEY_CTX, ~5% slower single-threaded and a shared lock when
// many workers verify), and it needs no DER re-encoding of the compact signature. A
// hand-rolled verify on EC_POINT_mul is slower still (BN_mod_inverse ~8 us, where the
// EC_KEY path uses the curve's fast order inversion). Hence the local warning suppression.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/curves.h"
#include "util/assert.h"

namespace ringlay::crypto::detail {

EC_KEY* p256_parse(std::span<const uint8_t> point, std::array<uint8_t, 33>& compressed,
                   bool* oom) {
  *oom = false;
  if (point.size() == 33 ? (point[0] != 0x02 && point[0] != 0x03)
                         : (point.size() != 65 || point[0] != 0x04)) {
    return nullptr;
  }
  EC_KEY* key = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (key == nullptr) {
    *oom = true;
    ERR_clear_error();
    return nullptr;
  }
  // oct2key decompresses or checks that (x, y) is on the curve; P-256 has cofactor 1, so a
  // point on the curve other than infinity (unencodable in 33/65 bytes) is in the group.
  if (EC_KEY_oct2key(key, point.data(), point.size(), nullptr) != 1 ||
      EC_POINT_is_at_infinity(EC_KEY_get0_group(key), EC_KEY_get0_public_key(key)) == 1) {
    EC_KEY_free(key);
    // Leave no error on this thread's OpenSSL queue: on the JS thread Node would see it.
    ERR_clear_error();
    return nullptr;
  }
  size_t len = EC_POINT_point2oct(EC_KEY_get0_group(key), EC_KEY_get0_public_key(key),
                                  POINT_CONVERSION_COMPRESSED, compressed.data(), compressed.size(),
                                  nullptr);
  if (len != 33) {
    EC_KEY_free(key);
    *oom = true;
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

void p256_free(EC_KEY* key) { EC_KEY_free(key); }

bool p256_uncompressed(const EC_KEY* key, std::array<uint8_t, 65>& out) {
  size_t len = EC_POINT_point2oct(EC_KEY_get0_group(key), EC_KEY_get0_public_key(key),
                                  POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr);
  if (len != 65) ERR_clear_error();
  return len == 65;
}

int p256_verify(const EC_KEY* key, const Sha256Digest& digest, const uint8_t* rs) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(rs, 32, nullptr);
  BIGNUM* s = BN_bin2bn(rs + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return -1;
  }
  ECDSA_SIG_set0(sig, r, s);  // sig owns r and s from here
  // ECDSA_do_verify only reads the key (group, public point); its non-const parameter is
  // historical, so sharing one EC_KEY between verifying threads is safe.
  int v = ECDSA_do_verify(digest.data(), static_cast<int>(digest.size()), sig,
                          const_cast<EC_KEY*>(key));
  ECDSA_SIG_free(sig);
  if (v != 1) ERR_clear_error();
  return v == 1 ? 1 : (v == 0 ? 0 : -1);
}

}  // namespace ringlay::crypto::detail
