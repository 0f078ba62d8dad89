// SPDX-License-Identifier: MIT
#include "car/car.h"

#include "cid/varint.h"
#include "util/assert.h"

namespace ringlay::car {

const char* name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::truncated: return "truncated";
    case Error::bad_varint: return "bad_varint";
    case Error::zero_length: return "zero_length";
    case Error::bad_header: return "bad_header";
    case Error::bad_header_shape: return "bad_header_shape";
    case Error::unsupported_version: return "unsupported_version";
    case Error::bad_cid: return "bad_cid";
    case Error::unsupported_hash: return "unsupported_hash";
    case Error::hash_mismatch: return "hash_mismatch";
    case Error::too_many_blocks: return "too_many_blocks";
  }
  return "unknown";
}

namespace {

cbor::Limits header_limits(const Options& o) {
  cbor::Limits l;
  l.max_depth = 2;
  l.max_container = o.max_roots > 2 ? o.max_roots : 2;
  l.max_string = o.max_header;
  l.max_items = 2 * o.max_roots + 16;
  return l;
}

// Reads a section or header length prefix at data[*pos].
Error read_length(std::span<const uint8_t> data, size_t* pos, uint64_t* len) {
  size_t used = 0;
  cid::VarintResult r = cid::read_varint(data.data() + *pos, data.data() + data.size(), len, &used);
  if (r == cid::VarintResult::truncated) return Error::truncated;
  if (r != cid::VarintResult::ok) return Error::bad_varint;
  *pos += used;
  if (*len == 0) return Error::zero_length;
  if (*len > data.size() - *pos) return Error::truncated;
  return Error::ok;
}

}  // namespace

Reader::Reader(const Options& options) : options_(options), header_decoder_(header_limits(options)) {}

Error Reader::fail(Error e, size_t offset) {
  error_offset_ = static_cast<uint32_t>(offset);
  return e;
}

Error Reader::parse_header(std::span<const uint8_t> header, size_t base) {
  header_decoder_.clear();
  cbor::Result r = header_decoder_.decode(header);
  if (!r.ok()) {
    header_error_ = r.error;
    return fail(Error::bad_header, base + r.offset);
  }
  cbor::Value version = r.value.find("version");
  cbor::Value roots = r.value.find("roots");
  if (!r.value.is_map() || !version.exists() || !roots.is_array()) {
    return fail(Error::bad_header_shape, base);
  }
  if (version.as_int() != std::optional<int64_t>(1)) return fail(Error::unsupported_version, base);
  for (uint32_t i = 0; i < roots.size(); i++) {
    std::optional<cid::CidView> c = roots.at(i).as_link();
    if (!c) return fail(Error::bad_header_shape, base + roots.at(i).pos());
    roots_.push_back(*c);
  }
  return Error::ok;
}

Error Reader::parse(std::span<const uint8_t> car) {
  roots_.clear();
  blocks_.clear();
  unique_ = 0;
  mask_ = 0;
  error_offset_ = 0;
  header_error_ = cbor::Error::ok;
  if (car.size() > UINT32_MAX) return fail(Error::truncated, 0);

  size_t pos = 0;
  uint64_t len = 0;
  if (Error e = read_length(car, &pos, &len); e != Error::ok) return fail(e, 0);
  if (len > options_.max_header) return fail(Error::bad_header, 0);
  if (Error e = parse_header(car.subspan(pos, len), pos); e != Error::ok) return e;
  pos += len;

  while (pos < car.size()) {
    size_t start = pos;
    if (blocks_.size() >= options_.max_blocks) return fail(Error::too_many_blocks, start);
    if (Error e = read_length(car, &pos, &len); e != Error::ok) return fail(e, start);
    std::span<const uint8_t> section = car.subspan(pos, len);
    cid::CidView c;
    if (cid::parse_binary_prefix(section, &c) != cid::Error::ok) return fail(Error::bad_cid, pos);
    if (c.hash_code() != cid::kHashSha256) return fail(Error::unsupported_hash, pos);
    std::span<const uint8_t> data = section.subspan(c.size());
    if (options_.verify_hashes && !cid::digest_matches(c, data)) return fail(Error::hash_mismatch, pos);
    blocks_.push_back(Block{c, data, static_cast<uint32_t>(start)});
    pos += len;
  }
  index_blocks();
  return Error::ok;
}

// Open addressing with linear probing at load <= 1/2. Digests are verified SHA-256 output,
// so their bits are uniform and probe chains stay short.
void Reader::index_blocks() {
  size_t cap = 16;
  while (cap < blocks_.size() * 2) cap *= 2;
  table_.assign(cap, 0);
  mask_ = cap - 1;
  for (size_t i = 0; i < blocks_.size(); i++) {
    cid::CidView c = blocks_[i].cid;
    size_t h = cid::hash(c) & mask_;
    bool dup = false;
    while (table_[h] != 0) {
      if (blocks_[table_[h] - 1].cid == c) {
        dup = true;  // the first copy stays indexed
        break;
      }
      h = (h + 1) & mask_;
    }
    if (dup) continue;
    table_[h] = static_cast<uint32_t>(i + 1);
    unique_++;
  }
}

std::optional<std::span<const uint8_t>> Reader::find(cid::CidView c) const {
  if (mask_ == 0 || c.empty()) return std::nullopt;
  size_t h = cid::hash(c) & mask_;
  while (table_[h] != 0) {
    const Block& b = blocks_[table_[h] - 1];
    if (b.cid == c) return b.data;
    h = (h + 1) & mask_;
  }
  return std::nullopt;
}

}  // namespace ringlay::car
