// SPDX-License-Identifier: MIT
// The subscribeRepos cursor decision (protocol.md §1.6), written once for both drivers: the
// io_uring front door (io/http_conn.cc) and the uWebSockets.js fan-out wrapper
// (napi/fanout.cc) call these two functions and nothing else decides.
//
//   no cursor (or an empty one)      live at the head
//   not a non-negative integer       HTTP 400 {"error":"BadRequest",...} before the upgrade
//   cursor > the log's newest seq    FutureCursor error frame, then close 1008
//   cursor = 0                       the whole window (no #info: nothing asked for is missing)
//   cursor + 1 < the window start    #info OutdatedCursor, then the whole window: exactly what
//                                    cursor 0 gets at that moment
//   otherwise                        seq > cursor (exclusive, as both reference servers), then
//                                    live, with no gap or duplicate at the hand-off
// "The window" is the log's window_start() (log/event_log.h), the same notion the log's
// readers and check_cursor use: a whole-window start is after_seq = window start - 1 with
// from_oldest set, so the fan-out's in-memory frames (which may be older than the window: the
// newest few MiB are kept whatever the replay window) and the log reader both begin there.
// "Newest seq" is the log's written watermark: every frame a consumer was ever sent is at or
// below it (the log writes before the fan-out publishes), so a consumer passing the last seq it
// saw is never told it is in the future. Without a log (a transport run without the relay
// pipeline) nothing was ever sent: any cursor > 0 is in the future, 0 is live.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fanout/fanout.h"

namespace ringlay::log_store {
class EventLog;
}

namespace ringlay::relay {

// How a consumer's ?cursor= was answered; the names are metrics labels.
enum class CursorOutcome : uint8_t { live, replay, outdated, future, bad };
const char* name(CursorOutcome o);

struct CursorParam {
  bool present = false;
  bool bad = false;
  uint64_t value = 0;
};

// The first `cursor` parameter of a raw query string ("a=1&cursor=42"), percent-decoded. Empty
// means absent (as indigo's relay reads it); anything but decimal digits, or a value over
// 2^63 - 1, is bad.
CursorParam parse_cursor(std::string_view query);

// What Fanout::attach_from takes (start is meaningless when outcome is bad), plus the outcome.
struct StartDecision : fanout::StartAt {
  CursorOutcome outcome = CursorOutcome::live;
};

// `log` may be null (no relay pipeline). Reads only the log's atomics and segment list (a short
// lock, no I/O), so it runs on the ring thread and the JS thread alike.
StartDecision decide_start(const CursorParam& cursor, const log_store::EventLog* log);

// The body of the 400 answer (application/json).
const std::string& bad_cursor_body();

}  // namespace ringlay::relay
