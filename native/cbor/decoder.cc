// SPDX-License-Identifier: MIT
#include "cbor/decoder.h"

#include <algorithm>
#include <cstring>

#include "cbor/utf8.h"
#include "util/assert.h"

namespace ringlay::cbor {

const char* name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::truncated: return "truncated";
    case Error::trailing_bytes: return "trailing_bytes";
    case Error::non_minimal_encoding: return "non_minimal_encoding";
    case Error::indefinite_length: return "indefinite_length";
    case Error::invalid_additional_info: return "invalid_additional_info";
    case Error::unsupported_tag: return "unsupported_tag";
    case Error::bad_cid: return "bad_cid";
    case Error::float_not_allowed: return "float_not_allowed";
    case Error::simple_value_not_allowed: return "simple_value_not_allowed";
    case Error::invalid_utf8: return "invalid_utf8";
    case Error::non_text_key: return "non_text_key";
    case Error::non_canonical_key_order: return "non_canonical_key_order";
    case Error::duplicate_key: return "duplicate_key";
    case Error::integer_out_of_range: return "integer_out_of_range";
    case Error::too_deep: return "too_deep";
    case Error::too_large: return "too_large";
    case Error::too_many_items: return "too_many_items";
  }
  return "unknown";
}

const char* name(Kind k) {
  switch (k) {
    case Kind::none: return "none";
    case Kind::null: return "null";
    case Kind::boolean: return "boolean";
    case Kind::integer: return "integer";
    case Kind::text: return "text";
    case Kind::bytes: return "bytes";
    case Kind::array: return "array";
    case Kind::map: return "map";
    case Kind::link: return "link";
  }
  return "unknown";
}

namespace {

constexpr uint32_t kMaxPacked = (1u << 28) - 1;  // Item::length() has 28 bits
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(INT64_MAX);

Item make(Kind k, uint32_t length, const uint8_t* at, const uint8_t* begin) {
  Item it;
  it.head = static_cast<uint32_t>(k) | (length << 4);
  it.pos = static_cast<uint32_t>(at - begin);
  it.i = 0;
  return it;
}

}  // namespace

// One decode call: a cursor over the input plus the tape it appends to. Recursion depth is
// bounded by Limits::max_depth (32), so the C++ stack is never at risk.
class Parse {
 public:
  Parse(Decoder& d, std::span<const uint8_t> in)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), tape_(d.tape_),
        lim_(d.limits_), items_left_(d.limits_.max_items) {}

  bool item(uint32_t slot, uint32_t depth);
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  Error error = Error::ok;
  uint32_t error_offset = 0;

 private:
  bool fail(Error e, const uint8_t* at) {
    error = e;
    error_offset = static_cast<uint32_t>(at - begin_);
    return false;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  bool head(const uint8_t* at, uint8_t* major, uint64_t* arg);
  bool simple(const uint8_t* at, uint8_t info, uint32_t slot);
  bool string(const uint8_t* at, uint8_t major, uint64_t len, uint32_t slot, uint32_t max);
  bool link(const uint8_t* at, uint32_t slot);
  bool reserve(const uint8_t* at, uint64_t slots, uint32_t* first);
  bool array(const uint8_t* at, uint64_t count, uint32_t slot, uint32_t depth);
  bool map(const uint8_t* at, uint64_t count, uint32_t slot, uint32_t depth);

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  std::vector<Item>& tape_;
  const Limits& lim_;
  uint32_t items_left_;
};

// Reads an initial byte and its argument, enforcing minimal heads and definite lengths.
// Major type 7 is handled by the caller (simple values and floats have their own rules).
bool Parse::head(const uint8_t* at, uint8_t* major, uint64_t* arg) {
  uint8_t ib = *p_++;
  *major = ib >> 5;
  uint8_t info = ib & 31;
  if (info < 24) {
    *arg = info;
    return true;
  }
  if (info >= 28) {
    if (info == 31 && *major >= 2 && *major <= 5) return fail(Error::indefinite_length, at);
    return fail(Error::invalid_additional_info, at);
  }
  size_t n = size_t{1} << (info - 24);  // 1, 2, 4 or 8 argument bytes
  if (left() < n) return fail(Error::truncated, at);
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | p_[i];
  p_ += n;
  uint64_t min = n == 1 ? 24 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000ull;
  if (v < min) return fail(Error::non_minimal_encoding, at);
  *arg = v;
  return true;
}

