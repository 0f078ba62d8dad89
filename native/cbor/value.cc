// SPDX-License-Identifier: MIT
// Value: read access to a Decoder's tape.
#include "cbor/decoder.h"
#include "cbor/encoder.h"
#include "util/assert.h"

namespace ringlay::cbor {

namespace {

std::string_view text_of(const Item& it) {
  return {reinterpret_cast<const char*>(it.ptr), it.length()};
}

}  // namespace

const Item& Value::item() const {
  RL_ASSERT(d_ != nullptr);
  return d_->item(index_);
}

Kind Value::kind() const { return d_ == nullptr ? Kind::none : item().kind(); }

uint32_t Value::pos() const { return d_ == nullptr ? 0 : item().pos; }

std::optional<int64_t> Value::as_int() const {
  if (kind() != Kind::integer) return std::nullopt;
  return item().i;
}

std::optional<bool> Value::as_bool() const {
  if (kind() != Kind::boolean) return std::nullopt;
  return item().i != 0;
}

std::optional<std::string_view> Value::as_text() const {
  if (kind() != Kind::text) return std::nullopt;
  return text_of(item());
}

std::optional<std::span<const uint8_t>> Value::as_bytes() const {
  if (kind() != Kind::bytes) return std::nullopt;
  const Item& it = item();
  return std::span<const uint8_t>(it.ptr, it.length());
}

std::optional<cid::CidView> Value::as_link() const {
  if (kind() != Kind::link) return std::nullopt;
  const Item& it = item();
  return cid::CidView::unchecked(it.ptr, it.length());
}

uint32_t Value::size() const {
  Kind k = kind();
  return k == Kind::array || k == Kind::map ? item().length() : 0;
}

Value Value::at(uint32_t i) const {
  if (kind() != Kind::array || i >= item().length()) return Value();
  return Value(d_, item().first + i);
}

std::string_view Value::key(uint32_t i) const {
  if (kind() != Kind::map || i >= item().length()) return {};
  return text_of(d_->item(item().first + 2 * i));
}

Value Value::value(uint32_t i) const {
  if (kind() != Kind::map || i >= item().length()) return Value();
  return Value(d_, item().first + 2 * i + 1);
}

Value Value::key_item(uint32_t i) const {
  if (kind() != Kind::map || i >= item().length()) return Value();
  return Value(d_, item().first + 2 * i);
}

Value Value::find(std::string_view key) const {
  if (kind() != Kind::map) return Value();
  // Keys were verified canonical (strictly increasing in key_less order) on decode.
  uint32_t lo = 0, hi = item().length();
  uint32_t first = item().first;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    std::string_view k = text_of(d_->item(first + 2 * mid));
    if (k == key) return Value(d_, first + 2 * mid + 1);
    if (key_less(k, key)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return Value();
}

uint32_t Value::end_pos() const {
  if (d_ == nullptr) return 0;
  const Item& it = item();
  switch (it.kind()) {
    case Kind::none: return it.pos;
    case Kind::null:
    case Kind::boolean: return it.pos + 1;
    case Kind::integer: {
      uint64_t arg = it.i >= 0 ? static_cast<uint64_t>(it.i) : static_cast<uint64_t>(-1 - it.i);
      return it.pos + static_cast<uint32_t>(head_size(arg));
    }
    case Kind::text:
    case Kind::bytes: return it.pos + static_cast<uint32_t>(head_size(it.length())) + it.length();
    case Kind::link:  // d8 2a, bytes head, 0x00, CID
      return it.pos + 2 + static_cast<uint32_t>(head_size(it.length() + 1)) + 1 + it.length();
    case Kind::array:
    case Kind::map: {
      uint32_t n = it.length();
      if (n == 0) return it.pos + 1;
      uint32_t last = it.first + (it.kind() == Kind::map ? 2 * n : n) - 1;
      return Value(d_, last).end_pos();
    }
  }
  return it.pos;
}

}  // namespace ringlay::cbor
