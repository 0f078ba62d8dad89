// SPDX-License-Identifier: MIT
// Event-stream error frames (protocol.md §1.2-1.4): a DAG-CBOR header {op: -1}
// (a1 62 6f 70 20) followed by the body {error, message?}, keys in DAG-CBOR order ("error"
// before "message": shorter key first). Built from constant bytes and short text strings, so
// the fan-out core needs no CBOR encoder. The relay closes with 1008 and the error name as the
// close reason right after sending one.
#pragma once

#include <string_view>

#include "util/shared_bytes.h"

namespace ringlay::fanout {

// The WebSocket message payload (not the WS frame) of an error frame. `error` and `message`
// must be shorter than 65,536 bytes and valid UTF-8; `message` may be empty (then omitted).
BytesRef error_frame_payload(std::string_view error, std::string_view message);

// {"error":"ConsumerTooSlow","message":"Stream consumer too slow"}, built once and shared.
const BytesRef& too_slow_payload();

inline constexpr std::string_view kTooSlowError = "ConsumerTooSlow";

}  // namespace ringlay::fanout
