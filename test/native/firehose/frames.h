// SPDX-License-Identifier: MIT
// Test helper: builds subscribeRepos frames (header + body) with the product encoder, from
// atproto JSON (captures, scenarios) or field by field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cbor/atjson.h"
#include "json.h"

namespace ringlay::test {

// header {t, op: 1} (or {op: -1} when t is empty and op is -1) followed by `body`.
Bytes frame_from_json(const Json& header, const Json& body);
// A #commit frame from indigo-captures/firehose_commit_<seq>.json; *msg receives the JSON.
// Empty when the fixture is missing.
Bytes capture_frame(const std::string& seq, Json* msg);
// Encodes a header for op/t; t empty → no t (unless force_t).
Bytes header_bytes(int64_t op, std::string_view t, bool force_t = false);
// Parses JSON text (test literals); asserts it is well formed.
Json json(std::string_view text);

inline Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace ringlay::test
