// SPDX-License-Identifier: MIT
#include "crypto/verify.h"

#include <cstring>

#include "crypto/curves.h"

namespace ringlay::crypto {
namespace detail {
namespace {

constexpr Scalar kK256Order = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
constexpr Scalar kK256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
constexpr Scalar kP256Order = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
constexpr Scalar kP256HalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

}  // namespace

const Scalar& order(Curve curve) { return curve == Curve::secp256k1 ? kK256Order : kP256Order; }
const Scalar& half_order(Curve curve) {
  return curve == Curve::secp256k1 ? kK256HalfOrder : kP256HalfOrder;
}

int compare(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, 32); }

bool is_zero(const uint8_t* a) {
  uint8_t acc = 0;
  for (int i = 0; i < 32; ++i) acc |= a[i];
  return acc == 0;
}

}  // namespace detail

const char* name(VerifyError error) {
  switch (error) {
    case VerifyError::ok: return "ok";
    case VerifyError::no_key: return "no_key";
    case VerifyError::der_signature: return "der_signature";
    case VerifyError::bad_signature_length: return "bad_signature_length";
    case VerifyError::r_out_of_range: return "r_out_of_range";
    case VerifyError::s_out_of_range: return "s_out_of_range";
    case VerifyError::high_s: return "high_s";
    case VerifyError::bad_signature: return "bad_signature";
    case VerifyError::internal_error: return "internal_error";
  }
  return "unknown";
}

VerifyError check_signature_format(Curve curve, std::span<const uint8_t> sig) {
  if (sig.size() != kSignatureSize) {
    // DER: SEQUENCE tag, a one-byte length covering the rest, then INTEGER r (tag 02). Any
    // ECDSA P-256/secp256k1 DER signature is 8..72 bytes.
    bool der = sig.size() >= 8 && sig.size() <= 72 && sig[0] == 0x30 &&
               sig[1] == sig.size() - 2 && sig[2] == 0x02;
    return der ? VerifyError::der_signature : VerifyError::bad_signature_length;
  }
  const uint8_t* r = sig.data();
  const uint8_t* s = sig.data() + 32;
  const detail::Scalar& n = detail::order(curve);
  if (detail::is_zero(r) || detail::compare(r, n.data()) >= 0) return VerifyError::r_out_of_range;
  if (detail::is_zero(s) || detail::compare(s, n.data()) >= 0) return VerifyError::s_out_of_range;
  if (detail::compare(s, detail::half_order(curve).data()) > 0) return VerifyError::high_s;
  return VerifyError::ok;
}

VerifyError verify(const PublicKey& key, const Sha256Digest& digest, std::span<const uint8_t> sig) {
  if (!key.valid()) return VerifyError::no_key;
  if (VerifyError e = check_signature_format(key.curve(), sig); e != VerifyError::ok) return e;
  int v = key.curve() == Curve::secp256k1 ? detail::k256_verify(key.k256(), digest, sig.data())
                                          : detail::p256_verify(key.p256(), digest, sig.data());
  if (v < 0) return VerifyError::internal_error;
  return v == 1 ? VerifyError::ok : VerifyError::bad_signature;
}

void init() { (void)detail::k256_verify_context(); }

}  // namespace ringlay::crypto
