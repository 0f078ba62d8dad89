// SPDX-License-Identifier: MIT
// Frame parsing as a two-stage machine: collect the header (2 to 14 bytes, which may arrive one
// byte at a time), validate it completely, then stream the payload straight to its final
// place (unmasking and UTF-8 checking as it goes). All limits are decided on the header, so a
// bad or oversized frame is refused before any of its payload is stored.
#include "ws/frame_parser.h"

#include <algorithm>
#include <cstring>

#include "util/assert.h"

namespace ringlay::ws {

const char* error_name(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::reserved_bits: return "reserved_bits";
    case Error::bad_opcode: return "bad_opcode";
    case Error::unmasked_frame: return "unmasked_frame";
    case Error::masked_frame: return "masked_frame";
    case Error::control_too_long: return "control_too_long";
    case Error::control_fragmented: return "control_fragmented";
    case Error::unexpected_continuation: return "unexpected_continuation";
    case Error::expected_continuation: return "expected_continuation";
    case Error::non_minimal_length: return "non_minimal_length";
    case Error::length_overflow: return "length_overflow";
    case Error::bad_close_payload: return "bad_close_payload";
    case Error::bad_close_code: return "bad_close_code";
    case Error::message_too_big: return "message_too_big";
    case Error::invalid_utf8: return "invalid_utf8";
    case Error::out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

uint16_t error_close_code(Error e) {
  switch (e) {
    case Error::none: return kCloseNormal;
    case Error::message_too_big: return kCloseTooBig;
    case Error::invalid_utf8: return kCloseInvalidData;
    case Error::out_of_memory: return kCloseInternalError;
    default: return kCloseProtocolError;
  }
}

FeedStatus FrameParser::fail(Error e) {
  error_ = e;
  stage_ = Stage::done;
  msg_ = BytesRef();
  frag_ = {};
  return FeedStatus::error;
}

bool FrameParser::reject(Error e) {
  fail(e);
  return false;
}

size_t FrameParser::fail_after(Error e, size_t used) {
  fail(e);
  return used;
}

FeedStatus FrameParser::feed(std::span<const uint8_t> bytes, std::vector<Event>& out) {
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (stage_ != Stage::done) {
    if (stage_ == Stage::header) {
      if (n == 0) break;
      size_t used = read_header(p, n);
      p += used;
      n -= used;
      if (hdr_have_ < hdr_need_) break;
      if (!start_frame()) return FeedStatus::error;
      stage_ = Stage::payload;
    }
    if (frame_have_ < frame_len_) {
      if (n == 0) break;
      size_t used = read_payload(p, n);
      if (stage_ == Stage::done) return FeedStatus::error;
      p += used;
      n -= used;
      if (frame_have_ < frame_len_) break;
    }
    if (!finish_frame(out)) return FeedStatus::error;
  }
  if (stage_ == Stage::done) return error_ != Error::none ? FeedStatus::error : FeedStatus::closed;
  return FeedStatus::ok;
}

size_t FrameParser::read_header(const uint8_t* p, size_t n) {
  size_t used = 0;
  while (used < n && hdr_have_ < hdr_need_) {
    size_t k = std::min<size_t>(n - used, hdr_need_ - hdr_have_);
    std::memcpy(hdr_.data() + hdr_have_, p + used, k);
    hdr_have_ += static_cast<uint8_t>(k);
    used += k;
    if (hdr_have_ == 2) {
      // The second byte says how long the header is: extended length and mask key.
      uint8_t len7 = hdr_[1] & 0x7F;
      hdr_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((hdr_[1] & 0x80) ? 4 : 0);
    }
  }
  return used;
}

bool FrameParser::start_frame() {
  uint8_t b0 = hdr_[0], b1 = hdr_[1];
  fin_ = (b0 & 0x80) != 0;
  uint8_t op = b0 & 0x0F;
  masked_ = (b1 & 0x80) != 0;
  if ((b0 & 0x70) != 0) return reject(Error::reserved_bits);
  if (op > 2 && (op < 8 || op > 10)) return reject(Error::bad_opcode);
  op_ = static_cast<Opcode>(op);
  if (opt_.role == Role::server && !masked_) return reject(Error::unmasked_frame);
  if (opt_.role == Role::client && masked_) return reject(Error::masked_frame);
  uint64_t len = b1 & 0x7F;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    at = 4;
    if (len < 126) return reject(Error::non_minimal_length);
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
    at = 10;
    if (len >> 63) return reject(Error::length_overflow);
    if (len < 65536) return reject(Error::non_minimal_length);
  }
  if (masked_) std::memcpy(mask_.data(), hdr_.data() + at, 4);
  frame_len_ = len;
  frame_have_ = 0;
  if (op >= 8) {
    if (!fin_) return reject(Error::control_fragmented);
    if (len > kMaxControlPayload) return reject(Error::control_too_long);
    return true;
  }
  if (op_ == Opcode::continuation && !in_message_) return reject(Error::unexpected_continuation);
  if (op_ != Opcode::continuation && in_message_) return reject(Error::expected_continuation);
  uint64_t prior = op_ == Opcode::continuation ? msg_size_ : 0;
  // Checked on the header, before any payload is stored (RFC 6455 §10.4).
  if (len > opt_.max_message_bytes || prior + len > opt_.max_message_bytes) {
    return reject(Error::message_too_big);
  }
  if (op_ != Opcode::continuation) {
    in_message_ = true;
    msg_text_ = op_ == Opcode::text;
    fragmented_ = !fin_;
    msg_size_ = 0;
    utf8_.reset();
  }
  if (opt_.discard_messages) return true;
  if (!fragmented_) {
    SharedBytes* b = SharedBytes::create(len);
    if (b == nullptr) return reject(Error::out_of_memory);
    msg_ = BytesRef::adopt(b);
  } else {
    frag_.resize(msg_size_ + len);  // geometric growth inside std::vector
  }
  return true;
}

size_t FrameParser::read_payload(const uint8_t* p, size_t n) {
  size_t k = static_cast<size_t>(std::min<uint64_t>(n, frame_len_ - frame_have_));
  bool control = static_cast<uint8_t>(op_) >= 8;
  uint8_t* dst;
  uint8_t scratch[512];
  if (control) {
    dst = ctrl_.data() + frame_have_;
  } else if (opt_.discard_messages) {
    dst = nullptr;
  } else if (fragmented_) {
    dst = frag_.data() + msg_size_ + frame_have_;
  } else {
    dst = msg_.mutable_data() + frame_have_;
  }
  if (dst != nullptr) {
    std::memcpy(dst, p, k);
    if (masked_) apply_mask(dst, k, mask_, frame_have_);
    if (!control && msg_text_ && !utf8_.feed(dst, k)) return fail_after(Error::invalid_utf8, k);
  } else if (msg_text_) {
    // Discarded text still has to be valid UTF-8; unmask through a small scratch buffer.
    for (size_t off = 0; off < k; off += sizeof scratch) {
      size_t m = std::min(sizeof scratch, k - off);
      std::memcpy(scratch, p + off, m);
      if (masked_) apply_mask(scratch, m, mask_, frame_have_ + off);
      if (!utf8_.feed(scratch, m)) return fail_after(Error::invalid_utf8, k);
    }
  }
  frame_have_ += k;
  return k;
}

bool FrameParser::finish_frame(std::vector<Event>& out) {
  hdr_have_ = 0;
  hdr_need_ = 2;
  stage_ = Stage::header;
  if (static_cast<uint8_t>(op_) >= 8) return finish_control(out);
  msg_size_ += frame_len_;
  if (!fin_) return true;
  if (msg_text_ && !utf8_.complete()) return reject(Error::invalid_utf8);
  Event ev;
  ev.kind = EventKind::message;
  ev.text = msg_text_;
  if (!opt_.discard_messages) {
    if (fragmented_) {
      ev.data = BytesRef::copy_of(frag_.data(), frag_.size());
      if (!ev.data) return reject(Error::out_of_memory);
      // Keep a modest buffer for the next fragmented message; give big ones back.
      if (frag_.capacity() > 64 * 1024) frag_ = {};
      frag_.clear();
    } else {
      ev.data = std::move(msg_);
    }
  }
  in_message_ = false;
  fragmented_ = false;
  ++messages_;
  out.push_back(std::move(ev));
  return true;
}

bool FrameParser::finish_control(std::vector<Event>& out) {
  Event ev;
  size_t len = static_cast<size_t>(frame_len_);
  if (op_ == Opcode::close) {
    if (len == 1) return reject(Error::bad_close_payload);
    ev.kind = EventKind::close;
    ev.close_code = kCloseNoStatus;
    if (len >= 2) {
      ev.close_code = static_cast<uint16_t>((ctrl_[0] << 8) | ctrl_[1]);
      if (!valid_close_code(ev.close_code)) return reject(Error::bad_close_code);
      ev.close_reason.assign(reinterpret_cast<const char*>(ctrl_.data()) + 2, len - 2);
      if (!valid_utf8(ev.close_reason)) return reject(Error::invalid_utf8);
    }
    out.push_back(std::move(ev));
    stage_ = Stage::done;
    msg_ = BytesRef();
    frag_ = {};
    return true;
  }
  ev.kind = op_ == Opcode::ping ? EventKind::ping : EventKind::pong;
  ev.data = BytesRef::copy_of(ctrl_.data(), len);
  out.push_back(std::move(ev));
  return true;
}

}  // namespace ringlay::ws
