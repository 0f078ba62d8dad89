// SPDX-License-Identifier: MIT
// Tree edits: put (insert or replace) and remove, with the split and merge steps that keep the
// tree in its one canonical shape for its key set.
#include <cstring>

#include "mst/key.h"
#include "mst/tree.h"
#include "util/assert.h"

namespace ringlay::mst {

namespace {

void mark_dirty(Node* n) { n->state = NodeState::dirty; }

}  // namespace

void Tree::insert_entry(Node* n, uint32_t i, const Entry& e) {
  RL_DASSERT(i <= n->count);
  if (n->count == n->capacity) {
    // Arrays decoded from blocks are exact-size; double them on the first insert.
    const uint32_t capacity = n->capacity < 4 ? 4 : n->capacity * 2;
    Entry* grown = ws_.arena.make_array<Entry>(capacity);
    if (n->count > 0) std::memcpy(grown, n->entries, sizeof(Entry) * n->count);
    n->entries = grown;
    n->capacity = capacity;
  }
  std::memmove(n->entries + i + 1, n->entries + i, sizeof(Entry) * (n->count - i));
  n->entries[i] = e;
  ++n->count;
}

void Tree::erase_entry(Node* n, uint32_t i) {
  RL_DASSERT(i < n->count);
  std::memmove(n->entries + i, n->entries + i + 1, sizeof(Entry) * (n->count - i - 1));
  --n->count;
}

void Tree::append_entries(Node* n, const Entry* entries, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) insert_entry(n, n->count, entries[i]);
}

// Hangs a subtree `to_height - from_height` layers lower under a chain of bare pointer nodes:
// links never skip a layer.
Node* Tree::wrap(Node* n, int from_height, int to_height) {
  if (n == nullptr) return nullptr;
  for (int h = from_height + 1; h <= to_height; ++h) {
    Node* parent = new_node(h);
    parent->left = n;
    n = parent;
  }
  return n;
}

Reason Tree::put(std::string_view key, cid::CidView value, cid::CidView* previous) {
  if (!is_valid_key(key)) return Reason::invalid_key;
  *previous = cid::CidView();
  const int height = key_height(key);
  if (Reason r = settle_root(); r != Reason::ok) return r;
  if (root_->is_empty()) {
    root_ = new_node(height);
    insert_entry(root_, 0, Entry{key, value, nullptr});
    return Reason::ok;
  }
  if (height <= root_->height) return insert_into(root_, KeyRange{}, key, height, value, previous);

  // A key above the top layer: it becomes the new root, and the old tree splits around it.
  Node* left = nullptr;
  Node* right = nullptr;
  if (Reason r = split(root_, KeyRange{}, key, &left, &right); r != Reason::ok) return r;
  Node* top = new_node(height);
  top->left = wrap(left, root_->height, height - 1);
  insert_entry(top, 0, Entry{key, value, wrap(right, root_->height, height - 1)});
  root_ = top;
  return Reason::ok;
}

// Inserts into the loaded node `n` (covering `range`), whose layer is at or above the key's.
Reason Tree::insert_into(Node* n, const KeyRange& range, std::string_view key, int height,
                         cid::CidView value, cid::CidView* previous) {
  RL_DASSERT(!n->is_stub() && n->height >= height);
  const uint32_t i = lower_bound(*n, key);
  if (n->height == height) {
    if (i < n->count && n->entries[i].key == key) {
      *previous = n->entries[i].value;
      if (!(n->entries[i].value == value)) {
        n->entries[i].value = value;
        mark_dirty(n);
      }
      return Reason::ok;
    }
    // The subtree the key lands in splits into the parts before and after it.
    Node* before = nullptr;
    Node* after = nullptr;
    if (Node* child = n->gap(i); child != nullptr) {
      const KeyRange sub = KeyRange::gap_of(*n, i, range);
      if (Reason r = split(child, sub, key, &before, &after); r != Reason::ok) return r;
    }
    n->gap(i) = before;
    insert_entry(n, i, Entry{key, value, after});
    mark_dirty(n);
    return Reason::ok;
  }
  const KeyRange sub = KeyRange::gap_of(*n, i, range);
  Node* child = n->gap(i);
  if (child == nullptr) {
    child = new_node(n->height - 1);  // a bare pointer if the key sits further down
    n->gap(i) = child;
  } else if (Reason r = load(child, sub); r != Reason::ok) {
    return r;
  }
  if (Reason r = insert_into(child, sub, key, height, value, previous); r != Reason::ok) return r;
  if (child->state == NodeState::dirty) mark_dirty(n);
  return Reason::ok;
}

