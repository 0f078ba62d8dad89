// SPDX-License-Identifier: MIT
// user_data layout shared by loop.cc and loop_cqe.cc:
//   bits 63..32 connection slot (kLoopSlot for the loop's own wake read, tick and cancels)
//   bits 31..8  slot generation (catches a completion for a freed and reused slot)
//   bits  7..0  operation
#pragma once

#include <cstdint>

namespace ringlay::io {

inline constexpr uint32_t kLoopSlot = 0xffffffffu;
inline constexpr uint32_t kGenMask = 0xffffffu;

inline constexpr uint8_t kOpWake = 1;
inline constexpr uint8_t kOpTick = 2;
inline constexpr uint8_t kOpAccept = 3;
inline constexpr uint8_t kOpRecv = 4;
inline constexpr uint8_t kOpSend = 5;
inline constexpr uint8_t kOpConnect = 6;
inline constexpr uint8_t kOpLinkTimeout = 7;
inline constexpr uint8_t kOpCancel = 8;

inline uint64_t encode_user_data(uint32_t slot, uint32_t gen, uint8_t op) {
  return (uint64_t{slot} << 32) | (uint64_t{gen & kGenMask} << 8) | op;
}
inline uint32_t decode_slot(uint64_t ud) { return static_cast<uint32_t>(ud >> 32); }
inline uint32_t decode_gen(uint64_t ud) { return static_cast<uint32_t>(ud >> 8) & kGenMask; }
inline uint8_t decode_op(uint64_t ud) { return static_cast<uint8_t>(ud & 0xff); }

}  // namespace ringlay::io
