// SPDX-License-Identifier: MIT
// secp256k1 through libsecp256k1 (compiled from the secp256k1 npm package's C source).
#include <cstring>

#include "crypto/curves.h"
#include "util/assert.h"

namespace ringlay::crypto::detail {

const secp256k1_context* k256_verify_context() {
  // Building the verify tables takes a few milliseconds, so it is done once. The context is
  // only read afterwards (libsecp256k1 documents const contexts as safe to share between
  // threads) and deliberately never destroyed: worker threads may still verify during exit.
  static const secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
  RL_ASSERT(ctx != nullptr);
  return ctx;
}

bool k256_parse(std::span<const uint8_t> point, secp256k1_pubkey& key,
                std::array<uint8_t, 33>& compressed) {
  // libsecp256k1 also accepts the "hybrid" 06/07 prefixes; SEC1 keys in DID documents never
  // use them, so only 02/03 (33 bytes) and 04 (65 bytes) are allowed.
  if (point.size() == 33 ? (point[0] != 0x02 && point[0] != 0x03)
                         : (point.size() != 65 || point[0] != 0x04)) {
    return false;
  }
  const secp256k1_context* ctx = k256_verify_context();
  if (secp256k1_ec_pubkey_parse(ctx, &key, point.data(), point.size()) != 1) return false;
  size_t len = compressed.size();
  int ok = secp256k1_ec_pubkey_serialize(ctx, compressed.data(), &len, &key, SECP256K1_EC_COMPRESSED);
  RL_ASSERT(ok == 1 && len == 33);
  return true;
}

void k256_uncompressed(const secp256k1_pubkey& key, std::array<uint8_t, 65>& out) {
  size_t len = out.size();
  int ok = secp256k1_ec_pubkey_serialize(k256_verify_context(), out.data(), &len, &key,
                                         SECP256K1_EC_UNCOMPRESSED);
  RL_ASSERT(ok == 1 && len == 65);
}

int k256_verify(const secp256k1_pubkey& key, const Sha256Digest& digest, const uint8_t* rs) {
  const secp256k1_context* ctx = k256_verify_context();
  secp256k1_ecdsa_signature sig;
  // The caller checked 0 < r,s < n, so parsing cannot overflow.
  if (secp256k1_ecdsa_signature_parse_compact(ctx, &sig, rs) != 1) return 0;
  return secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &key) == 1 ? 1 : 0;
}

}  // namespace ringlay::crypto::detail