bool Parse::simple(const uint8_t* at, uint8_t info, uint32_t slot) {
  p_++;
  Kind k;
  int64_t v = 0;
  switch (info) {
    case 20: k = Kind::boolean; break;
    case 21: k = Kind::boolean; v = 1; break;
    case 22: k = Kind::null; break;
    case 25: case 26: case 27: return fail(Error::float_not_allowed, at);
    case 28: case 29: case 30: return fail(Error::invalid_additional_info, at);
    case 31: return fail(Error::indefinite_length, at);  // a break outside any container
    default: return fail(Error::simple_value_not_allowed, at);  // incl. undefined (23)
  }
  Item it = make(k, 0, at, begin_);
  it.i = v;
  tape_[slot] = it;
  return true;
}

bool Parse::string(const uint8_t* at, uint8_t major, uint64_t len, uint32_t slot, uint32_t max) {
  if (len > max) return fail(Error::too_large, at);
  if (len > left()) return fail(Error::truncated, at);
  if (major == 3 && !valid_utf8(p_, len)) return fail(Error::invalid_utf8, at);
  Item it = make(major == 3 ? Kind::text : Kind::bytes, static_cast<uint32_t>(len), at, begin_);
  it.ptr = p_;
  p_ += len;
  tape_[slot] = it;
  return true;
}

// Tag 42 (its head already read): bytes(0x00 + binary CID), the only tag atproto allows.
bool Parse::link(const uint8_t* at, uint32_t slot) {
  if (left() == 0) return fail(Error::truncated, p_);
  const uint8_t* inner = p_;
  if ((*p_ >> 5) != 2) return fail(Error::bad_cid, inner);
  uint8_t major;
  uint64_t len;
  if (!head(inner, &major, &len)) return false;
  if (len > left()) return fail(Error::truncated, inner);
  if (len < 2 || len > 1 + cid::kMaxBytes || p_[0] != 0x00) return fail(Error::bad_cid, inner);
  cid::CidView v;
  if (cid::parse_binary({p_ + 1, static_cast<size_t>(len - 1)}, &v) != cid::Error::ok) {
    return fail(Error::bad_cid, inner);
  }
  Item it = make(Kind::link, static_cast<uint32_t>(len - 1), at, begin_);
  it.ptr = p_ + 1;
  p_ += len;
  tape_[slot] = it;
  return true;
}

// Appends `slots` consecutive tape slots for a container's children.
bool Parse::reserve(const uint8_t* at, uint64_t slots, uint32_t* first) {
  if (slots > items_left_) return fail(Error::too_many_items, at);
  // Every child takes at least one byte: a huge count in a short input is truncation,
  // caught before the tape grows.
  if (slots > left()) return fail(Error::truncated, at);
  items_left_ -= static_cast<uint32_t>(slots);
  *first = static_cast<uint32_t>(tape_.size());
  tape_.resize(tape_.size() + slots);
  return true;
}

bool Parse::array(const uint8_t* at, uint64_t count, uint32_t slot, uint32_t depth) {
  if (count > lim_.max_container || count > kMaxPacked) return fail(Error::too_large, at);
  if (depth >= lim_.max_depth) return fail(Error::too_deep, at);
  uint32_t first = 0;
  if (!reserve(at, count, &first)) return false;
  Item it = make(Kind::array, static_cast<uint32_t>(count), at, begin_);
  it.first = first;
  tape_[slot] = it;
  for (uint32_t i = 0; i < count; i++) {
    if (!item(first + i, depth + 1)) return false;
  }
  return true;
}

