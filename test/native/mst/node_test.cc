// SPDX-License-Identifier: MIT
// MST node codec: canonical round trip and every rule a strict decoder enforces.
#include "mst/node.h"

#include <optional>
#include <string>
#include <vector>

#include "car/car.h"
#include "cbor/atjson.h"
#include "cbor/decoder.h"
#include "cbor/encoder.h"
#include "harness.h"
#include "json.h"
#include "mst/key.h"
#include "mst/mst_test_util.h"
#include "util/assert.h"

using namespace ringlay;
using namespace ringlay::mst;
using namespace ringlay::mst::testing;

namespace {

constexpr const char* kLeaf = "bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454";
constexpr const char* kNode = "bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu";
constexpr const char* kRaw = "bafkreibwhdjd2rq4wfmeh4ycg2om46c7ver4f22gh7xzxnh4ovo2swanlq";

// An entry as written on the wire, so tests can break any rule.
struct Wire {
  std::string k;
  int64_t p;
  std::optional<cid::Cid> t;
  cid::Cid v;
};

std::vector<uint8_t> encode_wire(const std::vector<Wire>& entries, std::optional<cid::Cid> l) {
  std::vector<uint8_t> out;
  cbor::Encoder e(out);
  e.map(2);
  e.key("e");
  e.array(static_cast<uint32_t>(entries.size()));
  for (const Wire& w : entries) {
    e.map(4);
    e.key("k");
    e.bytes({reinterpret_cast<const uint8_t*>(w.k.data()), w.k.size()});
    e.key("p");
    e.int64(w.p);
    e.key("t");
    if (w.t) e.link(*w.t); else e.null();
    e.key("v");
    e.link(w.v);
  }
  e.key("l");
  if (l) e.link(*l); else e.null();
  e.finish();
  return out;
}

NodeError decode(const std::vector<uint8_t>& block, int height, KeyRange range = {}) {
  Arena arena;
  cbor::Decoder decoder;
  Node n;
  n.state = NodeState::stub;
  n.height = height;
  return decode_node(block, height, range, decoder, arena, &n);
}

std::string err(NodeError e) { return name(e); }

// Keys of one layer, sorted, for hand-built nodes.
std::vector<std::string> keys_of_height(int height, size_t count) {
  std::vector<std::string> out;
  for (int i = 0; out.size() < count; ++i) {
    std::string k = "coll/k" + std::to_string(100000 + i);
    if (key_height(k) == height) out.push_back(k);
  }
  return out;
}

// Decodes every node under `c` (layer `height`, inside `range`), checks that re-encoding gives
// back the block's bytes, and counts the nodes.
size_t round_trip(const BlockMap& blocks, cid::CidView c, int height, KeyRange range) {
  auto block = blocks.find(c);
  RL_ASSERT(block.has_value());
  Arena arena;
  cbor::Decoder decoder;
  Node n;
  n.state = NodeState::stub;
  n.height = height;
  RL_ASSERT(decode_node(*block, height, range, decoder, arena, &n) == NodeError::ok);
  std::vector<uint8_t> again, generic;
  encode_node(n, again);
  encode_node_generic(n, generic);
  CHECK(again == std::vector<uint8_t>(block->begin(), block->end()));
  CHECK(again == generic);
  size_t nodes = 1;
  for (uint32_t i = 0; i <= n.count; ++i) {
    if (Node* child = n.gap(i)) {
      CHECK(child->is_stub() && child->height == n.height - 1);
      nodes += round_trip(blocks, child->cid(), n.height - 1, KeyRange::gap_of(n, i, range));
    }
  }
  return nodes;
}

}  // namespace

TEST(mst_node_round_trip) {
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("app.bsky.feed.like/3l" + std::to_string(7000 + i * 7));
  Workspace ws;
  Tree tree(ws, nullptr);
  BlockMap blocks;
  const cid::Cid root = build_tree(tree, keys, cid_of(kLeaf).view(), &blocks);
  CHECK(tree.root()->height >= 2);
  CHECK_EQ(round_trip(blocks, root.view(), -1, KeyRange{}), blocks.size());
}

TEST(mst_node_accepts_any_value_cid) {
  // Record links are kept as written, even when not dag-cbor (a raw CID here).
  const auto block = encode_wire({{"coll/a", 0, std::nullopt, cid_of(kRaw)}}, std::nullopt);
  Arena arena;
  cbor::Decoder decoder;
  Node n;
  n.state = NodeState::stub;
  REQUIRE(decode_node(block, -1, {}, decoder, arena, &n) == NodeError::ok);
  CHECK(n.entries[0].value == cid_of(kRaw).view());
  CHECK_EQ(n.height, key_height("coll/a"));
  std::vector<uint8_t> again;
  encode_node(n, again);
  CHECK(again == block);
}

