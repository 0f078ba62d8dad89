// SPDX-License-Identifier: MIT
#include "crypto/base58.h"

#include <array>

namespace ringlay::crypto {
namespace {

constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// Maps an ASCII byte to its digit value, or -1.
constexpr std::array<int8_t, 256> make_digits() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 58; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDigits = make_digits();

// Every base58 digit carries log2(58) ~ 5.858 bits, so n bytes need at most n*138/100+1
// digits, and n digits decode to at most n*733/1000+1 bytes.
constexpr size_t max_digits_for(size_t bytes) { return bytes * 138 / 100 + 1; }

}  // namespace

void base58_encode(std::span<const uint8_t> bytes, std::string& out) {
  size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  // Digits of the value, least significant first; `used` is how many are meaningful.
  std::string digits(max_digits_for(bytes.size() - zeros), '\0');
  size_t used = 0;
  for (size_t i = zeros; i < bytes.size(); ++i) {
    uint32_t carry = bytes[i];
    for (size_t j = 0; j < used; ++j) {
      carry += static_cast<uint32_t>(static_cast<uint8_t>(digits[j])) << 8;
      digits[j] = static_cast<char>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits[used++] = static_cast<char>(carry % 58);
      carry /= 58;
    }
  }
  out.append(zeros, '1');
  for (size_t j = used; j > 0; --j) out.push_back(kAlphabet[static_cast<uint8_t>(digits[j - 1])]);
}

ptrdiff_t base58_decode(std::string_view text, std::span<uint8_t> out) {
  size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '1') ++zeros;
  if (zeros > out.size()) return -1;
  // A value of k bytes takes at least (k-1)*1.365 digits; reject text that cannot fit early.
  if (text.size() - zeros > max_digits_for(out.size())) return -1;
  // Big-endian accumulator in the tail of `out`: out[out.size()-used .. end).
  size_t used = 0;
  const size_t cap = out.size() - zeros;
  uint8_t* acc = out.data() + zeros;
  for (size_t i = zeros; i < text.size(); ++i) {
    int d = kDigits[static_cast<uint8_t>(text[i])];
    if (d < 0) return -1;
    uint32_t carry = static_cast<uint32_t>(d);
    for (size_t j = 0; j < used; ++j) {
      uint8_t& b = acc[cap - 1 - j];
      carry += static_cast<uint32_t>(b) * 58;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      if (used == cap) return -1;
      acc[cap - 1 - used] = static_cast<uint8_t>(carry & 0xff);
      ++used;
      carry >>= 8;
    }
  }
  // Move the value up against the leading zero bytes.
  for (size_t j = 0; j < zeros; ++j) out[j] = 0;
  for (size_t j = 0; j < used; ++j) acc[j] = acc[cap - used + j];
  return static_cast<ptrdiff_t>(zeros + used);
}

}  // namespace ringlay::crypto
