// SPDX-License-Identifier: MIT
#include "cbor/utf8.h"

#include <cstring>

namespace ringlay::cbor {

namespace {

bool is_cont(uint8_t b) { return (b & 0xc0) == 0x80; }

// Validates one multi-byte sequence starting at p[0] (>= 0x80); returns its length or 0.
size_t sequence(const uint8_t* p, size_t left) {
  uint8_t b0 = p[0];
  if (b0 >= 0xc2 && b0 <= 0xdf) return left >= 2 && is_cont(p[1]) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (left < 3 || !is_cont(p[1]) || !is_cont(p[2])) return 0;
    if (b0 == 0xe0 && p[1] < 0xa0) return 0;   // overlong
    if (b0 == 0xed && p[1] >= 0xa0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (left < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3])) return 0;
    if (b0 == 0xf0 && p[1] < 0x90) return 0;   // overlong
    if (b0 == 0xf4 && p[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // continuation byte, 0xc0/0xc1 or 0xf5..0xff as a lead
}

}  // namespace

bool valid_utf8(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    size_t len = sequence(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace ringlay::cbor
