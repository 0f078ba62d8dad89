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
// {"error":"FutureCursor","message":"Cursor in the future."} (protocol.md §1.4), shared.
const BytesRef& future_cursor_payload();

// A relay #info message (protocol.md §1.5): header {t: "#info", op: 1}
// (a2 61 74 65 23 69 6e 66 6f 62 6f 70 01), body {name, message?} ("name" before "message").
// Not persisted, no seq; the stream goes on after it.
BytesRef info_frame_payload(std::string_view name, std::string_view message);
// {"name":"OutdatedCursor","message":...}, shared.
const BytesRef& outdated_cursor_payload();

inline constexpr std::string_view kTooSlowError = "ConsumerTooSlow";
inline constexpr std::string_view kFutureCursorError = "FutureCursor";
inline constexpr std::string_view kOutdatedCursorInfo = "OutdatedCursor";

}  // namespace ringlay::fanout
