// SPDX-License-Identifier: MIT
// base58btc (the Bitcoin alphabet), the encoding behind multibase 'z', did:key and
// publicKeyMultibase. Keys are decoded once when JS pushes them into the key cache, so this is
// the plain quadratic big-number conversion on a fixed buffer: no heap, bounded input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ringlay::crypto {

// Appends the base58btc text of `bytes` to `out`. Leading zero bytes become leading '1's.
void base58_encode(std::span<const uint8_t> bytes, std::string& out);

// Decodes `text` into `out`. Returns the decoded length, or -1 when a character is outside the
// alphabet or the value does not fit in out.size() bytes (the caller sizes `out` for the
// longest input it accepts, so oversized input is rejected before any quadratic work).
ptrdiff_t base58_decode(std::string_view text, std::span<uint8_t> out);

}  // namespace ringlay::crypto
