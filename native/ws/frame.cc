// SPDX-License-Identifier: MIT
#include "ws/frame.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "util/assert.h"
#include "ws/utf8.h"

namespace ringlay::ws {

bool valid_close_code(uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

namespace {

FrameHeader make_header(Opcode op, uint64_t n, uint8_t mask_bit) {
  FrameHeader h;
  h.bytes[0] = static_cast<uint8_t>(0x80 | static_cast<uint8_t>(op));
  if (n < 126) {
    h.bytes[1] = static_cast<uint8_t>(mask_bit | n);
    h.size = 2;
  } else if (n < 65536) {
    h.bytes[1] = mask_bit | 126;
    h.bytes[2] = static_cast<uint8_t>(n >> 8);
    h.bytes[3] = static_cast<uint8_t>(n);
    h.size = 4;
  } else {
    h.bytes[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) h.bytes[2 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
    h.size = 10;
  }
  return h;
}

}  // namespace

FrameHeader server_frame_header(Opcode op, uint64_t payload_size) {
  RL_ASSERT(payload_size < (1ull << 63));
  return make_header(op, payload_size, 0);
}

FrameHeader client_frame_header(Opcode op, uint64_t payload_size, std::array<uint8_t, 4> mask) {
  RL_ASSERT(payload_size < (1ull << 63));
  FrameHeader h = make_header(op, payload_size, 0x80);
  std::memcpy(h.bytes.data() + h.size, mask.data(), 4);
  h.size += 4;
  return h;
}

void apply_mask(uint8_t* data, size_t size, std::array<uint8_t, 4> mask, size_t offset) {
  for (size_t i = 0; i < size; ++i) data[i] ^= mask[(offset + i) & 3];
}

std::array<uint8_t, 4> random_mask() {
  std::array<uint8_t, 4> mask{};
  // RAND_bytes fails only when the DRBG cannot be seeded; a predictable mask is then still a
  // valid frame, so carry on rather than fail the connection.
  if (RAND_bytes(mask.data(), 4) != 1) mask = {0x5a, 0x3c, 0xa5, 0xc3};
  return mask;
}

namespace {

BytesRef encode(const FrameHeader& h, std::span<const uint8_t> payload) {
  SharedBytes* b = SharedBytes::create(h.size + payload.size());
  if (b == nullptr) return {};
  std::memcpy(b->mutable_data(), h.bytes.data(), h.size);
  if (!payload.empty()) std::memcpy(b->mutable_data() + h.size, payload.data(), payload.size());
  return BytesRef::adopt(b);
}

}  // namespace

BytesRef encode_server_frame(Opcode op, std::span<const uint8_t> payload) {
  return encode(server_frame_header(op, payload.size()), payload);
}

BytesRef encode_client_frame(Opcode op, std::span<const uint8_t> payload,
                             std::array<uint8_t, 4> mask) {
  FrameHeader h = client_frame_header(op, payload.size(), mask);
  BytesRef frame = encode(h, payload);
  if (frame) apply_mask(frame.mutable_data() + h.size, payload.size(), mask);
  return frame;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  if (code == kCloseNoStatus) return {};
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  size_t n = std::min(reason.size(), kMaxControlPayload - 2);
  // Back off to a code point boundary: never cut a UTF-8 sequence in two.
  while (n < reason.size() && n > 0 && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  out.append(reason.substr(0, n));
  return out;
}

}  // namespace ringlay::ws
