// SPDX-License-Identifier: MIT
// Real pre-Sync-1.1 #commit messages captured by indigo (atproto/repo/testdata): 4623075231
// must pass the forward check and invert; the other three came from a PDS whose diffs lacked
// MST nodes that inversion needs, and must fail for want of a block.
#include <string>
#include <vector>

#include "car/car.h"
#include "cbor/decoder.h"
#include "harness.h"
#include "json.h"
#include "mst/invert.h"
#include "mst/mst_test_util.h"

using namespace ringlay;
using namespace ringlay::mst;
using namespace ringlay::mst::testing;

namespace {

struct Capture {
  std::string car_bytes;
  car::Reader car;
  std::vector<std::string> actions, paths;
  std::vector<cid::Cid> cids;
  std::vector<Op> ops;
  cid::Cid data;  // the commit's MST root
};

// Loads a capture: CAR, the commit block's `data`, and the ops (no `prev`: pre-Sync-1.1).
bool load_capture(const std::string& file, Capture& c) {
  test::Json msg;
  if (!test::load_json(test::shared_dir() + "/atproto/indigo-captures/" + file, msg)) return false;
  if (!test::base64_decode(msg["blocks"]["$bytes"].str, c.car_bytes)) return false;
  const auto* bytes = reinterpret_cast<const uint8_t*>(c.car_bytes.data());
  if (c.car.parse({bytes, c.car_bytes.size()}) != car::Error::ok) return false;
  const cid::Cid commit = cid_of(msg["commit"]["$link"].str);
  auto block = c.car.find(commit.view());
  if (!block) return false;
  cbor::Decoder dec;
  auto r = dec.decode(*block);
  if (!r.ok()) return false;
  auto data = r.value.find("data").as_link();
  if (!data) return false;
  c.data = cid::Cid::copy_of(*data);
  for (const test::Json& op : msg["ops"].items) {
    c.actions.push_back(op["action"].str);
    c.paths.push_back(op["path"].str);
    c.cids.push_back(op["cid"].is_null() ? cid::Cid() : cid_of(op["cid"]["$link"].str));
  }
  for (size_t i = 0; i < c.paths.size(); ++i) {
    c.ops.push_back(Op{c.actions[i], c.paths[i], c.cids[i].view(), {}});
  }
  return true;
}

}  // namespace

TEST(mst_capture_4623075231_inverts) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto absent");
  Capture c;
  REQUIRE(load_capture("firehose_commit_4623075231.json", c));
  REQUIRE(c.ops.size() == 1);
  BlockSourceOf<car::Reader> blocks(c.car);
  Workspace ws;
  InvertOptions strict;
  strict.require_record_blocks = true;
  InvertResult r = invert_commit(ws, c.ops, blocks, c.data.view(), cid::CidView(), strict);
  CHECK_EQ(name(r.reason), std::string("ok"));
  // The new root holds only the created key (layer 1) and a link to the layer below, whose
  // block the diff does not carry: removing the key trims the top down to that link, so the
  // previous root must be exactly the root node's `t` link.
  auto root_block = c.car.find(c.data.view());
  REQUIRE(root_block.has_value());
  cbor::Decoder dec;
  auto node = dec.decode(*root_block);
  REQUIRE(node.ok());
  REQUIRE(node.value.find("e").size() == 1);
  auto below = node.value.find("e").at(0).find("t").as_link();
  REQUIRE(below.has_value());
  CHECK_EQ(cid_str(r.root), cid_str(*below));
  CHECK_EQ(r.nodes_loaded, 1u);
  // Inverting a second time with the computed root as prevData agrees with itself.
  InvertResult again = invert_commit(ws, c.ops, blocks, c.data.view(), *below, strict);
  CHECK_EQ(name(again.reason), std::string("ok"));
}

TEST(mst_captures_with_incomplete_diffs_fail) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto absent");
  const char* files[] = {"firehose_commit_4621317030.json", "firehose_commit_4621317332.json",
                         "firehose_commit_4621332152.json"};
  for (const char* file : files) {
    std::fprintf(stderr, "    capture: %s\n", file);
    Capture c;
    REQUIRE(load_capture(file, c));
    BlockSourceOf<car::Reader> blocks(c.car);
    Workspace ws;
    InvertOptions strict;
    strict.require_record_blocks = true;
    InvertResult r = invert_commit(ws, c.ops, blocks, c.data.view(), cid::CidView(), strict);
    // The forward check passes (every create is in the tree, with its record block): the
    // failure is the partial tree's.
    CHECK_EQ(name(r.reason), std::string("missing_block"));
    CHECK(r.op_index >= 0);
    for (const Op& op : c.ops) {
      Tree tree(ws, &blocks);
      REQUIRE(tree.open(c.data.view()) == Reason::ok);
      cid::CidView value;
      CHECK(tree.get(op.path, &value) == Reason::ok && value == op.cid);
      CHECK(blocks.find(op.cid).has_value());
    }
  }
}
