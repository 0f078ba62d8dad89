// SPDX-License-Identifier: MIT
#include "cbor/encoder.h"

#include <cstring>

#include "util/assert.h"

namespace ringlay::cbor {

void write_head(std::vector<uint8_t>& out, uint8_t major, uint64_t arg) {
  RL_ASSERT(major <= 7);
  uint8_t m = static_cast<uint8_t>(major << 5);
  uint8_t buf[9];
  size_t n;
  if (arg < 24) {
    buf[0] = static_cast<uint8_t>(m | arg);
    n = 1;
  } else {
    size_t bytes = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffull ? 4 : 8;
    buf[0] = static_cast<uint8_t>(m | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
    for (size_t i = 0; i < bytes; i++) buf[1 + i] = static_cast<uint8_t>(arg >> (8 * (bytes - 1 - i)));
    n = 1 + bytes;
  }
  out.insert(out.end(), buf, buf + n);
}

void Encoder::element() {
  if (depth_ == 0) return;
  Open& o = stack_[depth_ - 1];
  RL_ASSERT(o.remaining > 0);  // more elements than the container announced
  // In a map, keys and values alternate: a value must not arrive where a key is due.
  if (o.is_map) RL_ASSERT(o.remaining % 2 == 1);
  o.remaining--;
  // Close every container that just received its last element.
  while (depth_ > 0 && stack_[depth_ - 1].remaining == 0) depth_--;
}

void Encoder::head(uint8_t major, uint64_t arg) { write_head(out_, major, arg); }

void Encoder::open(uint32_t items, bool is_map) {
  if (items == 0) return;  // an empty container is complete at once
  RL_ASSERT(depth_ < sizeof stack_ / sizeof stack_[0]);
  stack_[depth_++] = Open{items, is_map, false, 0, 0};
}

void Encoder::uint64(uint64_t v) {
  element();
  head(0, v);
}

void Encoder::int64(int64_t v) {
  element();
  if (v >= 0) {
    head(0, static_cast<uint64_t>(v));
  } else {
    head(1, static_cast<uint64_t>(-1 - v));
  }
}

void Encoder::boolean(bool v) {
  element();
  out_.push_back(v ? 0xf5 : 0xf4);
}

void Encoder::null() {
  element();
  out_.push_back(0xf6);
}

void Encoder::text(std::string_view s) {
  element();
  head(3, s.size());
  out_.insert(out_.end(), s.begin(), s.end());
}

void Encoder::bytes(std::span<const uint8_t> b) {
  element();
  head(2, b.size());
  out_.insert(out_.end(), b.begin(), b.end());
}

void Encoder::link(cid::CidView c) {
  RL_ASSERT(!c.empty());
  element();
  out_.push_back(0xd8);
  out_.push_back(42);
  head(2, c.size() + 1);
  out_.push_back(0x00);
  out_.insert(out_.end(), c.data(), c.data() + c.size());
}

void Encoder::array(uint32_t count) {
  element();
  head(4, count);
  open(count, false);
}

void Encoder::map(uint32_t entries) {
  element();
  head(5, entries);
  open(entries * 2, true);
}

void Encoder::key(std::string_view k) {
  RL_ASSERT(depth_ > 0);
  Open& o = stack_[depth_ - 1];
  RL_ASSERT(o.is_map && o.remaining % 2 == 0);  // a key is due
  if (o.has_key) {
    std::string_view prev(reinterpret_cast<const char*>(out_.data()) + o.last_key_pos, o.last_key_len);
    RL_ASSERT(key_less(prev, k));  // canonical order, no duplicates
  }
  o.remaining--;
  head(3, k.size());
  o.has_key = true;
  o.last_key_pos = static_cast<uint32_t>(out_.size());
  o.last_key_len = static_cast<uint32_t>(k.size());
  out_.insert(out_.end(), k.begin(), k.end());
}

void Encoder::raw_item(std::span<const uint8_t> encoded) {
  element();
  out_.insert(out_.end(), encoded.begin(), encoded.end());
}

void Encoder::value(Value v) {
  switch (v.kind()) {
    case Kind::none: RL_ASSERT(false); break;
    case Kind::null: null(); break;
    case Kind::boolean: boolean(*v.as_bool()); break;
    case Kind::integer: int64(*v.as_int()); break;
    case Kind::text: text(*v.as_text()); break;
    case Kind::bytes: bytes(*v.as_bytes()); break;
    case Kind::link: link(*v.as_link()); break;
    case Kind::array:
      array(v.size());
      for (uint32_t i = 0; i < v.size(); i++) value(v.at(i));
      break;
    case Kind::map:
      map(v.size());
      for (uint32_t i = 0; i < v.size(); i++) {
        key(v.key(i));
        value(v.value(i));
      }
      break;
  }
}

void Encoder::finish() const { RL_ASSERT(depth_ == 0); }

bool encode_map_without(Value map, std::span<const uint8_t> source, std::string_view drop_key,
                        std::vector<uint8_t>& out) {
  if (!map.is_map() || !map.find(drop_key).exists()) return false;
  RL_ASSERT(map.end_pos() <= source.size());
  uint32_t n = map.size();
  write_head(out, 5, n - 1);
  for (uint32_t i = 0; i < n; i++) {
    if (map.key(i) == drop_key) continue;
    // An entry's bytes run from its key's head to the end of its value.
    uint32_t start = map.key_item(i).pos();
    uint32_t end = map.value(i).end_pos();
    out.insert(out.end(), source.data() + start, source.data() + end);
  }
  return true;
}

}  // namespace ringlay::cbor
