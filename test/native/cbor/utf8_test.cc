// SPDX-License-Identifier: MIT
#include "cbor/utf8.h"

#include <string>

#include "harness.h"

using ringlay::cbor::valid_utf8;

namespace {

bool ok(const std::string& s) { return valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

}  // namespace

TEST(utf8_accepts_every_length_and_boundary) {
  CHECK(ok(""));
  CHECK(ok("plain ascii that is longer than eight bytes"));
  CHECK(ok("\x7f"));
  CHECK(ok("\xc2\x80"));          // U+0080
  CHECK(ok("\xdf\xbf"));          // U+07FF
  CHECK(ok("\xe0\xa0\x80"));      // U+0800
  CHECK(ok("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  CHECK(ok("\xee\x80\x80"));      // U+E000, just above
  CHECK(ok("\xef\xbf\xbf"));      // U+FFFF
  CHECK(ok("\xf0\x90\x80\x80"));  // U+10000
  CHECK(ok("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  CHECK(ok("12345678\xf0\x9f\x98\x80" "abcdefgh"));  // multi-byte after an ASCII block
}

TEST(utf8_rejects_malformed_sequences) {
  CHECK(!ok("\x80"));                 // lone continuation
  CHECK(!ok("\xc0\x80"));             // overlong NUL
  CHECK(!ok("\xc1\xbf"));             // overlong
  CHECK(!ok("\xe0\x9f\xbf"));         // overlong 3-byte
  CHECK(!ok("\xf0\x8f\xbf\xbf"));     // overlong 4-byte
  CHECK(!ok("\xed\xa0\x80"));         // U+D800 surrogate
  CHECK(!ok("\xed\xbf\xbf"));         // U+DFFF surrogate
  CHECK(!ok("\xf4\x90\x80\x80"));     // U+110000
  CHECK(!ok("\xf5\x80\x80\x80"));
  CHECK(!ok("\xff"));
  CHECK(!ok("\xc3"));                 // truncated at the end
  CHECK(!ok("abcdefg\xe2\x82"));      // truncated after an ASCII run
  CHECK(!ok("\xe2\x28\xa1"));         // bad continuation
  CHECK(!ok(std::string("12345678abcdefgh") + "\xc3" + "x"));
}
