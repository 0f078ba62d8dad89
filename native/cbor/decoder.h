// SPDX-License-Identifier: MIT
// Strict DAG-CBOR (DRISL) decoder with exactly the atproto rules: canonical map key order
// (shorter first, then bytewise), no duplicate keys, text keys only, minimal heads, no
// indefinite lengths, tag 42 only (0x00 + valid binary CID), no floats, simple values
// false/true/null only, valid UTF-8, one item per block, bounded depth and size.
//
// Output is a tape of 16-byte Items owned by the Decoder and reused across calls (clear()
// keeps the capacity, so steady-state decoding does not allocate). The children of a
// container occupy consecutive tape slots (a map's as key, value, key, value…), so array
// indexing is O(1) and map lookup is a binary search over canonically ordered keys.
// Text, bytes and links point into the input: zero-copy. A Value is valid until the
// Decoder's clear() and while the input bytes live.
//
//   cbor::Decoder dec;                      // one per thread, reused
//   dec.clear();
//   auto r = dec.decode(block);             // whole block = exactly one item
//   if (!r.ok()) return r.error;            // named reason + byte offset
//   auto rev = r.value.find("rev").as_text();
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cid/cid.h"

namespace ringlay::cbor {

enum class Error : uint8_t {
  ok,
  truncated,                  // input ends inside an item
  trailing_bytes,             // bytes after the single item of a block
  non_minimal_encoding,       // an integer or length with a longer head than needed
  indefinite_length,          // 0x5f/0x7f/0x9f/0xbf or a stray break 0xff
  invalid_additional_info,    // additional info 28..30 (reserved)
  unsupported_tag,            // any tag but 42
  bad_cid,                    // tag 42 not on bytes, missing 0x00 prefix, or invalid CID
  float_not_allowed,          // half/single/double floats (the atproto data model has none)
  simple_value_not_allowed,   // undefined or any simple value besides false/true/null
  invalid_utf8,               // text (or a key) that is not valid UTF-8
  non_text_key,               // a map key that is not a text string
  non_canonical_key_order,    // keys not sorted length-first then bytewise
  duplicate_key,              // the same key twice in one map
  integer_out_of_range,       // outside the signed 64-bit range
  too_deep,                   // containers nested deeper than Limits::max_depth
  too_large,                  // a string, bytes, key or container over its limit
  too_many_items,             // more than Limits::max_items items in one decode
};
const char* name(Error e);

struct Limits {
  uint32_t max_depth = 32;            // nested containers (the 33rd level fails)
  uint32_t max_container = 131072;    // elements of an array, entries of a map
  uint32_t max_string = 5000000;      // bytes of one text or byte string (clamped to 2^28-1)
  uint32_t max_key = 8192;            // bytes of one map key
  uint32_t max_items = 1u << 20;      // items (every key and value) in one decode call
};

enum class Kind : uint8_t { none, null, boolean, integer, text, bytes, array, map, link };
const char* name(Kind k);

// One tape slot. `head` packs the kind (low 4 bits) and a 28-bit length: bytes of text,
// bytes or the link, elements of an array, entries of a map. `pos` is the offset of the
// item's first byte in the input it was decoded from.
struct Item {
  uint32_t head;
  uint32_t pos;
  union {
    int64_t i;            // integer, boolean (0/1)
    const uint8_t* ptr;   // text, bytes, link (the binary CID, after the 0x00 prefix)
    uint32_t first;       // array, map: tape index of the first child
  };
  Kind kind() const { return static_cast<Kind>(head & 0xf); }
  uint32_t length() const { return head >> 4; }
};
static_assert(sizeof(Item) == 16);

class Decoder;

// A handle on one decoded item: the decoder and a tape index. Cheap to copy. A default or
// missing Value has kind none; every accessor on it answers "absent", never crashes.
class Value {
 public:
  Value() = default;
  Value(const Decoder* d, uint32_t index) : d_(d), index_(index) {}

  Kind kind() const;
  bool exists() const { return d_ != nullptr; }
  bool is_null() const { return kind() == Kind::null; }
  bool is_map() const { return kind() == Kind::map; }
  bool is_array() const { return kind() == Kind::array; }
  // Input offset of the item's first byte (0 for a missing value).
  uint32_t pos() const;

  // Typed reads: nullopt when the kind differs.
  std::optional<int64_t> as_int() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_text() const;
  std::optional<std::span<const uint8_t>> as_bytes() const;
  std::optional<cid::CidView> as_link() const;

  // Arrays and maps: element / entry count (0 for other kinds).
  uint32_t size() const;
  // Array element i (missing when out of range or not an array).
  Value at(uint32_t i) const;
  // Map entry i in canonical order.
  std::string_view key(uint32_t i) const;
  Value value(uint32_t i) const;
  // The key of entry i as an item (for its source position).
  Value key_item(uint32_t i) const;
  // Map lookup: binary search, O(log n). Missing when absent or not a map.
  Value find(std::string_view key) const;

  // End offset (exclusive) of this item's encoding in its input, walking down to the last
  // descendant. With pos() this gives the item's exact source bytes.
  uint32_t end_pos() const;

  const Item& item() const;

 private:
  const Decoder* d_ = nullptr;
  uint32_t index_ = 0;
};

struct Result {
  Error error = Error::ok;
  uint32_t offset = 0;  // on failure: input offset where the problem was found
  Value value;          // on success: the root item
  bool ok() const { return error == Error::ok; }
};

class Decoder {
 public:
  explicit Decoder(const Limits& limits = {});

  // Decodes exactly one item that spans all of `in` (trailing bytes are an error).
  // Appends to the tape: earlier Values stay valid until clear().
  Result decode(std::span<const uint8_t> in);
  // Decodes the first item of `in` and stores where it ended in *end (a firehose frame is
  // two items back to back).
  Result decode_prefix(std::span<const uint8_t> in, size_t* end);

  // Forgets every decoded item (invalidating Values); keeps the tape's capacity.
  void clear() { tape_.clear(); }
  size_t tape_size() const { return tape_.size(); }
  const Limits& limits() const { return limits_; }

  const Item& item(uint32_t index) const { return tape_[index]; }

 private:
  friend class Parse;
  Limits limits_;
  std::vector<Item> tape_;
};

// Canonical DAG-CBOR key order: shorter first, then bytewise. True when a sorts before b.
inline bool key_less(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;  // string_view compares as unsigned char
}

// Validates one block without keeping its tape (a scratch decoder, reused per thread).
Error validate(std::span<const uint8_t> block, uint32_t* offset = nullptr);

}  // namespace ringlay::cbor
