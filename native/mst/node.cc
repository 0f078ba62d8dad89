// SPDX-License-Identifier: MIT
#include "mst/node.h"

#include <cstring>

#include "cbor/decoder.h"
#include "cbor/encoder.h"  // head_size
#include "mst/key.h"
#include "util/assert.h"

namespace ringlay::mst {

uint32_t lower_bound(const Node& n, std::string_view key) {
  uint32_t lo = 0;
  uint32_t hi = n.count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (n.entries[mid].key < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

namespace {

// A subtree link: null, or a dag-cbor sha2-256 CID (MST links must use the blessed form).
bool read_link(cbor::Value v, cid::CidView* out) {
  if (v.is_null()) {
    *out = cid::CidView();
    return true;
  }
  auto link = v.as_link();
  if (!link || !link->is_blessed_dag_cbor()) return false;
  *out = *link;
  return true;
}

struct RawEntry {
  std::span<const uint8_t> suffix;
  uint64_t prefix;
  cid::CidView right;  // empty when null
  cid::CidView value;
};

// Checks one entry's shape: exactly k, p, t, v (canonical order is also bytewise here).
NodeError read_entry(cbor::Value e, RawEntry* out) {
  if (!e.is_map() || e.size() != 4 || e.key(0) != "k" || e.key(1) != "p" || e.key(2) != "t" ||
      e.key(3) != "v") {
    return NodeError::bad_shape;
  }
  auto k = e.value(0).as_bytes();
  auto p = e.value(1).as_int();
  auto v = e.value(3).as_link();
  if (!k || !p || *p < 0 || !v) return NodeError::bad_shape;
  if (!read_link(e.value(2), &out->right)) {
    return e.value(2).kind() == cbor::Kind::link ? NodeError::bad_link : NodeError::bad_shape;
  }
  out->suffix = *k;
  out->prefix = static_cast<uint64_t>(*p);
  out->value = *v;
  return NodeError::ok;
}

Node* make_stub(Arena& arena, cid::CidView c, int height) {
  Node* n = arena.make<Node>();
  n->state = NodeState::stub;
  n->height = height;
  std::memcpy(n->cid_bytes, c.data(), cid::kBlessedSize);
  return n;
}

// Rebuilds the full key of an entry from the previous key, enforcing maximal prefixes (the
// only encoding that re-encodes to the same bytes).
NodeError expand_key(const RawEntry& raw, std::string_view prev, bool first, Arena& arena,
                     std::string_view* key) {
  if ((first && raw.prefix != 0) || raw.prefix > prev.size()) return NodeError::bad_prefix;
  const size_t p = static_cast<size_t>(raw.prefix);
  if (p < prev.size() && (raw.suffix.empty() || raw.suffix[0] == static_cast<uint8_t>(prev[p]))) {
    return NodeError::bad_prefix;
  }
  const size_t size = p + raw.suffix.size();
  if (size == 0 || size > kMaxKeyBytes) return NodeError::bad_key;
  char* bytes = arena.make_array<char>(size);
  if (p > 0) std::memcpy(bytes, prev.data(), p);
  if (!raw.suffix.empty()) std::memcpy(bytes + p, raw.suffix.data(), raw.suffix.size());
  *key = std::string_view(bytes, size);
  if (!first && *key <= prev) return NodeError::key_order;
  return NodeError::ok;
}

}  // namespace

NodeError decode_node(std::span<const uint8_t> block, int expected_height, const KeyRange& range,
                      cbor::Decoder& decoder, Arena& arena, Node* n) {
  RL_DASSERT(n->is_stub());
  decoder.clear();
  const cbor::Result r = decoder.decode(block);
  if (!r.ok()) return NodeError::cbor;
  const cbor::Value root = r.value;
  if (!root.is_map() || root.size() != 2 || root.key(0) != "e" || root.key(1) != "l") {
    return NodeError::bad_shape;
  }
  const cbor::Value list = root.value(0);
  if (!list.is_array()) return NodeError::bad_shape;
  cid::CidView left;
  if (!read_link(root.value(1), &left)) {
    return root.value(1).kind() == cbor::Kind::link ? NodeError::bad_link : NodeError::bad_shape;
  }
  const uint32_t count = list.size();
  if (count > kMaxNodeEntries) return NodeError::too_many_entries;

  int height = expected_height;
  if (count == 0) {
    // A root without entries is the empty tree (no link); below the root, a node without
    // entries only exists to carry a link down (layer > 0).
    if (expected_height < 0) {
      if (!left.empty()) return NodeError::empty_node;
      height = 0;
    } else if (left.empty() || expected_height == 0) {
      return NodeError::empty_node;
    }
  }

  Entry* entries = count == 0 ? nullptr : arena.make_array<Entry>(count);
  std::string_view prev;
  for (uint32_t i = 0; i < count; ++i) {
    RawEntry raw;
    if (NodeError e = read_entry(list.at(i), &raw); e != NodeError::ok) return e;
    std::string_view key;
    if (NodeError e = expand_key(raw, prev, i == 0, arena, &key); e != NodeError::ok) return e;
    const int h = key_height(key);
    if (height < 0) height = h;  // a root: its first key sets the layer
    if (h != height) return NodeError::wrong_layer;
    if (height == 0 && !raw.right.empty()) return NodeError::leaf_has_children;
    entries[i].key = key;
    entries[i].value = raw.value;
    entries[i].right = raw.right.empty() ? nullptr : make_stub(arena, raw.right, height - 1);
    prev = key;
  }
  if (count > 0 && (!range.contains(entries[0].key) || !range.contains(entries[count - 1].key))) {
    return NodeError::key_out_of_range;
  }
  if (height == 0 && !left.empty()) return NodeError::leaf_has_children;

  n->left = left.empty() ? nullptr : make_stub(arena, left, height - 1);
  n->entries = entries;
  n->count = count;
  n->capacity = count;
  n->height = height;
  n->state = NodeState::clean;
  return NodeError::ok;
}

// The layout is fixed ({e, l} and {k, p, t, v}, already in canonical order), so the node is
// written straight into a buffer sized up front: the checked cbor::Encoder spends several
// times the cost of hashing the result on order assertions and per-head appends. Tests
// compare this writer with cbor::Encoder byte for byte.
namespace {

constexpr uint8_t kMajorBytes = 2, kMajorArray = 4, kMajorMap = 5;

size_t link_size(cid::CidView c) {
  return 2 + cbor::head_size(c.size() + 1) + 1 + c.size();  // d8 2a, bytes head, 00, CID
}

uint8_t* put_head(uint8_t* p, uint8_t major, uint64_t arg) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  if (arg < 24) {
    *p++ = static_cast<uint8_t>(m | arg);
    return p;
  }
  int bytes = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffull ? 4 : 8;
  *p++ = static_cast<uint8_t>(m | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
  for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<uint8_t>(arg >> (8 * i));
  return p;
}

uint8_t* put_key(uint8_t* p, char k) {
  p[0] = 0x61;  // text(1)
  p[1] = static_cast<uint8_t>(k);
  return p + 2;
}

uint8_t* put_link(uint8_t* p, cid::CidView c) {
  *p++ = 0xd8;
  *p++ = 0x2a;  // tag 42
  p = put_head(p, kMajorBytes, c.size() + 1);
  *p++ = 0x00;  // identity multibase prefix
  std::memcpy(p, c.data(), c.size());
  return p + c.size();
}

uint8_t* put_child(uint8_t* p, const Node* child) {
  if (child == nullptr) {
    *p++ = 0xf6;  // null
    return p;
  }
  RL_DASSERT(child->state != NodeState::dirty);
  return put_link(p, child->cid());
}

size_t child_size(const Node* child) { return child == nullptr ? 1 : link_size(child->cid()); }

}  // namespace

void encode_node(const Node& n, std::vector<uint8_t>& out) {
  size_t size = 1 + 2 + cbor::head_size(n.count) + 2 + child_size(n.left);
  std::string_view prev;
  for (uint32_t i = 0; i < n.count; ++i) {
    const Entry& e = n.entries[i];
    const size_t p = common_prefix_len(prev, e.key);
    size += 1 + 2 + cbor::head_size(e.key.size() - p) + (e.key.size() - p) + 2 +
            cbor::head_size(p) + 2 + child_size(e.right) + 2 + link_size(e.value);
    prev = e.key;
  }
  const size_t start = out.size();
  out.resize(start + size);
  uint8_t* w = out.data() + start;
  w = put_head(w, kMajorMap, 2);
  w = put_key(w, 'e');
  w = put_head(w, kMajorArray, n.count);
  prev = std::string_view();
  for (uint32_t i = 0; i < n.count; ++i) {
    const Entry& e = n.entries[i];
    const size_t p = common_prefix_len(prev, e.key);
    w = put_head(w, kMajorMap, 4);
    w = put_key(w, 'k');
    w = put_head(w, kMajorBytes, e.key.size() - p);
    std::memcpy(w, e.key.data() + p, e.key.size() - p);
    w += e.key.size() - p;
    w = put_key(w, 'p');
    w = put_head(w, 0, p);
    w = put_key(w, 't');
    w = put_child(w, e.right);
    w = put_key(w, 'v');
    w = put_link(w, e.value);
    prev = e.key;
  }
  w = put_key(w, 'l');
  w = put_child(w, n.left);
  RL_ASSERT(w == out.data() + out.size());
}

}  // namespace ringlay::mst
