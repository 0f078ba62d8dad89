// SPDX-License-Identifier: MIT
#include "fanout/error_frame.h"

#include "util/assert.h"

namespace ringlay::fanout {

namespace {

// DAG-CBOR text string: major type 3 with the shortest length form.
void text(std::string& out, std::string_view s) {
  RL_ASSERT(s.size() < 65536);
  if (s.size() < 24) {
    out.push_back(static_cast<char>(0x60 | s.size()));
  } else if (s.size() < 256) {
    out.push_back(static_cast<char>(0x78));
    out.push_back(static_cast<char>(s.size()));
  } else {
    out.push_back(static_cast<char>(0x79));
    out.push_back(static_cast<char>(s.size() >> 8));
    out.push_back(static_cast<char>(s.size() & 0xff));
  }
  out.append(s);
}

}  // namespace

BytesRef error_frame_payload(std::string_view error, std::string_view message) {
  std::string out = "\xa1\x62op\x20";  // header {op: -1}
  out.push_back(static_cast<char>(message.empty() ? 0xa1 : 0xa2));
  text(out, "error");
  text(out, error);
  if (!message.empty()) {
    text(out, "message");
    text(out, message);
  }
  return BytesRef::copy_of(out);
}

BytesRef info_frame_payload(std::string_view name, std::string_view message) {
  std::string out = "\xa2\x61t\x65#info\x62op\x01";  // header {t: "#info", op: 1}
  out.push_back(static_cast<char>(message.empty() ? 0xa1 : 0xa2));
  text(out, "name");
  text(out, name);
  if (!message.empty()) {
    text(out, "message");
    text(out, message);
  }
  return BytesRef::copy_of(out);
}

const BytesRef& outdated_cursor_payload() {
  static const BytesRef payload = info_frame_payload(
      kOutdatedCursorInfo, "cursor older than the replay window; replaying from the oldest event kept");
  return payload;
}

const BytesRef& future_cursor_payload() {
  static const BytesRef payload = error_frame_payload(kFutureCursorError, "Cursor in the future.");
  return payload;
}

const BytesRef& too_slow_payload() {
  static const BytesRef payload =
      error_frame_payload(kTooSlowError, "consumer too slow: send queue over its limit");
  return payload;
}

}  // namespace ringlay::fanout