TEST(mst_node_rejects_bad_cbor_and_shape) {
  const cid::Cid leaf = cid_of(kLeaf);
  // {"l": null, "e": []}: keys out of canonical order.
  CHECK_EQ(err(decode(test::unhex("a2 61 6c f6 61 65 80"), -1)), "cbor");
  // A valid empty node followed by a stray byte.
  CHECK_EQ(err(decode(test::unhex("a2 61 65 80 61 6c f6 00"), -1)), "cbor");
  CHECK_EQ(err(decode(test::unhex("a2 61 65 80 61 6c f6"), -1)), "ok");
  // Not a map; a third key; `e` not an array; `l` not a link.
  CHECK_EQ(err(decode(test::unhex("80"), -1)), "bad_shape");
  CHECK_EQ(err(decode(test::unhex("a3 61 65 80 61 6c f6 61 7a f6"), -1)), "bad_shape");
  CHECK_EQ(err(decode(test::unhex("a2 61 65 a0 61 6c f6"), -1)), "bad_shape");
  CHECK_EQ(err(decode(test::unhex("a2 61 65 80 61 6c 01"), -1)), "bad_shape");
  // Missing `l` altogether.
  CHECK_EQ(err(decode(test::unhex("a1 61 65 80"), -1)), "bad_shape");
  // Entry without `t` ({k, p, v}) and entry whose `k` is text.
  std::vector<uint8_t> out;
  {
    cbor::Encoder e(out);
    e.map(2); e.key("e"); e.array(1);
    e.map(3); e.key("k"); e.bytes(test::span_of("coll/a")); e.key("p"); e.int64(0);
    e.key("v"); e.link(leaf);
    e.key("l"); e.null(); e.finish();
  }
  CHECK_EQ(err(decode(out, -1)), "bad_shape");
  out.clear();
  {
    cbor::Encoder e(out);
    e.map(2); e.key("e"); e.array(1);
    e.map(4); e.key("k"); e.text("coll/a"); e.key("p"); e.int64(0);
    e.key("t"); e.null(); e.key("v"); e.link(leaf);
    e.key("l"); e.null(); e.finish();
  }
  CHECK_EQ(err(decode(out, -1)), "bad_shape");
  // Negative prefix length.
  CHECK_EQ(err(decode(encode_wire({{"coll/a", -1, std::nullopt, leaf}}, std::nullopt), -1)),
           "bad_shape");
}

TEST(mst_node_rejects_bad_links_prefixes_keys) {
  const cid::Cid leaf = cid_of(kLeaf);
  const cid::Cid node = cid_of(kNode);
  const cid::Cid raw = cid_of(kRaw);
  const auto l1 = keys_of_height(1, 3);
  // Subtree links must be dag-cbor sha2-256.
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf}}, raw), -1)), "bad_link");
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, raw, leaf}}, std::nullopt), -1)), "bad_link");
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, node, leaf}}, node), -1)), "ok");
  // Prefixes: first must be 0, never past the previous key, always maximal.
  CHECK_EQ(err(decode(encode_wire({{l1[0].substr(1), 1, std::nullopt, leaf}}, std::nullopt), 1)),
           "bad_prefix");
  const size_t shared = common_prefix_len(l1[0], l1[1]);
  REQUIRE(shared > 2);
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf},
                                   {l1[1].substr(shared), static_cast<int64_t>(shared), std::nullopt, leaf}},
                                  std::nullopt), 1)),
           "ok");
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf},
                                   {l1[1].substr(shared - 1), static_cast<int64_t>(shared - 1), std::nullopt, leaf}},
                                  std::nullopt), 1)),
           "bad_prefix");
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf},
                                   {"x", static_cast<int64_t>(l1[0].size() + 1), std::nullopt, leaf}},
                                  std::nullopt), 1)),
           "bad_prefix");
  // Keys: non-empty, bounded, strictly increasing.
  CHECK_EQ(err(decode(encode_wire({{"", 0, std::nullopt, leaf}}, std::nullopt), 0)), "bad_key");
  std::string too_long = "c/" + std::string(kMaxKeyBytes, 'x');
  CHECK_EQ(err(decode(encode_wire({{too_long, 0, std::nullopt, leaf}}, std::nullopt), -1)), "bad_key");
  CHECK_EQ(err(decode(encode_wire({{l1[1], 0, std::nullopt, leaf},
                                   {l1[0].substr(shared), static_cast<int64_t>(shared), std::nullopt, leaf}},
                                  std::nullopt), 1)),
           "key_order");
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf},
                                   {"", static_cast<int64_t>(l1[0].size()), std::nullopt, leaf}},
                                  std::nullopt), 1)),
           "key_order");
}

