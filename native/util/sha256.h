// SPDX-License-Identifier: MIT
// SHA-256 through OpenSSL (Node's own copy when loaded as an addon; the system libcrypto for
// standalone fuzzers and benches), which uses the CPU's SHA extensions when present. Every CAR
// block, MST node and commit is hashed, so the call overhead matters: OpenSSL 3's one-shot
// SHA256() fetches the algorithm and takes a lock per call (~915 ns for 40 bytes here), while
// the low-level SHA256_Init/Update/Final on a stack context costs ~196 ns. Those functions are
// deprecated in OpenSSL 3 but exported by node and stable in the 3.x ABI.
#pragma once

#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringlay {

using Sha256Digest = std::array<uint8_t, 32>;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
inline Sha256Digest sha256(const void* data, size_t size) {
  Sha256Digest out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, size);
  SHA256_Final(out.data(), &ctx);
  return out;
}
#pragma GCC diagnostic pop

inline Sha256Digest sha256(std::span<const uint8_t> bytes) { return sha256(bytes.data(), bytes.size()); }

}  // namespace ringlay
