// SPDX-License-Identifier: MIT
// A structural CBOR cursor: heads and lengths only, nothing validated beyond staying inside the
// input and a nesting limit. For the places that need one field of a frame that the strict
// decoder may never have seen (seq patching, the DID that picks a validation lane); whatever
// it reads is either re-checked or only steers work, never trusted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlay::cbor {

struct Skim {
  const uint8_t* p;
  const uint8_t* end;

  // Reads a head; false at truncation or on an indefinite/reserved head (not DAG-CBOR anyway).
  bool head(uint8_t* major, uint64_t* arg) {
    if (p >= end) return false;
    const uint8_t ib = *p++;
    *major = ib >> 5;
    const uint8_t info = ib & 31;
    if (info < 24) {
      *arg = info;
      return true;
    }
    if (info >= 28) return false;
    const size_t n = size_t{1} << (info - 24);
    if (static_cast<size_t>(end - p) < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    p += n;
    *arg = v;
    return true;
  }

  // Skips one item; false if it is truncated or nests deeper than kMaxDepth.
  bool skip(int depth = 0) {
    if (depth > kMaxDepth) return false;
    uint8_t major;
    uint64_t arg;
    if (!head(&major, &arg)) return false;
    switch (major) {
      case 2:
      case 3:
        if (arg > static_cast<uint64_t>(end - p)) return false;
        p += arg;
        return true;
      case 4:
      case 5: {
        // Every item takes at least one byte, so a count beyond the input is malformed.
        if (arg > static_cast<uint64_t>(end - p)) return false;
        const uint64_t n = major == 5 ? arg * 2 : arg;
        for (uint64_t i = 0; i < n; i++) {
          if (!skip(depth + 1)) return false;
        }
        return true;
      }
      case 6: return skip(depth + 1);
      default: return true;  // integers, simple values, floats: the head was everything
    }
  }

  static constexpr int kMaxDepth = 64;
};

}  // namespace ringlay::cbor