TEST(mst_node_rejects_bad_layers_and_shapes) {
  const cid::Cid leaf = cid_of(kLeaf);
  const cid::Cid node = cid_of(kNode);
  const auto l0 = keys_of_height(0, 2);
  const auto l1 = keys_of_height(1, 2);
  // Every key on the node's layer; a root takes its layer from the first key.
  CHECK_EQ(err(decode(encode_wire({{l1[0], 0, std::nullopt, leaf}}, std::nullopt), 0)), "wrong_layer");
  const bool l0_first = l0[0] < l1[0];
  const std::string& a = l0_first ? l0[0] : l1[0];
  const std::string& b = l0_first ? l1[0] : l0[0];
  const size_t ab = common_prefix_len(a, b);
  CHECK_EQ(err(decode(encode_wire({{a, 0, std::nullopt, leaf},
                                   {b.substr(ab), static_cast<int64_t>(ab), std::nullopt, leaf}},
                                  std::nullopt), -1)),
           "wrong_layer");
  // Keys must sit inside the gap the parent hangs the node in.
  const auto one = encode_wire({{l0[0], 0, std::nullopt, leaf}}, std::nullopt);
  CHECK_EQ(err(decode(one, 0, KeyRange{"", l0[0]})), "key_out_of_range");
  CHECK_EQ(err(decode(one, 0, KeyRange{l0[0], ""})), "key_out_of_range");
  CHECK_EQ(err(decode(one, 0, KeyRange{"a", "zz"})), "ok");
  // Layer 0 has nothing below it.
  CHECK_EQ(err(decode(encode_wire({{l0[0], 0, node, leaf}}, std::nullopt), 0)), "leaf_has_children");
  CHECK_EQ(err(decode(encode_wire({{l0[0], 0, std::nullopt, leaf}}, node), -1)), "leaf_has_children");
  // Empty nodes: only the root of an empty tree; a bare pointer only below the root.
  CHECK_EQ(err(decode(encode_wire({}, node), -1)), "empty_node");
  CHECK_EQ(err(decode(encode_wire({}, std::nullopt), 2)), "empty_node");
  CHECK_EQ(err(decode(encode_wire({}, node), 0)), "empty_node");
  CHECK_EQ(err(decode(encode_wire({}, node), 2)), "ok");
  CHECK_EQ(err(decode(encode_wire({}, std::nullopt), -1)), "ok");
}

TEST(mst_node_entry_limit) {
  const cid::Cid leaf = cid_of(kLeaf);
  const auto keys = keys_of_height(0, kMaxNodeEntries + 1);
  std::vector<Wire> entries;
  std::string prev;
  for (const std::string& k : keys) {
    const size_t p = common_prefix_len(prev, k);
    entries.push_back({k.substr(p), static_cast<int64_t>(p), std::nullopt, leaf});
    prev = k;
  }
  CHECK_EQ(err(decode(encode_wire(entries, std::nullopt), 0)), "too_many_entries");
  entries.pop_back();
  CHECK_EQ(err(decode(encode_wire(entries, std::nullopt), 0)), "ok");
}

// Real MST nodes written by PDSs (the indigo firehose captures) decode and re-encode to the
// same bytes, through both writers. Their layers are not known here, so each is decoded as a
// root would be.
TEST(mst_node_round_trip_captured_blocks) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto absent");
  size_t nodes = 0;
  for (const char* file : {"firehose_commit_4621317030.json", "firehose_commit_4621317332.json",
                           "firehose_commit_4621332152.json", "firehose_commit_4623075231.json"}) {
    test::Json msg;
    REQUIRE(test::load_json(test::shared_dir() + "/atproto/indigo-captures/" + file, msg));
    std::string bytes;
    REQUIRE(test::base64_decode(msg["blocks"]["$bytes"].str, bytes));
    car::Reader car;
    REQUIRE(car.parse(test::span_of(bytes)) == car::Error::ok);
    for (const car::Block& b : car.blocks()) {
      cbor::Decoder probe;
      auto r = probe.decode(b.data);
      if (!r.ok() || !r.value.find("e").is_array()) continue;  // commit or record
      Arena arena;
      cbor::Decoder decoder;
      Node n;
      n.state = NodeState::stub;
      NodeError e = decode_node(b.data, -1, {}, decoder, arena, &n);
      // A bare pointer is only valid below a root; any layer above 0 will do for re-encoding.
      if (e == NodeError::empty_node) e = decode_node(b.data, 1, {}, decoder, arena, &n);
      REQUIRE(e == NodeError::ok);
      std::vector<uint8_t> again, generic;
      encode_node(n, again);
      encode_node_generic(n, generic);
      CHECK(again == std::vector<uint8_t>(b.data.begin(), b.data.end()));
      CHECK(generic == again);
      ++nodes;
    }
  }
  CHECK(nodes >= 30);
}
