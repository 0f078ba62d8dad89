// SPDX-License-Identifier: MIT
// Public keys for commit signatures (protocol.md §3.3, §6.2). Every accepted encoding —
// did:key, Multikey publicKeyMultibase, the legacy EcdsaSecp256k1VerificationKey2019 /
// EcdsaSecp256r1VerificationKey2019 DID-document types — is normalized into one PublicKey,
// parsed and validated (point on the curve) once, when JS pushes a resolved identity down.
// After that a key is immutable and verifying with it does no parsing: secp256k1 keys hold
// libsecp256k1's parsed form, P-256 keys an OpenSSL EC_KEY built once.
//
// Threading: parsing and formatting are reentrant. A PublicKey is immutable after parsing and
// may be read (verified with) from any number of threads at once; share it as a KeyRef.
#pragma once

#include <openssl/types.h>
#include <secp256k1.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ringlay::crypto {

enum class Curve : uint8_t { secp256k1 = 0, p256 = 1 };

// "secp256k1" / "p256".
const char* name(Curve curve);

// Why a key could not be parsed. Stable snake_case names via name().
enum class KeyError : uint8_t {
  ok = 0,
  not_did_key,            // a did:key was expected and the text lacks the "did:key:" prefix
  not_base58btc,          // multibase text that is not 'z' (base58btc)
  bad_base58,             // a character outside the base58btc alphabet, or too long
  bad_multicodec,         // the multicodec varint prefix is truncated or malformed
  unsupported_key_type,   // another multicodec (ed25519, …) or DID-document type
  bad_key_length,         // the point is neither 33 (compressed) nor 65 (uncompressed) bytes
  invalid_point,          // not a point on the curve (or an encoding prefix other than 02/03/04)
  no_signing_key,         // identity resolved but has no usable #atproto key (set by JS)
  internal_error,         // an allocation inside OpenSSL failed
};
const char* name(KeyError error);

// Multicodec codes of the two curves atproto uses (varints e7 01 / 80 24).
inline constexpr uint64_t kMulticodecSecp256k1 = 0xe7;
inline constexpr uint64_t kMulticodecP256 = 0x1200;

class PublicKey {
 public:
  PublicKey() = default;
  ~PublicKey();
  PublicKey(PublicKey&& other) noexcept;
  PublicKey& operator=(PublicKey&& other) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // False for a default-constructed or moved-from key.
  bool valid() const { return valid_; }
  Curve curve() const { return curve_; }
  // SEC1 compressed point (02/03 prefix + x): the canonical identity of the key.
  const std::array<uint8_t, 33>& compressed() const { return compressed_; }
  // SEC1 uncompressed point (04 + x + y).
  std::array<uint8_t, 65> uncompressed() const;

  // Same curve and point.
  bool operator==(const PublicKey& other) const {
    return valid_ == other.valid_ && curve_ == other.curve_ && compressed_ == other.compressed_;
  }

  // Native forms for crypto/verify.cc: libsecp256k1's parsed key (secp256k1 only) and the
  // OpenSSL key (P-256 only, never null for a valid P-256 key).
  const secp256k1_pubkey& k256() const { return k256_; }
  const EC_KEY* p256() const { return p256_; }

 private:
  friend KeyError parse_point(Curve curve, std::span<const uint8_t> point, PublicKey& out);

  bool valid_ = false;
  Curve curve_ = Curve::secp256k1;
  std::array<uint8_t, 33> compressed_{};
  secp256k1_pubkey k256_{};
  EC_KEY* p256_ = nullptr;
};

using KeyRef = std::shared_ptr<const PublicKey>;

// A SEC1 point: 33 bytes compressed (02/03) or 65 bytes uncompressed (04). Validates that it is
// on the curve. On error `out` is left unchanged.
KeyError parse_point(Curve curve, std::span<const uint8_t> point, PublicKey& out);

// Multikey: "z" + base58btc(multicodec varint + point). The point is normally compressed;
// an uncompressed one is accepted too (it names the same key unambiguously).
KeyError parse_multikey(std::string_view multibase, PublicKey& out);

// "did:key:" + Multikey.
KeyError parse_did_key(std::string_view did, PublicKey& out);

// A DID-document verificationMethod: `type` "Multikey" (publicKeyMultibase as above), or the
// legacy "EcdsaSecp256k1VerificationKey2019" / "EcdsaSecp256r1VerificationKey2019", whose
// publicKeyMultibase is "z" + base58btc(point) without a multicodec prefix (uncompressed in
// DID documents; compressed accepted too, as @atproto/common-web does). Other types →
// unsupported_key_type.
KeyError parse_verification_method(std::string_view type, std::string_view multibase,
                                   PublicKey& out);

// Convenience: any of the text forms JS hands down — "did:key:…", or a Multikey multibase
// when `type` is empty, or a verification method of that type.
KeyError parse_key_text(std::string_view text, std::string_view type, PublicKey& out);

// Moves a parsed key into an immutable shared one; null when `key` is not valid().
KeyRef make_key_ref(PublicKey&& key);

// "z" + base58btc(multicodec + compressed point).
std::string format_multikey(const PublicKey& key);
// "did:key:" + format_multikey(key).
std::string format_did_key(const PublicKey& key);

}  // namespace ringlay::crypto
