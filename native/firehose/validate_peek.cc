// SPDX-License-Identifier: MIT
// peek_did: the frame's DID without a validating parse. The thread that receives a frame needs
// it to choose the frame's ordering lane (one DID's frames are validated in order), and a full
// strict decode there would do the workers' job twice. Nothing read here is trusted: the worker
// parses the frame properly, and a DID peeked from a malformed frame only picks a lane.
#include <cstring>

#include "firehose/validate.h"

namespace ringlay::firehose {
namespace {

// Heads and lengths only, bounded by the input and a nesting limit.
struct Walk {
  const uint8_t* p;
  const uint8_t* end;

  bool head(uint8_t* major, uint64_t* arg) {
    if (p >= end) return false;
    const uint8_t ib = *p++;
    *major = ib >> 5;
    const uint8_t info = ib & 31;
    if (info < 24) {
      *arg = info;
      return true;
    }
    if (info >= 28) return false;  // indefinite or reserved: not DAG-CBOR anyway
    const size_t n = size_t{1} << (info - 24);
    if (static_cast<size_t>(end - p) < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    p += n;
    *arg = v;
    return true;
  }

  bool skip(int depth) {
    if (depth > 32) return false;
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
      default: return true;
    }
  }
};

}  // namespace

std::string_view peek_did(std::span<const uint8_t> frame) {
  Walk w{frame.data(), frame.data() + frame.size()};
  if (!w.skip(0)) return {};  // the header
  uint8_t major;
  uint64_t entries;
  if (!w.head(&major, &entries) || major != 5) return {};
  for (uint64_t i = 0; i < entries; i++) {
    uint64_t len;
    if (!w.head(&major, &len) || major != 3 || len > static_cast<uint64_t>(w.end - w.p)) return {};
    const bool wanted = (len == 4 && std::memcmp(w.p, "repo", 4) == 0) ||
                        (len == 3 && std::memcmp(w.p, "did", 3) == 0);
    w.p += len;
    if (wanted) {
      uint64_t n;
      if (!w.head(&major, &n) || major != 3 || n > static_cast<uint64_t>(w.end - w.p)) return {};
      return {reinterpret_cast<const char*>(w.p), static_cast<size_t>(n)};
    }
    if (!w.skip(0)) return {};
  }
  return {};
}

}  // namespace ringlay::firehose
