// SPDX-License-Identifier: MIT
#include "mst/key.h"

#include <array>
#include <bit>
#include <cstring>

#include "util/sha256.h"

namespace ringlay::mst {

int key_height(std::string_view key) {
  const Sha256Digest digest = sha256(key.data(), key.size());
  int zero_bits = 0;
  for (uint8_t byte : digest) {
    if (byte != 0) {
      zero_bits += std::countl_zero(byte);
      break;
    }
    zero_bits += 8;
  }
  return zero_bits / 2;
}

size_t common_prefix_len(std::string_view a, std::string_view b) {
  // Eight bytes at a time: keys in one node usually share a long collection prefix.
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      // The first differing byte is the lowest one in memory order.
      const int bit = std::endian::native == std::endian::little ? std::countr_zero(x ^ y)
                                                                 : std::countl_zero(x ^ y);
      return i + static_cast<size_t>(bit) / 8;
    }
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

namespace {

// Bytes allowed in a key besides '/': A-Z a-z 0-9 . - _ ~ :
constexpr std::array<bool, 256> kKeyChars = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (char c : {'.', '-', '_', '~', ':'}) t[static_cast<uint8_t>(c)] = true;
  return t;
}();

}  // namespace

bool is_valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  size_t slash = std::string_view::npos;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '/') {
      if (slash != std::string_view::npos) return false;
      slash = i;
    } else if (!kKeyChars[static_cast<uint8_t>(c)]) {
      return false;
    }
  }
  return slash != std::string_view::npos && slash > 0 && slash + 1 < key.size();
}

}  // namespace ringlay::mst
