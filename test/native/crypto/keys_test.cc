// SPDX-License-Identifier: MIT
#include "crypto/keys.h"

#include <string>
#include <vector>

#include "crypto/base58.h"
#include "crypto/sign.h"
#include "harness.h"
#include "json.h"

namespace c = ringlay::crypto;
using c::Curve;
using c::KeyError;
using ringlay::test::Json;

namespace {

std::string name_of(KeyError e) { return c::name(e); }

std::vector<uint8_t> unhex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string z58(std::span<const uint8_t> bytes) {
  std::string s = "z";
  c::base58_encode(bytes, s);
  return s;
}

bool load(const std::string& rel, Json& j) {
  std::string dir = ringlay::test::shared_dir();
  if (dir.empty()) return false;
  std::string err;
  return ringlay::test::load_json(dir + "/atproto/" + rel, j, &err);
}

}  // namespace

TEST(keys_did_key_round_trip_from_signature_fixtures) {
  Json cases;
  if (!load("interop/crypto/signature-fixtures.json", cases)) {
    return ringlay::test::skip("../shared/atproto/interop/crypto not found");
  }
  REQUIRE(cases.size() == 6);
  for (const Json& tc : cases.items) {
    c::PublicKey key;
    REQUIRE(name_of(c::parse_did_key(tc["publicKeyDid"].str, key)) == "ok");
    Curve want = tc["algorithm"].str == "ES256K" ? Curve::secp256k1 : Curve::p256;
    CHECK(key.curve() == want);
    CHECK_EQ(c::format_did_key(key), tc["publicKeyDid"].str);
    // The fixture's publicKeyMultibase is z + base58(compressed point), no codec: exactly the
    // legacy verification-method encoding; it must name the same key.
    c::PublicKey legacy;
    REQUIRE(name_of(c::parse_verification_method(tc["didDocSuite"].str, tc["publicKeyMultibase"].str,
                                                 legacy)) == "ok");
    CHECK(legacy == key);
    CHECK_EQ(z58(key.compressed()), tc["publicKeyMultibase"].str);
  }
}

TEST(keys_w3c_didkey_fixtures_from_private_keys) {
  Json k256, p256;
  if (!load("interop/crypto/w3c_didkey_K256.json", k256) ||
      !load("interop/crypto/w3c_didkey_P256.json", p256)) {
    return ringlay::test::skip("../shared/atproto/interop/crypto not found");
  }
  REQUIRE(k256.size() == 5);
  for (const Json& tc : k256.items) {
    c::SigningKey sk;
    c::PublicKey pub;
    REQUIRE(c::signing_key_from_secret(Curve::secp256k1, unhex(tc["privateKeyBytesHex"].str), sk, pub));
    CHECK_EQ(c::format_did_key(pub), tc["publicDidKey"].str);
    c::PublicKey back;
    CHECK(c::parse_did_key(tc["publicDidKey"].str, back) == KeyError::ok && back == pub);
  }
  REQUIRE(p256.size() == 1);
  for (const Json& tc : p256.items) {
    std::array<uint8_t, 64> secret{};
    ptrdiff_t n = c::base58_decode(tc["privateKeyBytesBase58"].str, secret);
    REQUIRE(n == 32);
    c::SigningKey sk;
    c::PublicKey pub;
    REQUIRE(c::signing_key_from_secret(Curve::p256, std::span(secret.data(), 32), sk, pub));
    CHECK_EQ(c::format_did_key(pub), tc["publicDidKey"].str);
  }
}

TEST(keys_did_document_multikey_and_legacy_decode_to_same_key) {
  Json modern, legacy;
  if (!load("indigo-captures/did_plc_doc.json", modern) ||
      !load("indigo-captures/did_plc_doc_legacy.json", legacy)) {
    return ringlay::test::skip("../shared/atproto/indigo-captures not found");
  }
  const Json& vm1 = modern["verificationMethod"][size_t{0}];
  const Json& vm2 = legacy["verificationMethod"][size_t{0}];
  CHECK_EQ(vm1["type"].str, std::string("Multikey"));
  CHECK_EQ(vm2["type"].str, std::string("EcdsaSecp256k1VerificationKey2019"));
  c::PublicKey a, b;
  REQUIRE(name_of(c::parse_verification_method(vm1["type"].str, vm1["publicKeyMultibase"].str, a)) == "ok");
  REQUIRE(name_of(c::parse_verification_method(vm2["type"].str, vm2["publicKeyMultibase"].str, b)) == "ok");
  CHECK(a.curve() == Curve::secp256k1);
  CHECK(a == b);
  // The legacy value is the uncompressed point itself.
  CHECK_EQ(z58(a.uncompressed()), vm2["publicKeyMultibase"].str);
  CHECK_EQ(c::format_multikey(b), vm1["publicKeyMultibase"].str);
}

