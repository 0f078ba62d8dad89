// SPDX-License-Identifier: MIT
#include "ws/utf8.h"

#include "harness.h"

using namespace ringlay::ws;

TEST(ws_utf8_vectors) {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii, longer than eight bytes"));
  CHECK(valid_utf8("\xc2\xa2 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  CHECK(valid_utf8("\xed\x9f\xbf"));              // U+D7FF, just below the surrogates
  CHECK(!valid_utf8("\xc0\xaf"));                 // overlong '/'
  CHECK(!valid_utf8("\xc1\xbf"));                 // overlong
  CHECK(!valid_utf8("\xe0\x80\xaf"));             // overlong 3-byte
  CHECK(!valid_utf8("\xf0\x80\x80\xaf"));         // overlong 4-byte
  CHECK(!valid_utf8("\xed\xa0\x80"));             // U+D800 surrogate
  CHECK(!valid_utf8("\xf4\x90\x80\x80"));         // above U+10FFFF
  CHECK(!valid_utf8("\xf5\x80\x80\x80"));
  CHECK(!valid_utf8("\xff"));
  CHECK(!valid_utf8("\x80"));                     // stray continuation
  CHECK(!valid_utf8("\xe2\x82"));                 // truncated
  CHECK(!valid_utf8("abcdefgh\xe2\x28\xa1"));     // bad continuation after an ASCII run
}

TEST(ws_utf8_incremental_splits) {
  std::string s = "a\xf0\x9f\x98\x80z\xe2\x82\xac";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    Utf8Validator v;
    CHECK(v.feed(reinterpret_cast<const uint8_t*>(s.data()), cut));
    CHECK(v.feed(reinterpret_cast<const uint8_t*>(s.data()) + cut, s.size() - cut));
    CHECK(v.complete());
  }
  Utf8Validator v;
  v.feed(reinterpret_cast<const uint8_t*>("\xf0\x9f"), 2);
  CHECK(!v.complete());  // unfinished code point
  CHECK(!v.feed(reinterpret_cast<const uint8_t*>("A"), 1));
  CHECK(!v.feed(reinterpret_cast<const uint8_t*>("B"), 1));  // sticky
}
