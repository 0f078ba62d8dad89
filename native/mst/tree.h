// SPDX-License-Identifier: MIT
// A lazily loaded, possibly partial MST. Opening a tree reads nothing; each operation reads the
// node blocks on its path from a BlockSource as it goes. A node whose block the source lacks
// stays a stub (known by CID only); an operation that must look inside or restructure a stub
// fails with Reason::missing_block. That is the Sync 1.1 rule: a commit's CAR must carry every
// node that inverting its ops touches.
//
// Edits restructure exactly as the reference implementations do, because the tree shape is a
// function of the key set: splitting subtrees around a key inserted above them, merging the
// two subtrees beside a removed key, growing layers at the top (with bare pointer nodes so that
// links never skip a layer) and trimming bare pointers off the top. Only nodes an edit touched
// are re-encoded and hashed by root_cid().
//
// Threads: a Tree and its Workspace belong to one thread; nothing here is global or locked.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cbor/decoder.h"
#include "cid/cid.h"
#include "mst/arena.h"
#include "mst/node.h"
#include "mst/reason.h"

namespace ringlay::mst {

// Where node blocks come from (a commit's CAR; a map in tests). The bytes must hash to the CID
// (car::Reader verifies every block) and outlive the Tree.
class BlockSource {
 public:
  virtual std::optional<std::span<const uint8_t>> find(cid::CidView c) const = 0;

 protected:
  ~BlockSource() = default;
};

// Adapts anything with `std::optional<std::span<const uint8_t>> find(cid::CidView) const`,
// e.g. car::Reader: `BlockSourceOf<car::Reader> blocks(reader);`.
template <typename T>
class BlockSourceOf final : public BlockSource {
 public:
  explicit BlockSourceOf(const T& inner) : inner_(inner) {}
  std::optional<std::span<const uint8_t>> find(cid::CidView c) const override {
    return inner_.find(c);
  }

 private:
  const T& inner_;
};

// Receives each node root_cid() encodes (to build a full tree's blocks, or to store them).
class BlockSink {
 public:
  virtual void put(cid::CidView c, std::span<const uint8_t> bytes) = 0;

 protected:
  ~BlockSink() = default;
};

// Per-thread scratch, reused across commits: reset() between them frees every node at once
// and keeps the capacity, so steady-state inversion does not touch the heap.
struct Workspace {
  Arena arena;
  cbor::Decoder decoder;
  std::vector<uint8_t> encoded;  // one node's encoding at a time

  void reset() {
    arena.reset();
    decoder.clear();
  }
};

class Tree {
 public:
  // Memory comes from ws.arena: the tree is valid until ws.reset(). `source` may be null
  // (a tree built from nothing).
  Tree(Workspace& ws, const BlockSource* source) : ws_(ws), source_(source) {}
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // The empty tree.
  void open_empty();
  // The tree whose root node has this CID; reads nothing yet. bad_mst_node (bad_link) unless
  // the CID is dag-cbor sha2-256.
  Reason open(cid::CidView root);

  // ok with *value set, key_not_found, invalid_key, missing_block, bad_mst_node.
  Reason get(std::string_view key, cid::CidView* value);
  // Inserts or replaces. *previous is the replaced value, or empty when the key was new.
  // The key's bytes are not copied: they must outlive the tree (as must value's).
  Reason put(std::string_view key, cid::CidView value, cid::CidView* previous);
  // ok with *removed set, key_not_found, invalid_key, missing_block, bad_mst_node.
  Reason remove(std::string_view key, cid::CidView* removed);

  // Encodes and hashes every node changed since the last call, bottom-up, handing each to
  // `sink` when given, and returns the root's CID. An untouched tree costs nothing.
  cid::Cid root_cid(BlockSink* sink = nullptr);

  // After bad_mst_node: which rule the offending block broke.
  NodeError node_error() const { return node_error_; }
  const Node* root() const { return root_; }
  // Counters for benches and tests.
  uint32_t nodes_loaded() const { return nodes_loaded_; }
  uint32_t nodes_hashed() const { return nodes_hashed_; }

  // After any failed put/remove the tree may be half edited: discard it (ws.reset()).

 private:
  Reason load(Node* n, const KeyRange& range);
  Reason settle_root();
  Reason trim_top();
  void hash(Node* n, BlockSink* sink);

  Node* new_node(int height);
  void insert_entry(Node* n, uint32_t i, const Entry& e);
  void erase_entry(Node* n, uint32_t i);
  void append_entries(Node* n, const Entry* entries, uint32_t count);
  Node* wrap(Node* n, int from_height, int to_height);

  Reason insert_into(Node* n, const KeyRange& range, std::string_view key, int height,
                     cid::CidView value, cid::CidView* previous);
  Reason split(Node* n, const KeyRange& range, std::string_view key, Node** left, Node** right);
  Reason remove_from(Node* n, const KeyRange& range, std::string_view key, int height,
                     cid::CidView* removed);
  Reason merge(Node* a, const KeyRange& ra, Node* b, const KeyRange& rb, Node** out);

  Workspace& ws_;
  const BlockSource* source_;
  Node* root_ = nullptr;
  NodeError node_error_ = NodeError::ok;
  uint32_t nodes_loaded_ = 0;
  uint32_t nodes_hashed_ = 0;
};

}  // namespace ringlay::mst
