// SPDX-License-Identifier: MIT
#include "relay/replay_cursor.h"

#include "log/event_log.h"

namespace ringlay::relay {

namespace {

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Decimal digits only (after %XX decoding), at most 2^63 - 1.
CursorParam parse_value(std::string_view raw) {
  CursorParam p;
  p.present = !raw.empty();
  constexpr uint64_t kMax = (uint64_t{1} << 63) - 1;
  uint64_t v = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    char ch = raw[i];
    if (ch == '%') {
      int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
      int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) return {true, true, 0};
      ch = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (ch < '0' || ch > '9') return {true, true, 0};
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (v > (kMax - d) / 10) return {true, true, 0};
    v = v * 10 + d;
  }
  p.value = v;
  return p;
}

}  // namespace

const char* name(CursorOutcome o) {
  switch (o) {
    case CursorOutcome::live: return "live";
    case CursorOutcome::replay: return "replay";
    case CursorOutcome::outdated: return "outdated";
    case CursorOutcome::future: return "future";
    case CursorOutcome::bad: return "bad";
  }
  return "unknown";
}

CursorParam parse_cursor(std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    if (part.substr(0, eq) != "cursor") continue;
    return parse_value(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
  }
  return {};
}

StartDecision decide_start(const CursorParam& cursor, const log_store::EventLog* log) {
  StartDecision d;
  if (cursor.bad) {
    d.outcome = CursorOutcome::bad;
    return d;
  }
  if (!cursor.present) return d;  // live
  d.head_seq = log != nullptr ? log->written_seq() : 0;
  d.after_seq = cursor.value;
  if (cursor.value > d.head_seq) {
    d.outcome = CursorOutcome::future;
    d.start = fanout::Start::future;
    return d;
  }
  d.outcome = CursorOutcome::replay;
  d.start = fanout::Start::replay;
  // A retention run after this read only moves the window start further; a whole-window
  // start follows it (from_oldest), a plain cursor then gets a gap (ConsumerTooSlow), never a
  // silent hole.
  uint64_t window = log != nullptr ? log->window_start() : 0;
  if (cursor.value == 0 || cursor.value + 1 < window) {
    // The whole window. Cursor 0 asks for exactly that: nothing it asked for is missing, so no
    // #info (the log's check_cursor compares 0 with the window like the TS PDS; we do not).
    d.after_seq = window > 0 ? window - 1 : 0;
    d.from_oldest = true;
    if (cursor.value > 0) {
      d.outcome = CursorOutcome::outdated;
      d.start = fanout::Start::outdated;
    }
  }
  return d;
}

const std::string& bad_cursor_body() {
  static const std::string body =
      R"({"error":"BadRequest","message":"cursor must be a non-negative integer"})";
  return body;
}

}  // namespace ringlay::relay
