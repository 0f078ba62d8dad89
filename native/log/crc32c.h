// SPDX-License-Identifier: MIT
// CRC32C (Castagnoli), the checksum of every event-log record. It catches torn and corrupted
// records, not attackers: the record header checksum is additionally seeded with a per-segment
// random salt (see format.h) so that bytes inside a frame cannot pose as a valid record when
// recovery resynchronises after damage. Uses the SSE4.2 crc32 instruction when the CPU has it
// (about 10 GB/s, so checking every replayed frame is cheap), a slicing-by-8 table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlay::log_store {

// Standard CRC32C (reflected, init and final xor 0xFFFFFFFF). Chaining: pass the previous
// result as `crc` to extend it over more bytes; crc32c(0, "123456789", 9) == 0xE3069283.
uint32_t crc32c(uint32_t crc, const void* data, size_t n);

// True when the hardware path is in use (reported in the bench output).
bool crc32c_hardware();

}  // namespace ringlay::log_store
