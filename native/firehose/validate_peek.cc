// SPDX-License-Identifier: MIT
// peek_did: the frame's DID without a validating parse. The thread that receives a frame needs
// it to choose the frame's ordering lane (one DID's frames are validated in order), and a full
// strict decode there would do the workers' job twice. Nothing read here is trusted: the worker
// parses the frame properly, and a DID peeked from a malformed frame only picks a lane.
#include <cstring>

#include "cbor/skim.h"
#include "firehose/validate.h"

namespace ringlay::firehose {

std::string_view peek_did(std::span<const uint8_t> frame) {
  cbor::Skim w{frame.data(), frame.data() + frame.size()};
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
