// SPDX-License-Identifier: MIT
// Tree: opening, lazy loading, lookups, the top of the tree and hashing. Edits are in
// tree_edit.cc.
#include "mst/tree.h"

#include <cstring>

#include "mst/key.h"
#include "util/assert.h"

namespace ringlay::mst {

Node* Tree::new_node(int height) {
  Node* n = ws_.arena.make<Node>();
  n->height = height;
  n->state = NodeState::dirty;
  return n;
}

void Tree::open_empty() {
  root_ = new_node(0);
  node_error_ = NodeError::ok;
}

Reason Tree::open(cid::CidView root) {
  node_error_ = NodeError::ok;
  if (!root.is_blessed_dag_cbor()) {
    node_error_ = NodeError::bad_link;
    return Reason::bad_mst_node;
  }
  root_ = ws_.arena.make<Node>();
  root_->state = NodeState::stub;
  root_->height = -1;
  std::memcpy(root_->cid_bytes, root.data(), cid::kBlessedSize);
  return Reason::ok;
}

Reason Tree::load(Node* n, const KeyRange& range) {
  if (!n->is_stub()) return Reason::ok;
  std::optional<std::span<const uint8_t>> block;
  if (source_ != nullptr) block = source_->find(n->cid());
  if (!block) return Reason::missing_block;
  const NodeError e = decode_node(*block, n->height, range, ws_.decoder, ws_.arena, n);
  if (e != NodeError::ok) {
    node_error_ = e;
    return Reason::bad_mst_node;
  }
  ++nodes_loaded_;
  return Reason::ok;
}

// Loads the root. A root reached by trimming may turn out to be a bare pointer once read
// (its block was absent when the top was trimmed): keep descending then.
Reason Tree::settle_root() {
  RL_ASSERT(root_ != nullptr);
  for (;;) {
    if (Reason r = load(root_, KeyRange{}); r != Reason::ok) return r;
    if (root_->count > 0 || root_->left == nullptr) return Reason::ok;
    root_ = root_->left;
  }
}

// After a removal: a root with no entries is either the empty tree or a bare pointer, and a
// bare pointer is replaced by the node below it, repeatedly. When that node's block is not in
// the source we stop on its stub, as indigo does: its CID is the new root's CID unless it is
// itself a bare pointer, which only a non-canonical previous tree could produce (and then the
// root will not match prevData). This is what lets a commit that creates the one key of the
// top layer (firehose capture 4623075231) invert with just the blocks on its path.
Reason Tree::trim_top() {
  while (!root_->is_stub() && root_->count == 0) {
    if (root_->left == nullptr) {
      root_->height = 0;  // the empty tree
      return Reason::ok;
    }
    Node* below = root_->left;
    if (below->is_stub() && source_ != nullptr && source_->find(below->cid())) {
      if (Reason r = load(below, KeyRange{}); r != Reason::ok) return r;
    }
    root_ = below;
  }
  return Reason::ok;
}

Reason Tree::get(std::string_view key, cid::CidView* value) {
  if (!is_valid_key(key)) return Reason::invalid_key;
  const int height = key_height(key);
  if (Reason r = settle_root(); r != Reason::ok) return r;
  Node* n = root_;
  KeyRange range;
  for (;;) {
    if (height > n->height) return Reason::key_not_found;
    const uint32_t i = lower_bound(*n, key);
    if (height == n->height) {
      if (i == n->count || n->entries[i].key != key) return Reason::key_not_found;
      *value = n->entries[i].value;
      return Reason::ok;
    }
    Node* child = n->gap(i);
    if (child == nullptr) return Reason::key_not_found;
    range = KeyRange::gap_of(*n, i, range);
    if (Reason r = load(child, range); r != Reason::ok) return r;
    n = child;
  }
}

void Tree::hash(Node* n, BlockSink* sink) {
  if (n->state != NodeState::dirty) return;
  if (n->left != nullptr) hash(n->left, sink);
  for (uint32_t i = 0; i < n->count; ++i) {
    if (n->entries[i].right != nullptr) hash(n->entries[i].right, sink);
  }
  ws_.encoded.clear();
  encode_node(*n, ws_.encoded);
  cid::compute_blessed(cid::kCodecDagCbor, ws_.encoded, n->cid_bytes);
  n->state = NodeState::clean;
  ++nodes_hashed_;
  if (sink != nullptr) sink->put(n->cid(), ws_.encoded);
}

cid::Cid Tree::root_cid(BlockSink* sink) {
  RL_ASSERT(root_ != nullptr);
  hash(root_, sink);
  return cid::Cid::copy_of(root_->cid());
}

}  // namespace ringlay::mst
