// SPDX-License-Identifier: MIT
// A small DAG-CBOR encoder for what the relay writes itself: #account/#identity/#info and
// error frames, unsigned commit bytes, MST nodes. Output is appended to a caller-owned
// std::vector<uint8_t> (reserve it once and reuse it: no other allocation happens).
//
// Heads are always minimal. Map keys must be written in canonical order (shorter first,
// then bytewise) and containers must receive exactly the count they announced: both are
// RL_ASSERTed, because a non-canonical block gets a different CID and is silently wrong.
//
//   cbor::Encoder e(out);
//   e.map(2);
//   e.key("t"); e.text("#info");
//   e.key("op"); e.int64(1);
//   e.finish();      // asserts every container was filled
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cbor/decoder.h"
#include "cid/cid.h"

namespace ringlay::cbor {

class Encoder {
 public:
  explicit Encoder(std::vector<uint8_t>& out) : out_(out) {}

  void uint64(uint64_t v);
  void int64(int64_t v);
  void boolean(bool v);
  void null();
  void text(std::string_view s);
  void bytes(std::span<const uint8_t> b);
  // Tag 42 + bytes(0x00 + binary CID).
  void link(cid::CidView c);
  void link(const cid::Cid& c) { link(c.view()); }
  void array(uint32_t count);
  void map(uint32_t entries);
  // A map key; must sort after the previous key of the same map.
  void key(std::string_view k);
  // Copies an already-encoded item (e.g. a decoded Value's source bytes) as one element.
  void raw_item(std::span<const uint8_t> encoded);
  // Re-encodes a decoded value (byte-identical to its source when that was canonical).
  void value(Value v);

  // Asserts that every container opened so far received all its elements.
  void finish() const;
  size_t depth() const { return depth_; }

 private:
  struct Open {
    uint32_t remaining;    // items still expected (a map counts keys and values)
    bool is_map;
    bool has_key;          // a previous key exists at last_key_*
    uint32_t last_key_pos;  // offset of the previous key's bytes in out_
    uint32_t last_key_len;
  };
  void head(uint8_t major, uint64_t arg);
  void element();  // counts one element against the innermost open container
  void open(uint32_t items, bool is_map);

  std::vector<uint8_t>& out_;
  Open stack_[64];
  size_t depth_ = 0;
};

// Appends a minimal CBOR head (major type 0..7, argument) to out.
void write_head(std::vector<uint8_t>& out, uint8_t major, uint64_t arg);
// Encoded size of a head with this argument: 1, 2, 3, 5 or 9.
inline size_t head_size(uint64_t arg) {
  return arg < 24 ? 1 : arg <= 0xff ? 2 : arg <= 0xffff ? 3 : arg <= 0xffffffffull ? 5 : 9;
}

// Appends `map` without its entry `drop_key`, reusing the source bytes of every other entry
// (no re-encoding): the unsigned commit bytes are the commit block minus "sig". The map must
// come from a strict decode, so its source bytes are canonical. Returns false (and appends
// nothing) when the key is absent or `map` is not a map.
bool encode_map_without(Value map, std::span<const uint8_t> source, std::string_view drop_key,
                        std::vector<uint8_t>& out);

}  // namespace ringlay::cbor
