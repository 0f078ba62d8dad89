// SPDX-License-Identifier: MIT
#include "crypto/keys.h"

#include <algorithm>
#include <utility>

#include "crypto/base58.h"
#include "crypto/curves.h"
#include "util/assert.h"

namespace ringlay::crypto {
namespace {

constexpr std::string_view kDidKeyPrefix = "did:key:";
// Longest decoded Multikey we accept: a 3-byte varint + a 65-byte point, with room to spare
// so that slightly-too-long input is reported as a bad length rather than bad base58.
constexpr size_t kMaxDecoded = 96;

// Unsigned LEB128 as multicodec uses it; rejects truncated and non-minimal encodings.
bool read_varint(std::span<const uint8_t> in, uint64_t& value, size_t& used) {
  value = 0;
  for (size_t i = 0; i < in.size() && i < 9; ++i) {
    value |= static_cast<uint64_t>(in[i] & 0x7f) << (7 * i);
    if ((in[i] & 0x80) == 0) {
      if (i > 0 && in[i] == 0) return false;  // non-minimal
      used = i + 1;
      return true;
    }
  }
  return false;
}

KeyError decode_z(std::string_view multibase, std::array<uint8_t, kMaxDecoded>& buf, size_t& len) {
  if (multibase.empty() || multibase[0] != 'z') return KeyError::not_base58btc;
  ptrdiff_t n = base58_decode(multibase.substr(1), buf);
  if (n < 0) return KeyError::bad_base58;
  len = static_cast<size_t>(n);
  return KeyError::ok;
}

KeyError parse_sized_point(Curve curve, std::span<const uint8_t> point, PublicKey& out) {
  if (point.size() != 33 && point.size() != 65) return KeyError::bad_key_length;
  return parse_point(curve, point, out);
}

}  // namespace

const char* name(Curve curve) {
  switch (curve) {
    case Curve::secp256k1: return "secp256k1";
    case Curve::p256: return "p256";
  }
  return "unknown";
}

const char* name(KeyError error) {
  switch (error) {
    case KeyError::ok: return "ok";
    case KeyError::not_did_key: return "not_did_key";
    case KeyError::not_base58btc: return "not_base58btc";
    case KeyError::bad_base58: return "bad_base58";
    case KeyError::bad_multicodec: return "bad_multicodec";
    case KeyError::unsupported_key_type: return "unsupported_key_type";
    case KeyError::bad_key_length: return "bad_key_length";
    case KeyError::invalid_point: return "invalid_point";
    case KeyError::no_signing_key: return "no_signing_key";
    case KeyError::internal_error: return "internal_error";
  }
  return "unknown";
}

PublicKey::~PublicKey() {
  if (p256_ != nullptr) detail::p256_free(p256_);
}

PublicKey::PublicKey(PublicKey&& other) noexcept
    : valid_(std::exchange(other.valid_, false)),
      curve_(other.curve_),
      compressed_(other.compressed_),
      k256_(other.k256_),
      p256_(std::exchange(other.p256_, nullptr)) {}

PublicKey& PublicKey::operator=(PublicKey&& other) noexcept {
  if (this != &other) {
    if (p256_ != nullptr) detail::p256_free(p256_);
    valid_ = std::exchange(other.valid_, false);
    curve_ = other.curve_;
    compressed_ = other.compressed_;
    k256_ = other.k256_;
    p256_ = std::exchange(other.p256_, nullptr);
  }
  return *this;
}

std::array<uint8_t, 65> PublicKey::uncompressed() const {
  std::array<uint8_t, 65> out{};
  RL_ASSERT(valid_);
  if (curve_ == Curve::secp256k1) {
    detail::k256_uncompressed(k256_, out);
  } else {
    bool ok = detail::p256_uncompressed(p256_, out);
    RL_ASSERT(ok);
  }
  return out;
}

KeyError parse_point(Curve curve, std::span<const uint8_t> point, PublicKey& out) {
  if (point.size() != 33 && point.size() != 65) return KeyError::bad_key_length;
  PublicKey key;
  key.curve_ = curve;
  if (curve == Curve::secp256k1) {
    if (!detail::k256_parse(point, key.k256_, key.compressed_)) return KeyError::invalid_point;
  } else {
    bool oom = false;
    key.p256_ = detail::p256_parse(point, key.compressed_, &oom);
    if (key.p256_ == nullptr) return oom ? KeyError::internal_error : KeyError::invalid_point;
  }
  key.valid_ = true;
  out = std::move(key);
  return KeyError::ok;
}

KeyError parse_multikey(std::string_view multibase, PublicKey& out) {
  std::array<uint8_t, kMaxDecoded> buf;
  size_t len = 0;
  if (KeyError e = decode_z(multibase, buf, len); e != KeyError::ok) return e;
  uint64_t codec = 0;
  size_t used = 0;
  if (!read_varint({buf.data(), len}, codec, used)) return KeyError::bad_multicodec;
  Curve curve;
  if (codec == kMulticodecSecp256k1) {
    curve = Curve::secp256k1;
  } else if (codec == kMulticodecP256) {
    curve = Curve::p256;
  } else {
    return KeyError::unsupported_key_type;
  }
  return parse_sized_point(curve, {buf.data() + used, len - used}, out);
}

KeyError parse_did_key(std::string_view did, PublicKey& out) {
  if (!did.starts_with(kDidKeyPrefix)) return KeyError::not_did_key;
  return parse_multikey(did.substr(kDidKeyPrefix.size()), out);
}

KeyError parse_verification_method(std::string_view type, std::string_view multibase,
                                   PublicKey& out) {
  Curve curve;
  if (type == "Multikey") {
    return parse_multikey(multibase, out);
  } else if (type == "EcdsaSecp256k1VerificationKey2019") {
    curve = Curve::secp256k1;
  } else if (type == "EcdsaSecp256r1VerificationKey2019") {
    curve = Curve::p256;
  } else {
    return KeyError::unsupported_key_type;
  }
  std::array<uint8_t, kMaxDecoded> buf;
  size_t len = 0;
  if (KeyError e = decode_z(multibase, buf, len); e != KeyError::ok) return e;
  return parse_sized_point(curve, {buf.data(), len}, out);
}

KeyError parse_key_text(std::string_view text, std::string_view type, PublicKey& out) {
  if (!type.empty()) return parse_verification_method(type, text, out);
  if (text.starts_with(kDidKeyPrefix)) return parse_did_key(text, out);
  return parse_multikey(text, out);
}

KeyRef make_key_ref(PublicKey&& key) {
  if (!key.valid()) return nullptr;
  return std::make_shared<const PublicKey>(std::move(key));
}

std::string format_multikey(const PublicKey& key) {
  RL_ASSERT(key.valid());
  uint8_t bytes[2 + 33];
  if (key.curve() == Curve::secp256k1) {
    bytes[0] = 0xe7;
    bytes[1] = 0x01;
  } else {
    bytes[0] = 0x80;
    bytes[1] = 0x24;
  }
  std::copy(key.compressed().begin(), key.compressed().end(), bytes + 2);
  std::string out = "z";
  base58_encode(bytes, out);
  return out;
}

std::string format_did_key(const PublicKey& key) {
  return std::string(kDidKeyPrefix) + format_multikey(key);
}

}  // namespace ringlay::crypto
