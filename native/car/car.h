// SPDX-License-Identifier: MIT
// CAR v1 reader, zero-copy over the input: varint-length header (DAG-CBOR {roots, version: 1})
// then varint-length sections of binary CID + block bytes. Every block must be sha2-256 and
// its digest must match (a CID that names another hash function is rejected: atproto only
// writes sha2-256). Blocks may come in any order; duplicates are tolerated (the first one
// wins; every copy is still verified). Lookup by CID is O(1) through an open-addressing
// table that the reader keeps and reuses across parse() calls.
//
//   car::Reader car;                  // one per thread, reused
//   if (auto e = car.parse(blocks); e != car::Error::ok) return e;
//   if (car.roots().empty() || car.roots()[0] != commit_cid) ...
//   auto commit = car.find(commit_cid);   // std::optional<span>
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "cbor/decoder.h"
#include "cid/cid.h"

namespace ringlay::car {

enum class Error : uint8_t {
  ok,
  truncated,             // input ends inside a varint, the header or a section
  bad_varint,            // non-minimal or over-long length prefix
  zero_length,           // a header or section length of zero
  bad_header,            // header is not strict DAG-CBOR (see header_cbor_error())
  bad_header_shape,      // header is not a map with `roots` (array of links) and `version`
  unsupported_version,   // version other than 1
  bad_cid,               // a section's CID does not parse or is longer than the section
  unsupported_hash,      // a block CID with a hash other than sha2-256/32
  hash_mismatch,         // SHA-256(block) differs from the CID's digest
  too_many_blocks,       // more than Options::max_blocks sections
};
const char* name(Error e);

struct Block {
  cid::CidView cid;
  std::span<const uint8_t> data;
  uint32_t offset;  // section start (its varint) in the CAR bytes
};

struct Options {
  uint32_t max_blocks = 100000;
  uint32_t max_header = 8192;    // header bytes
  uint32_t max_roots = 16;
  bool verify_hashes = true;     // off only for inputs verified before (never for upstream data)
};

class Reader {
 public:
  explicit Reader(const Options& options = {});

  // Parses and verifies all of `car`. On failure, error_offset() tells where. The views
  // returned below point into `car` and are valid until the next parse().
  Error parse(std::span<const uint8_t> car);

  std::span<const cid::CidView> roots() const { return roots_; }
  // Every section in file order, duplicates included.
  std::span<const Block> blocks() const { return blocks_; }
  std::optional<std::span<const uint8_t>> find(cid::CidView c) const;
  bool contains(cid::CidView c) const { return find(c).has_value(); }
  size_t unique_blocks() const { return unique_; }

  uint32_t error_offset() const { return error_offset_; }
  cbor::Error header_cbor_error() const { return header_error_; }

 private:
  Error fail(Error e, size_t offset);
  Error parse_header(std::span<const uint8_t> header, size_t base);
  void index_blocks();

  Options options_;
  cbor::Decoder header_decoder_;
  std::vector<cid::CidView> roots_;
  std::vector<Block> blocks_;
  std::vector<uint32_t> table_;  // open addressing: block index + 1, 0 = empty
  size_t mask_ = 0;
  size_t unique_ = 0;
  uint32_t error_offset_ = 0;
  cbor::Error header_error_ = cbor::Error::ok;
};

}  // namespace ringlay::car
