// SPDX-License-Identifier: MIT
// Helpers shared by the MST tests: an in-memory block store, CID strings, building a full
// tree from keys, and an independent from-scratch builder used as an oracle.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cid/cid.h"
#include "mst/tree.h"

namespace ringlay::mst::testing {

// A map of blocks by CID; as a BlockSink it stores what root_cid() encodes.
class BlockMap final : public BlockSource, public BlockSink {
 public:
  std::optional<std::span<const uint8_t>> find(cid::CidView c) const override;
  void put(cid::CidView c, std::span<const uint8_t> bytes) override;
  bool contains(cid::CidView c) const { return blocks_.count(cid::Cid::copy_of(c)) != 0; }
  size_t size() const { return blocks_.size(); }
  std::vector<cid::Cid> cids() const;
  void erase(cid::CidView c) { blocks_.erase(cid::Cid::copy_of(c)); }
  // A copy holding only `cids` (each must be present here).
  BlockMap subset(const std::vector<cid::Cid>& cids) const;

 private:
  std::unordered_map<cid::Cid, std::vector<uint8_t>> blocks_;
};

// A source that records which CIDs were looked up (and found) in another source.
class RecordingSource final : public BlockSource {
 public:
  explicit RecordingSource(const BlockSource& inner) : inner_(inner) {}
  std::optional<std::span<const uint8_t>> find(cid::CidView c) const override;
  const std::vector<cid::Cid>& found() const { return found_; }

 private:
  const BlockSource& inner_;
  mutable std::vector<cid::Cid> found_;
};

// Parses a "b..." CID string; asserts it is valid (fixture literals).
cid::Cid cid_of(std::string_view s);
std::string cid_str(cid::CidView c);
inline std::string cid_str(const cid::Cid& c) { return cid_str(c.view()); }

// Puts every key (value `value`) into an empty tree, stores all its blocks in `blocks` and
// returns the root. `keys` must outlive `tree`.
cid::Cid build_tree(Tree& tree, const std::vector<std::string>& keys, cid::CidView value,
                    BlockMap* blocks);

// encode_node() through the checked generic cbor::Encoder: the oracle for the direct writer.
void encode_node_generic(const Node& n, std::vector<uint8_t>& out);

// The root CID of the canonical tree for `entries` (sorted, unique keys), computed directly
// from the definition (every node holds the keys of its layer in its range, subtrees hang
// in the gaps one layer down) without any insert/remove logic.
cid::Cid canonical_root(const std::vector<std::pair<std::string, cid::Cid>>& entries);

}  // namespace ringlay::mst::testing
