// SPDX-License-Identifier: MIT
// MST nodes in memory and on the wire.
//
// Wire form (DAG-CBOR): {e: [{k: bytes, p: int, t: link|null, v: link}...], l: link|null}.
// `k` is the key minus the `p` bytes it shares with the previous key of the same node; `l` is
// the subtree left of the first entry and each `t` the subtree right of its entry.
//
// In memory a node is a sorted array of full keys with their subtrees. A child whose block has
// not been read is a *stub*: a Node that knows only its CID and its layer. Everything lives in
// an Arena; keys and value CIDs are views into the arena, the block bytes or the caller's ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cid/cid.h"
#include "mst/arena.h"
#include "mst/reason.h"

namespace ringlay::cbor {
class Decoder;
}

namespace ringlay::mst {

// Entries per node. Canonical trees of random keys stay far below (a run of n same-layer keys
// has probability (3/4)^n); only crafted keys get near it, and re-encoding such a node on
// every commit would be a cost worth refusing.
inline constexpr uint32_t kMaxNodeEntries = 4096;

struct Node;

struct Entry {
  std::string_view key;  // the full key
  cid::CidView value;    // record CID, kept as the block wrote it
  Node* right;           // subtree between this key and the next, or nullptr
};

enum class NodeState : uint8_t {
  stub,   // only the CID (and the layer, except for a root) is known
  clean,  // loaded and unchanged: cid_bytes is its CID
  dirty,  // new or changed: cid_bytes is stale until the tree is hashed
};

struct Node {
  Node* left = nullptr;  // subtree before entries[0]
  Entry* entries = nullptr;
  uint32_t count = 0;
  uint32_t capacity = 0;
  int32_t height = -1;  // layer; -1 while unknown (a root that was never read)
  NodeState state = NodeState::dirty;
  uint8_t cid_bytes[cid::kBlessedSize] = {};

  cid::CidView cid() const { return cid::CidView::unchecked(cid_bytes, cid::kBlessedSize); }
  bool is_stub() const { return state == NodeState::stub; }
  // Nothing below and nothing in it: only the root of an empty tree may look like this.
  bool is_empty() const { return count == 0 && left == nullptr; }
  // The subtree slot before entries[i] (i == count: after the last entry).
  Node*& gap(uint32_t i) { return i == 0 ? left : entries[i - 1].right; }
  Node* gap(uint32_t i) const { return i == 0 ? left : entries[i - 1].right; }
};

// Keys a subtree may hold: strictly between lo and hi. An empty bound is open (keys are never
// empty, so "" sorts before every key).
struct KeyRange {
  std::string_view lo;
  std::string_view hi;
  bool contains(std::string_view k) const { return k > lo && (hi.empty() || k < hi); }
  // The range of the gap before entries[i] of a node covering *this.
  static KeyRange gap_of(const Node& n, uint32_t i, const KeyRange& outer) {
    return {i == 0 ? outer.lo : n.entries[i - 1].key, i == n.count ? outer.hi : n.entries[i].key};
  }
};

// Index of the first entry whose key is >= key (count when none).
uint32_t lower_bound(const Node& n, std::string_view key);

// Fills the stub `n` from its block. `expected_height` is the layer its parent implies, or -1
// for a root (then the first key decides, and a root may not be a bare pointer down). Child
// links become stubs one layer down. Keys are copied into the arena; value CIDs point into
// `block`, which must outlive the node. On failure `n` is unchanged.
NodeError decode_node(std::span<const uint8_t> block, int expected_height, const KeyRange& range,
                      cbor::Decoder& decoder, Arena& arena, Node* n);

// Appends the canonical encoding of `n`. Every child must be a stub or clean (its CID known).
void encode_node(const Node& n, std::vector<uint8_t>& out);

}  // namespace ringlay::mst
