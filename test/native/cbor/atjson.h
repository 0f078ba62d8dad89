// SPDX-License-Identifier: MIT
// Test helper: atproto JSON ({"$link"}, {"$bytes"}) → canonical DAG-CBOR, through the
// product encoder, plus small byte helpers for hand-built CBOR cases.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace ringlay::test {

using Bytes = std::vector<uint8_t>;

// Appends the DAG-CBOR of `j` (keys sorted canonically). False on a value the data model
// has no encoding for (a non-integral number).
bool encode_atjson(const Json& j, Bytes& out);

// "a2 61 74" → bytes; spaces ignored. Asserts on bad hex (test inputs are literals).
Bytes unhex(std::string_view hex);
std::string to_hex(std::span<const uint8_t> b);
inline std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ringlay::test
