// SPDX-License-Identifier: MIT
#include "ws/utf8.h"

#include <cstring>

namespace ringlay::ws {

bool Utf8Validator::feed(const uint8_t* data, size_t size) {
  if (!ok_) return false;
  size_t i = 0;
  while (i < size) {
    if (need_ == 0) {
      // ASCII runs dominate text; check 8 bytes at a time.
      while (i + 8 <= size) {
        uint64_t word;
        std::memcpy(&word, data + i, 8);
        if ((word & 0x8080808080808080ull) != 0) break;
        i += 8;
      }
      if (i == size) break;
      uint8_t c = data[i++];
      if (c < 0x80) continue;
      lo_ = 0x80;
      hi_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need_ = 2;
        if (c == 0xE0) lo_ = 0xA0;  // no overlong 3-byte forms
        if (c == 0xED) hi_ = 0x9F;  // no UTF-16 surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        need_ = 3;
        if (c == 0xF0) lo_ = 0x90;  // no overlong 4-byte forms
        if (c == 0xF4) hi_ = 0x8F;  // nothing above U+10FFFF
      } else {
        ok_ = false;
        return false;
      }
    } else {
      uint8_t c = data[i++];
      if (c < lo_ || c > hi_) {
        ok_ = false;
        return false;
      }
      --need_;
      lo_ = 0x80;
      hi_ = 0xBF;
    }
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  Utf8Validator v;
  v.feed(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  return v.complete();
}

}  // namespace ringlay::ws