bool Parse::map(const uint8_t* at, uint64_t count, uint32_t slot, uint32_t depth) {
  if (count > lim_.max_container || count > kMaxPacked) return fail(Error::too_large, at);
  if (depth >= lim_.max_depth) return fail(Error::too_deep, at);
  uint32_t first = 0;
  if (!reserve(at, count * 2, &first)) return false;
  Item it = make(Kind::map, static_cast<uint32_t>(count), at, begin_);
  it.first = first;
  tape_[slot] = it;
  const uint8_t* prev = nullptr;
  uint32_t prev_len = 0;
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* key_at = p_;
    if (left() == 0) return fail(Error::truncated, key_at);
    if ((*p_ >> 5) != 3) return fail(Error::non_text_key, key_at);
    uint8_t major;
    uint64_t len;
    if (!head(key_at, &major, &len)) return false;
    if (!string(key_at, major, len, first + 2 * i, std::min(lim_.max_key, kMaxPacked))) return false;
    const Item& k = tape_[first + 2 * i];
    if (prev != nullptr) {
      std::string_view a(reinterpret_cast<const char*>(prev), prev_len);
      std::string_view b(reinterpret_cast<const char*>(k.ptr), k.length());
      if (a == b) return fail(Error::duplicate_key, key_at);
      if (!key_less(a, b)) return fail(Error::non_canonical_key_order, key_at);
    }
    prev = k.ptr;
    prev_len = k.length();
    if (!item(first + 2 * i + 1, depth + 1)) return false;
  }
  return true;
}

bool Parse::item(uint32_t slot, uint32_t depth) {
  const uint8_t* at = p_;
  if (left() == 0) return fail(Error::truncated, at);
  if ((*p_ >> 5) == 7) return simple(at, *p_ & 31, slot);
  uint8_t major;
  uint64_t arg;
  if (!head(at, &major, &arg)) return false;
  switch (major) {
    case 0:
    case 1: {
      if (arg > kMaxInt64) return fail(Error::integer_out_of_range, at);
      Item it = make(Kind::integer, 0, at, begin_);
      it.i = major == 0 ? static_cast<int64_t>(arg) : -1 - static_cast<int64_t>(arg);
      tape_[slot] = it;
      return true;
    }
    case 2:
    case 3: return string(at, major, arg, slot, std::min(lim_.max_string, kMaxPacked));
    case 4: return array(at, arg, slot, depth);
    case 5: return map(at, arg, slot, depth);
    default:  // 6: tag
      if (arg != 42) return fail(Error::unsupported_tag, at);
      return link(at, slot);
  }
}

Decoder::Decoder(const Limits& limits) : limits_(limits) {}

Result Decoder::decode_prefix(std::span<const uint8_t> in, size_t* end) {
  Result r;
  if (in.size() > UINT32_MAX) {  // positions are 32-bit
    r.error = Error::too_large;
    return r;
  }
  size_t mark = tape_.size();
  tape_.emplace_back();
  Parse parse(*this, in);
  if (!parse.item(static_cast<uint32_t>(mark), 0)) {
    tape_.resize(mark);  // drop the partial tape: earlier Values stay valid
    r.error = parse.error;
    r.offset = parse.error_offset;
    return r;
  }
  *end = parse.consumed();
  r.value = Value(this, static_cast<uint32_t>(mark));
  return r;
}

Result Decoder::decode(std::span<const uint8_t> in) {
  size_t end = 0;
  size_t mark = tape_.size();
  Result r = decode_prefix(in, &end);
  if (r.ok() && end != in.size()) {
    tape_.resize(mark);
    r.value = Value();
    r.error = Error::trailing_bytes;
    r.offset = static_cast<uint32_t>(end);
  }
  return r;
}

Error validate(std::span<const uint8_t> block, uint32_t* offset) {
  thread_local Decoder scratch;
  scratch.clear();
  Result r = scratch.decode(block);
  scratch.clear();
  if (offset != nullptr) *offset = r.offset;
  return r.error;
}

}  // namespace ringlay::cbor