// Splits the subtree `n` (covering `range`) into the parts below and above `key`, a key from a
// higher layer that is not in it. Either part may be null (nothing on that side). A part that
// keeps all of n's content is n itself, unchanged.
Reason Tree::split(Node* n, const KeyRange& range, std::string_view key, Node** left,
                   Node** right) {
  if (Reason r = load(n, range); r != Reason::ok) return r;
  const uint32_t i = lower_bound(*n, key);
  RL_DASSERT(i == n->count || n->entries[i].key != key);
  Node* child = n->gap(i);
  Node* child_left = nullptr;
  Node* child_right = nullptr;
  if (child != nullptr) {
    const KeyRange sub = KeyRange::gap_of(*n, i, range);
    if (Reason r = split(child, sub, key, &child_left, &child_right); r != Reason::ok) return r;
  }
  const bool child_changed =
      child_left != child || (child_left != nullptr && child_left->state == NodeState::dirty);
  if (i == n->count && child_right == nullptr) {  // everything is below the key
    n->gap(i) = child_left;
    if (child_changed) mark_dirty(n);
    *left = n;
    *right = nullptr;
    return Reason::ok;
  }
  if (i == 0 && child_left == nullptr) {  // everything is above the key
    const bool changed = child_right != child ||
                         (child_right != nullptr && child_right->state == NodeState::dirty);
    n->left = child_right;
    if (changed) mark_dirty(n);
    *left = nullptr;
    *right = n;
    return Reason::ok;
  }
  Node* upper = new_node(n->height);
  upper->left = child_right;
  append_entries(upper, n->entries + i, n->count - i);
  n->count = i;
  n->gap(i) = child_left;
  mark_dirty(n);
  *left = n;
  *right = upper;
  return Reason::ok;
}

Reason Tree::remove(std::string_view key, cid::CidView* removed) {
  if (!is_valid_key(key)) return Reason::invalid_key;
  const int height = key_height(key);
  if (Reason r = settle_root(); r != Reason::ok) return r;
  if (height > root_->height) return Reason::key_not_found;
  if (Reason r = remove_from(root_, KeyRange{}, key, height, removed); r != Reason::ok) return r;
  return trim_top();
}

// Removes `key` from the subtree under the loaded node `n` (covering `range`).
Reason Tree::remove_from(Node* n, const KeyRange& range, std::string_view key, int height,
                         cid::CidView* removed) {
  RL_DASSERT(!n->is_stub() && n->height >= height);
  const uint32_t i = lower_bound(*n, key);
  if (n->height == height) {
    if (i == n->count || n->entries[i].key != key) return Reason::key_not_found;
    *removed = n->entries[i].value;
    // The subtrees on both sides of the key become one.
    Node* before = n->gap(i);
    Node* after = n->entries[i].right;
    Node* joined = before != nullptr ? before : after;
    if (before != nullptr && after != nullptr) {
      const KeyRange rb{i == 0 ? range.lo : n->entries[i - 1].key, key};
      const KeyRange ra{key, i + 1 == n->count ? range.hi : n->entries[i + 1].key};
      if (Reason r = merge(before, rb, after, ra, &joined); r != Reason::ok) return r;
    }
    erase_entry(n, i);
    n->gap(i) = joined;
    mark_dirty(n);
    return Reason::ok;
  }
  Node* child = n->gap(i);
  if (child == nullptr) return Reason::key_not_found;
  const KeyRange sub = KeyRange::gap_of(*n, i, range);
  if (Reason r = load(child, sub); r != Reason::ok) return r;
  if (Reason r = remove_from(child, sub, key, height, removed); r != Reason::ok) return r;
  if (child->is_empty()) n->gap(i) = nullptr;  // nothing left below: drop the link
  mark_dirty(n);
  return Reason::ok;
}

// Joins two neighbouring subtrees of one layer (a before b); their facing edges join
// recursively. The result reuses a.
Reason Tree::merge(Node* a, const KeyRange& ra, Node* b, const KeyRange& rb, Node** out) {
  if (Reason r = load(a, ra); r != Reason::ok) return r;
  if (Reason r = load(b, rb); r != Reason::ok) return r;
  RL_DASSERT(a->height == b->height);
  Node* a_edge = a->gap(a->count);
  Node* b_edge = b->left;
  Node* edge = a_edge != nullptr ? a_edge : b_edge;
  if (a_edge != nullptr && b_edge != nullptr) {
    const KeyRange ra_edge = KeyRange::gap_of(*a, a->count, ra);
    const KeyRange rb_edge = KeyRange::gap_of(*b, 0, rb);
    if (Reason r = merge(a_edge, ra_edge, b_edge, rb_edge, &edge); r != Reason::ok) return r;
  }
  a->gap(a->count) = edge;
  append_entries(a, b->entries, b->count);
  mark_dirty(a);
  *out = a;
  return Reason::ok;
}

}  // namespace ringlay::mst