TEST(keys_generated_round_trip_both_encodings) {
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    for (int i = 0; i < 20; ++i) {
      c::SigningKey sk;
      c::PublicKey pub;
      REQUIRE(c::generate_signing_key(curve, sk, pub));
      std::string did = c::format_did_key(pub);
      CHECK(did.starts_with(curve == Curve::secp256k1 ? "did:key:zQ3s" : "did:key:zDna"));
      c::PublicKey back;
      REQUIRE(c::parse_did_key(did, back) == KeyError::ok);
      CHECK(back == pub);
      // Uncompressed and compressed SEC1 give the same key.
      c::PublicKey u;
      auto unc = pub.uncompressed();
      REQUIRE(c::parse_point(curve, unc, u) == KeyError::ok);
      CHECK(u == pub);
      // Multikey with an uncompressed point after the codec is accepted as the same key.
      std::vector<uint8_t> mk = curve == Curve::secp256k1 ? std::vector<uint8_t>{0xe7, 0x01}
                                                          : std::vector<uint8_t>{0x80, 0x24};
      mk.insert(mk.end(), unc.begin(), unc.end());
      c::PublicKey m;
      REQUIRE(c::parse_multikey(z58(mk), m) == KeyError::ok);
      CHECK(m == pub);
    }
  }
}

TEST(keys_reject_malformed_input_with_named_reasons) {
  const std::string good = "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc";
  c::PublicKey key;
  CHECK_EQ(name_of(c::parse_did_key(good, key)), std::string("ok"));
  CHECK_EQ(name_of(c::parse_did_key(good.substr(8), key)), std::string("not_did_key"));
  CHECK_EQ(name_of(c::parse_did_key("did:key:" + good.substr(9), key)), std::string("not_base58btc"));
  CHECK_EQ(name_of(c::parse_multikey("", key)), std::string("not_base58btc"));
  CHECK_EQ(name_of(c::parse_multikey("zQ3sh0wJ", key)), std::string("bad_base58"));
  // ed25519 (multicodec 0xed 0x01) is valid did:key syntax but not an atproto key type.
  CHECK_EQ(name_of(c::parse_did_key("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", key)),
           std::string("unsupported_key_type"));
  std::vector<uint8_t> bytes = {0xe7};  // truncated varint
  CHECK_EQ(name_of(c::parse_multikey(z58(bytes), key)), std::string("bad_multicodec"));
  bytes = {0xe7, 0x81, 0x00};  // non-minimal varint for 0xe7
  CHECK_EQ(name_of(c::parse_multikey(z58(bytes), key)), std::string("bad_multicodec"));
  bytes = {0xe7, 0x01, 0x02, 0x03};  // too short for a point
  CHECK_EQ(name_of(c::parse_multikey(z58(bytes), key)), std::string("bad_key_length"));
  // A compressed x with no matching y on the curve: x = 5 happens to be off secp256k1
  // (5^3 + 7 = 132 is a non-residue); for P-256 try x values until one is rejected.
  std::vector<uint8_t> pt(33, 0);
  pt[0] = 0x02;
  pt[32] = 5;
  CHECK_EQ(name_of(c::parse_point(Curve::secp256k1, pt, key)), std::string("invalid_point"));
  int p256_rejects = 0;
  for (uint8_t x = 1; x < 20; ++x) {
    pt[32] = x;
    c::PublicKey scratch;
    if (c::parse_point(Curve::p256, pt, scratch) == KeyError::invalid_point) ++p256_rejects;
  }
  CHECK(p256_rejects > 0 && p256_rejects < 19);
  // Uncompressed point with y flipped by one bit is off the curve.
  c::PublicKey good_key;
  REQUIRE(c::parse_did_key(good, good_key) == KeyError::ok);
  auto unc = good_key.uncompressed();
  unc[64] ^= 1;
  CHECK_EQ(name_of(c::parse_point(Curve::secp256k1, unc, key)), std::string("invalid_point"));
  unc[0] = 0x06;  // "hybrid" prefix
  unc[64] ^= 1;
  CHECK_EQ(name_of(c::parse_point(Curve::secp256k1, unc, key)), std::string("invalid_point"));
  CHECK_EQ(name_of(c::parse_verification_method("Ed25519VerificationKey2020", "z6Mk", key)),
           std::string("unsupported_key_type"));
  CHECK_EQ(name_of(c::parse_verification_method("EcdsaSecp256k1VerificationKey2019", "zQ3s", key)),
           std::string("bad_key_length"));
  // Errors leave the output untouched: `key` still holds the first, successful parse.
  CHECK(key.valid() && key == good_key);
  CHECK_EQ(name_of(KeyError::no_signing_key), std::string("no_signing_key"));
}

TEST(keys_move_and_shared_refs) {
  c::PublicKey key;
  REQUIRE(c::parse_did_key("did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo", key) ==
          KeyError::ok);
  auto compressed = key.compressed();
  c::PublicKey moved = std::move(key);
  CHECK(!key.valid());
  CHECK(moved.valid() && moved.p256() != nullptr && moved.compressed() == compressed);
  c::KeyRef ref = c::make_key_ref(std::move(moved));
  REQUIRE(ref != nullptr);
  CHECK(ref->compressed() == compressed);
  CHECK(c::make_key_ref(c::PublicKey()) == nullptr);
}
