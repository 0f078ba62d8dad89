// SPDX-License-Identifier: MIT
// Unsigned LEB128 varints as multiformats and CAR use them: minimal encoding only (no
// trailing 0x80 groups), at most 9 bytes (63 bits). Inline: CIDs and CAR sections read
// several per block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlay::cid {

inline constexpr size_t kMaxVarintBytes = 9;

enum class VarintResult : uint8_t { ok, truncated, non_minimal, too_long };

// Reads a varint from [p, end). On success stores the value and the number of bytes used.
inline VarintResult read_varint(const uint8_t* p, const uint8_t* end, uint64_t* value, size_t* used) {
  uint64_t v = 0;
  for (size_t i = 0; i < kMaxVarintBytes; i++) {
    if (p + i >= end) return VarintResult::truncated;
    uint8_t b = p[i];
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      // A last group of zero after the first byte means a shorter encoding existed.
      if (b == 0 && i > 0) return VarintResult::non_minimal;
      *value = v;
      *used = i + 1;
      return VarintResult::ok;
    }
  }
  return VarintResult::too_long;
}

// Bytes needed to encode v (v < 2^63).
inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

// Writes v at out (room for varint_size(v) bytes); returns the bytes written.
inline size_t write_varint(uint64_t v, uint8_t* out) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}

}  // namespace ringlay::cid
