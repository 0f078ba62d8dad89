// SPDX-License-Identifier: MIT
// SHA-256 through OpenSSL (Node's own copy when loaded as an addon; the system libcrypto for
// standalone fuzzers and benches). One-shot SHA256() uses the CPU's SHA extensions when
// present, which matters: every CAR block, MST node and commit is hashed.
#pragma once

#include <openssl/sha.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringlay {

using Sha256Digest = std::array<uint8_t, 32>;

inline Sha256Digest sha256(const void* data, size_t size) {
  Sha256Digest out;
  SHA256(static_cast<const unsigned char*>(data), size, out.data());
  return out;
}

inline Sha256Digest sha256(std::span<const uint8_t> bytes) { return sha256(bytes.data(), bytes.size()); }

}  // namespace ringlay
