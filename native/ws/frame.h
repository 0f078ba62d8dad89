// SPDX-License-Identifier: MIT
// WebSocket frame encoding (RFC 6455 §5). The hot path is the server side of the firehose:
// one frame header is computed once per published frame (2, 4 or 10 bytes for payload length
// n) and sent as two iovecs, header + the shared payload BytesRef, to every consumer, so no
// consumer costs a copy. Client frames (our upstream connections only send pong, ping and
// close) are masked and small, so they are encoded by copying.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "util/shared_bytes.h"

namespace ringlay::ws {

enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Which end of the connection this endpoint is. A server parses masked frames and writes
// unmasked ones; a client the reverse.
enum class Role : uint8_t { server, client };

inline constexpr size_t kMaxControlPayload = 125;
inline constexpr size_t kMaxHeaderSize = 14;  // 2 + 8 length + 4 mask

// Close codes we send and check (RFC 6455 §7.4.1).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseUnsupportedData = 1003;
inline constexpr uint16_t kCloseNoStatus = 1005;    // reported, never sent
inline constexpr uint16_t kCloseAbnormal = 1006;    // reported, never sent
inline constexpr uint16_t kCloseInvalidData = 1007;
inline constexpr uint16_t kClosePolicy = 1008;
inline constexpr uint16_t kCloseTooBig = 1009;
inline constexpr uint16_t kCloseInternalError = 1011;

// Codes a peer may put in a close frame: 1000-1003, 1007-1014, 3000-4999.
bool valid_close_code(uint16_t code);

// A frame header, ready to be one iovec.
struct FrameHeader {
  std::array<uint8_t, kMaxHeaderSize> bytes{};
  uint8_t size = 0;
  std::span<const uint8_t> view() const { return {bytes.data(), size}; }
};

// Unmasked header with FIN set: 2 bytes for n < 126, 4 for n < 65536, else 10.
FrameHeader server_frame_header(Opcode op, uint64_t payload_size);
// Masked header with FIN set (6, 8 or 14 bytes): the mask key is its last 4 bytes.
FrameHeader client_frame_header(Opcode op, uint64_t payload_size, std::array<uint8_t, 4> mask);

// XORs `data` with the mask, `offset` being the position of data[0] within the payload.
void apply_mask(uint8_t* data, size_t size, std::array<uint8_t, 4> mask, size_t offset = 0);
// Four bytes from OpenSSL's RAND_bytes (RFC 6455 §5.3 asks for an unpredictable key).
std::array<uint8_t, 4> random_mask();

// Whole frames, copied into one buffer (control frames, tests, the too-slow error frame).
BytesRef encode_server_frame(Opcode op, std::span<const uint8_t> payload);
BytesRef encode_client_frame(Opcode op, std::span<const uint8_t> payload,
                             std::array<uint8_t, 4> mask);
// Close payload: 2-byte big-endian code + reason, the reason cut to fit 125 bytes at a UTF-8
// boundary. Code 1005 gives an empty payload.
std::string close_payload(uint16_t code, std::string_view reason);

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ringlay::ws
