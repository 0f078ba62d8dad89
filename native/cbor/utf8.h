// SPDX-License-Identifier: MIT
// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), with an
// eight-bytes-at-a-time ASCII fast path: nearly all firehose text is ASCII.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlay::cbor {

bool valid_utf8(const uint8_t* p, size_t n);

}  // namespace ringlay::cbor
