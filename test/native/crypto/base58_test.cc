// SPDX-License-Identifier: MIT
#include "crypto/base58.h"

#include <array>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

using ringlay::crypto::base58_decode;
using ringlay::crypto::base58_encode;

namespace {

std::string enc(std::string_view bytes) {
  std::string out;
  base58_encode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, out);
  return out;
}

// Decodes into a 128-byte buffer; "<error>" on failure.
std::string dec(std::string_view text, size_t cap = 128) {
  std::vector<uint8_t> buf(cap);
  ptrdiff_t n = base58_decode(text, buf);
  if (n < 0) return "<error>";
  return std::string(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
}

}  // namespace

TEST(base58_known_vectors) {
  // Vectors from the base58 draft (draft-msporny-base58) and Bitcoin's test suite.
  CHECK_EQ(enc("Hello World!"), std::string("2NEpo7TZRRrLZSi2U"));
  CHECK_EQ(enc("The quick brown fox jumps over the lazy dog."),
           std::string("USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"));
  CHECK_EQ(enc(std::string("\x00\x00\x28\x7f\xb4\xcd", 6)), std::string("11233QC4"));
  CHECK_EQ(enc(""), std::string(""));
  CHECK_EQ(enc(std::string("\x00", 1)), std::string("1"));
  CHECK_EQ(dec("2NEpo7TZRRrLZSi2U"), std::string("Hello World!"));
  CHECK_EQ(dec("11233QC4"), std::string("\x00\x00\x28\x7f\xb4\xcd", 6));
  CHECK_EQ(dec("1"), std::string("\x00", 1));
  CHECK_EQ(dec(""), std::string(""));
}

TEST(base58_rejects_bad_characters_and_overflow) {
  // 0, O, I and l are not in the alphabet; nor are spaces or non-ASCII bytes.
  CHECK_EQ(dec("2NEpo7TZ0RrLZSi2U"), std::string("<error>"));
  CHECK_EQ(dec("O"), std::string("<error>"));
  CHECK_EQ(dec("Il"), std::string("<error>"));
  CHECK_EQ(dec(" 2NEpo"), std::string("<error>"));
  CHECK_EQ(dec("2NEpo\xc3\xa9"), std::string("<error>"));
  // "Hello World!" is 12 bytes: it does not fit in 11, it does in 12.
  CHECK_EQ(dec("2NEpo7TZRRrLZSi2U", 11), std::string("<error>"));
  CHECK_EQ(dec("2NEpo7TZRRrLZSi2U", 12), std::string("Hello World!"));
  // Leading zeros count against the capacity too.
  CHECK_EQ(dec("111", 2), std::string("<error>"));
  // Very long input is refused up front rather than decoded quadratically.
  CHECK_EQ(dec(std::string(100000, 'z'), 128), std::string("<error>"));
}

TEST(base58_round_trips_random_bytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 70, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    std::string text = enc(bytes);
    REQUIRE(dec(text) == bytes);
  }
}
