// SPDX-License-Identifier: MIT
#include "mst/mst_test_util.h"

#include <cstring>

#include "cbor/encoder.h"
#include "mst/key.h"
#include "mst/node.h"
#include "util/assert.h"

namespace ringlay::mst::testing {

std::optional<std::span<const uint8_t>> BlockMap::find(cid::CidView c) const {
  auto it = blocks_.find(cid::Cid::copy_of(c));
  if (it == blocks_.end()) return std::nullopt;
  return std::span<const uint8_t>(it->second);
}

void BlockMap::put(cid::CidView c, std::span<const uint8_t> bytes) {
  // try_emplace: never replace bytes that a live tree may point into.
  blocks_.try_emplace(cid::Cid::copy_of(c), bytes.begin(), bytes.end());
}

std::vector<cid::Cid> BlockMap::cids() const {
  std::vector<cid::Cid> out;
  for (const auto& kv : blocks_) out.push_back(kv.first);
  return out;
}

BlockMap BlockMap::subset(const std::vector<cid::Cid>& cids) const {
  BlockMap out;
  for (const cid::Cid& c : cids) {
    auto it = blocks_.find(c);
    RL_ASSERT(it != blocks_.end());
    out.blocks_.try_emplace(c, it->second);
  }
  return out;
}

std::optional<std::span<const uint8_t>> RecordingSource::find(cid::CidView c) const {
  auto r = inner_.find(c);
  if (r) found_.push_back(cid::Cid::copy_of(c));
  return r;
}

cid::Cid cid_of(std::string_view s) {
  cid::Cid c;
  RL_ASSERT(cid::parse_string(s, &c) == cid::Error::ok);
  return c;
}

std::string cid_str(cid::CidView c) { return cid::to_string(c); }

cid::Cid build_tree(Tree& tree, const std::vector<std::string>& keys, cid::CidView value,
                    BlockMap* blocks) {
  tree.open_empty();
  for (const std::string& k : keys) {
    cid::CidView previous;
    RL_ASSERT(tree.put(k, value, &previous) == Reason::ok);
  }
  return tree.root_cid(blocks);
}

void encode_node_generic(const Node& n, std::vector<uint8_t>& out) {
  cbor::Encoder e(out);
  e.map(2);
  e.key("e");
  e.array(n.count);
  std::string_view prev;
  for (uint32_t i = 0; i < n.count; ++i) {
    const Entry& entry = n.entries[i];
    const size_t p = common_prefix_len(prev, entry.key);
    e.map(4);
    e.key("k");
    e.bytes({reinterpret_cast<const uint8_t*>(entry.key.data()) + p, entry.key.size() - p});
    e.key("p");
    e.uint64(p);
    e.key("t");
    if (entry.right != nullptr) e.link(entry.right->cid()); else e.null();
    e.key("v");
    e.link(entry.value);
    prev = entry.key;
  }
  e.key("l");
  if (n.left != nullptr) e.link(n.left->cid()); else e.null();
  e.finish();
}

namespace {

struct Keyed {
  std::string_view key;
  cid::CidView value;
  int height;
};

// Builds the canonical node at `height` for entries[lo, hi) and returns it hashed (clean).
Node* build_node(Arena& arena, std::vector<uint8_t>& buf, const std::vector<Keyed>& entries,
                 size_t lo, size_t hi, int height) {
  Node* n = arena.make<Node>();
  n->height = height;
  size_t count = 0;
  for (size_t i = lo; i < hi; ++i) count += entries[i].height == height ? 1 : 0;
  n->entries = arena.make_array<Entry>(count == 0 ? 1 : count);
  n->capacity = static_cast<uint32_t>(count);
  size_t gap_start = lo;
  for (size_t i = lo; i <= hi; ++i) {
    if (i < hi && entries[i].height != height) continue;
    Node* child = nullptr;
    if (i > gap_start) child = build_node(arena, buf, entries, gap_start, i, height - 1);
    n->gap(n->count) = child;
    if (i < hi) n->entries[n->count++] = Entry{entries[i].key, entries[i].value, nullptr};
    gap_start = i + 1;
  }
  buf.clear();
  encode_node(*n, buf);
  cid::compute_blessed(cid::kCodecDagCbor, buf, n->cid_bytes);
  n->state = NodeState::clean;
  return n;
}

}  // namespace

cid::Cid canonical_root(const std::vector<std::pair<std::string, cid::Cid>>& entries) {
  std::vector<Keyed> keyed;
  int top = 0;
  for (const auto& [k, v] : entries) {
    keyed.push_back({k, v.view(), key_height(k)});
    if (keyed.back().height > top) top = keyed.back().height;
  }
  Arena arena;
  std::vector<uint8_t> buf;
  Node* root = build_node(arena, buf, keyed, 0, keyed.size(), top);
  return cid::Cid::copy_of(root->cid());
}

}  // namespace ringlay::mst::testing
