// SPDX-License-Identifier: MIT
#include "crypto/verify.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/sign.h"
#include "harness.h"
#include "json.h"

namespace c = ringlay::crypto;
using c::Curve;
using c::VerifyError;
using ringlay::test::Json;

namespace {

std::string name_of(VerifyError e) { return c::name(e); }

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ringlay::Sha256Digest random_digest(std::mt19937& rng) {
  ringlay::Sha256Digest d;
  for (auto& b : d) b = static_cast<uint8_t>(rng());
  return d;
}

}  // namespace

TEST(verify_signature_fixtures) {
  std::string dir = ringlay::test::shared_dir();
  if (dir.empty()) return ringlay::test::skip("../shared/atproto not found");
  Json cases;
  REQUIRE(ringlay::test::load_json(dir + "/atproto/interop/crypto/signature-fixtures.json", cases));
  REQUIRE(cases.size() == 6);
  int valid = 0, high_s = 0, der = 0;
  for (const Json& tc : cases.items) {
    std::string msg, sig;
    REQUIRE(ringlay::test::base64_decode(tc["messageBase64"].str, msg));
    REQUIRE(ringlay::test::base64_decode(tc["signatureBase64"].str, sig));
    c::PublicKey key;
    REQUIRE(c::parse_did_key(tc["publicKeyDid"].str, key) == c::KeyError::ok);
    std::string got = name_of(c::verify_message(key, bytes_of(msg), bytes_of(sig)));
    std::string tags;
    for (const Json& t : tc["tags"].items) tags += t.str;
    if (tc["validSignature"].b) {
      CHECK_EQ(got, std::string("ok"));
      ++valid;
    } else if (tags == "high-s") {
      CHECK_EQ(got, std::string("high_s"));
      // The low-S twin (s' = n - s) of the rejected signature is the valid one.
      REQUIRE(sig.size() == 64);
      std::array<uint8_t, 64> twin;
      std::copy(sig.begin(), sig.end(), reinterpret_cast<char*>(twin.data()));
      c::flip_s(key.curve(), twin);
      CHECK_EQ(name_of(c::verify_message(key, bytes_of(msg), twin)), std::string("ok"));
      ++high_s;
    } else if (tags == "der-encoded") {
      CHECK_EQ(got, std::string("der_signature"));
      ++der;
    } else {
      CHECK(false);
    }
  }
  CHECK_EQ(valid, 2);
  CHECK_EQ(high_s, 2);
  CHECK_EQ(der, 2);
}

TEST(verify_generated_signatures_and_their_corruptions) {
  std::mt19937 rng(11);
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    c::SigningKey sk, other_sk;
    c::PublicKey pub, other;
    REQUIRE(c::generate_signing_key(curve, sk, pub));
    REQUIRE(c::generate_signing_key(curve, other_sk, other));
    for (int i = 0; i < 40; ++i) {
      ringlay::Sha256Digest d = random_digest(rng);
      std::array<uint8_t, 64> sig;
      REQUIRE(c::sign_digest(sk, d, sig));
      CHECK_EQ(name_of(c::verify(pub, d, sig)), std::string("ok"));
      CHECK_EQ(name_of(c::verify(other, d, sig)), std::string("bad_signature"));
      ringlay::Sha256Digest d2 = d;
      d2[rng() % 32] ^= static_cast<uint8_t>(1u << (rng() % 8));
      CHECK_EQ(name_of(c::verify(pub, d2, sig)), std::string("bad_signature"));
      auto flipped = sig;
      flipped[32 + rng() % 32] ^= 0x01;  // a bit of s (stays low-S: the top bit is untouched)
      std::string r = name_of(c::verify(pub, d, flipped));
      CHECK(r == "bad_signature" || r == "high_s");
      auto twin = sig;
      c::flip_s(curve, twin);
      CHECK_EQ(name_of(c::verify(pub, d, twin)), std::string("high_s"));
      CHECK_EQ(name_of(c::verify(pub, d, std::span(sig.data(), 63))), std::string("bad_signature_length"));
    }
  }
}

TEST(verify_format_checks) {
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    std::array<uint8_t, 64> sig{};
    sig[31] = 1;
    sig[63] = 1;
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("ok"));
    sig[31] = 0;  // r = 0
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("r_out_of_range"));
    std::fill(sig.begin(), sig.begin() + 32, 0xff);  // r >= n
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("r_out_of_range"));
    std::fill(sig.begin(), sig.begin() + 32, 0x11);
    std::fill(sig.begin() + 32, sig.end(), 0);  // s = 0
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("s_out_of_range"));
    std::fill(sig.begin() + 32, sig.end(), 0xff);  // s >= n
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("s_out_of_range"));
    sig[32] = 0x80;  // n/2 < s < n
    std::fill(sig.begin() + 33, sig.end(), 0);
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("high_s"));
    sig[32] = 0x7f;  // s <= n/2 on both curves (n/2 starts 7fffffff 8.. / 7fffffff ff..)
    CHECK_EQ(name_of(c::check_signature_format(curve, sig)), std::string("ok"));
  }
  std::vector<uint8_t> der = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
  CHECK_EQ(name_of(c::check_signature_format(Curve::p256, der)), std::string("der_signature"));
  der[1] = 0x07;  // length byte does not cover the rest: not DER, just a wrong length
  CHECK_EQ(name_of(c::check_signature_format(Curve::p256, der)), std::string("bad_signature_length"));
  CHECK_EQ(name_of(c::check_signature_format(Curve::p256, {})), std::string("bad_signature_length"));
  std::vector<uint8_t> long_sig(65, 1);
  CHECK_EQ(name_of(c::check_signature_format(Curve::p256, long_sig)), std::string("bad_signature_length"));
  c::PublicKey empty;
  CHECK_EQ(name_of(c::verify(empty, ringlay::Sha256Digest{}, long_sig)), std::string("no_key"));
}

TEST(verify_shared_keys_from_many_threads) {
  // One key object per curve, verified concurrently: the parsed key and libsecp256k1's
  // context are read-only, and OpenSSL's EC_KEY is only read by ECDSA_do_verify.
  c::init();
  struct Case {
    c::SigningKey sk;
    c::PublicKey pub;
    ringlay::Sha256Digest d;
    std::array<uint8_t, 64> sig;
  };
  std::vector<Case> cases(2);
  std::mt19937 rng(3);
  for (int i = 0; i < 2; ++i) {
    Curve curve = i == 0 ? Curve::secp256k1 : Curve::p256;
    REQUIRE(c::generate_signing_key(curve, cases[i].sk, cases[i].pub));
    cases[i].d = random_digest(rng);
    REQUIRE(c::sign_digest(cases[i].sk, cases[i].d, cases[i].sig));
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const Case& k = cases[(t + i) % 2];
        if (c::verify(k.pub, k.d, k.sig) != VerifyError::ok) bad.fetch_add(1);
        auto d = k.d;
        d[0] ^= 1;
        if (c::verify(k.pub, d, k.sig) != VerifyError::bad_signature) bad.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK_EQ(bad.load(), 0);
}
