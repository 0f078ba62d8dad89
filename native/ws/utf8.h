// SPDX-License-Identifier: MIT
// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
// U+10FFFF). Incremental because a text message arrives in fragments and TCP segments that
// can split a code point; validating as bytes arrive fails a bad message early (RFC 6455 §8.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringlay::ws {

class Utf8Validator {
 public:
  // Feeds more bytes; false as soon as they cannot be part of valid UTF-8 (sticky).
  bool feed(const uint8_t* data, size_t size);
  // True when everything fed so far is valid and no code point is left unfinished.
  bool complete() const { return ok_ && need_ == 0; }
  void reset() { *this = Utf8Validator(); }

 private:
  bool ok_ = true;
  uint8_t need_ = 0;           // continuation bytes still expected
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // allowed range for the next continuation byte
};

bool valid_utf8(std::string_view s);

}  // namespace ringlay::ws
