// SPDX-License-Identifier: MIT
// Sync 1.1 inversion: the interop commit-proof fixtures, op validation, and each failure class.
#include "mst/invert.h"

#include <string>
#include <vector>

#include "harness.h"
#include "json.h"
#include "mst/mst_test_util.h"
#include "util/assert.h"

using namespace ringlay;
using namespace ringlay::mst;
using namespace ringlay::mst::testing;

namespace {

std::vector<std::string> strings(const test::Json& list) {
  std::vector<std::string> out;
  for (const test::Json& s : list.items) out.push_back(s.str);
  return out;
}

struct ProofCase {
  std::string comment;
  cid::Cid leaf;
  std::vector<std::string> keys, adds, dels;
  cid::Cid before, after;
  std::vector<cid::Cid> proof;
};

bool load_cases(std::vector<ProofCase>& out) {
  const std::string dir = test::shared_dir();
  if (dir.empty()) return false;
  test::Json cases;
  RL_ASSERT(test::load_json(dir + "/atproto/interop/firehose/commit-proof-fixtures.json", cases));
  for (const test::Json& c : cases.items) {
    ProofCase pc;
    pc.comment = c["comment"].str;
    pc.leaf = cid_of(c["leafValue"].str);
    pc.keys = strings(c["keys"]);
    pc.adds = strings(c["adds"]);
    pc.dels = strings(c["dels"]);
    pc.before = cid_of(c["rootBeforeCommit"].str);
    pc.after = cid_of(c["rootAfterCommit"].str);
    for (const std::string& s : strings(c["blocksInProof"])) pc.proof.push_back(cid_of(s));
    out.push_back(std::move(pc));
  }
  return true;
}

// adds are creates (cid = leaf), dels are deletes (prev = leaf).
std::vector<Op> ops_of(const ProofCase& pc) {
  std::vector<Op> ops;
  for (const std::string& k : pc.adds) ops.push_back(Op{"create", k, pc.leaf.view(), {}});
  for (const std::string& k : pc.dels) ops.push_back(Op{"delete", k, {}, pc.leaf.view()});
  return ops;
}

}  // namespace

TEST(mst_commit_proof_fixtures) {
  std::vector<ProofCase> cases;
  if (!load_cases(cases)) return test::skip("../shared/atproto absent");
  REQUIRE(cases.size() == 6);
  for (const ProofCase& pc : cases) {
    std::fprintf(stderr, "    case: %s\n", pc.comment.c_str());
    // Full tree: before and after roots.
    Workspace ws;
    Tree tree(ws, nullptr);
    BlockMap all;
    CHECK_EQ(cid_str(build_tree(tree, pc.keys, pc.leaf.view(), &all)), cid_str(pc.before));
    const BlockMap before_blocks = all;
    cid::CidView old;
    for (const std::string& k : pc.dels) REQUIRE(tree.remove(k, &old) == Reason::ok);
    for (const std::string& k : pc.adds) REQUIRE(tree.put(k, pc.leaf.view(), &old) == Reason::ok);
    CHECK_EQ(cid_str(tree.root_cid(&all)), cid_str(pc.after));

    // Partial tree of just the proof blocks inverts to the before root.
    const BlockMap proof = all.subset(pc.proof);
    const std::vector<Op> ops = ops_of(pc);
    Workspace inv;
    RecordingSource recorded(proof);
    InvertResult r = invert_commit(inv, ops, recorded, pc.after.view(), pc.before.view());
    CHECK_EQ(name(r.reason), std::string("ok"));
    CHECK_EQ(cid_str(r.root), cid_str(pc.before));
    auto was_read = [&](const cid::Cid& c) {
      for (const cid::Cid& f : recorded.found()) {
        if (f == c) return true;
      }
      return false;
    };
    // Without a block that inversion read it fails for want of that block; a proof block it
    // did not read (the producer's forward-edit neighbours) changes nothing. Every node that is
    // new in the after tree is needed.
    for (const cid::Cid& drop : pc.proof) {
      BlockMap less = proof;
      less.erase(drop.view());
      InvertResult partial = invert_commit(inv, ops, less, pc.after.view(), pc.before.view());
      if (was_read(drop)) {
        CHECK_EQ(name(partial.reason), std::string("missing_block"));
      } else {
        std::fprintf(stderr, "      not needed for inversion: %s\n", cid_str(drop).c_str());
        CHECK(before_blocks.contains(drop.view()));
        CHECK_EQ(name(partial.reason), std::string("ok"));
        CHECK(partial.root == pc.before);
      }
    }
  }
}

TEST(mst_invert_op_validation) {
  const cid::Cid leaf = cid_of("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
  const cid::Cid empty_root = cid_of("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
  const cid::CidView v = leaf.view();
  BlockMap none;
  Workspace ws;
  struct Case {
    Op op;
    Reason want;
  };
  const Case cases[] = {
      {{"create", "coll/a", {}, {}}, Reason::invalid_op},
      {{"create", "coll/a", v, v}, Reason::invalid_op},
      {{"update", "coll/a", v, {}}, Reason::invalid_op},
      {{"update", "coll/a", {}, v}, Reason::invalid_op},
      {{"delete", "coll/a", v, v}, Reason::invalid_op},
      {{"delete", "coll/a", {}, {}}, Reason::invalid_op},
      {{"upsert", "coll/a", v, {}}, Reason::invalid_op},
      {{"create", "no-slash", v, {}}, Reason::invalid_op_path},
      {{"delete", "coll/a b", {}, v}, Reason::invalid_op_path},
  };
  for (const Case& c : cases) {
    InvertResult r = invert_commit(ws, {&c.op, 1}, none, empty_root.view(), empty_root.view());
    CHECK_EQ(name(r.reason), std::string(name(c.want)));
    CHECK_EQ(r.op_index, 0);
  }
  const Op dup[] = {{"create", "coll/b", v, {}}, {"create", "coll/a", v, {}},
                    {"delete", "coll/b", {}, v}};
  InvertResult r = invert_commit(ws, dup, none, empty_root.view(), empty_root.view());
  CHECK_EQ(name(r.reason), std::string("duplicate_op_path"));
}

// A small repo: one commit per failure class, each built from real tree edits.
TEST(mst_invert_failure_classes) {
  const cid::Cid leaf = cid_of("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
  const cid::Cid other = cid_of("bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu");
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("app.bsky.feed.post/k" + std::to_string(1000 + i));
  const std::string fresh = "app.bsky.feed.post/knew";
  Workspace ws;
  Tree tree(ws, nullptr);
  BlockMap blocks;
  const cid::Cid before = build_tree(tree, keys, leaf.view(), &blocks);
  cid::CidView old;
  // The commit: create `fresh`, update keys[3] to `other`, delete keys[7].
  REQUIRE(tree.put(fresh, leaf.view(), &old) == Reason::ok);
  REQUIRE(tree.put(keys[3], other.view(), &old) == Reason::ok);
  REQUIRE(tree.remove(keys[7], &old) == Reason::ok);
  const cid::Cid after = tree.root_cid(&blocks);
  const Op good[] = {{"create", fresh, leaf.view(), {}},
                     {"update", keys[3], other.view(), leaf.view()},
                     {"delete", keys[7], {}, leaf.view()}};

  Workspace inv;
  InvertResult r = invert_commit(inv, good, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("ok"));
  CHECK(r.root == before);
  CHECK(r.nodes_loaded > 0);

  // prevData that is not the previous root.
  r = invert_commit(inv, good, blocks, after.view(), after.view());
  CHECK_EQ(name(r.reason), std::string("inversion_mismatch"));
  CHECK(r.root == before);
  // No prevData: the computed root comes back unjudged.
  r = invert_commit(inv, good, blocks, after.view(), cid::CidView());
  CHECK(r.ok() && r.root == before);

  // Forward check: the op's cid is not what the tree holds; or the path is absent.
  const Op wrong_cid[] = {{"create", fresh, other.view(), {}}};
  r = invert_commit(inv, wrong_cid, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("op_value_mismatch"));
  const Op absent[] = {{"update", "app.bsky.feed.post/zzz", other.view(), leaf.view()}};
  r = invert_commit(inv, absent, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("op_value_mismatch"));
  // Update whose prev is wrong: inverts, but to another tree.
  const Op wrong_prev[] = {good[0], {"update", keys[3], other.view(), other.view()}, good[2]};
  r = invert_commit(inv, wrong_prev, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("inversion_mismatch"));
  // An op left out: the other ops invert, to the wrong root.
  r = invert_commit(inv, {good, 2}, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("inversion_mismatch"));
  // A delete of a path the new tree still has.
  const Op still_there[] = {good[0], good[1], good[2], {"delete", keys[9], {}, leaf.view()}};
  r = invert_commit(inv, still_there, blocks, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("deleted_key_present"));
  CHECK_EQ(r.op_index, 3);

  // Record blocks, when required, must be in the message.
  InvertOptions strict;
  strict.require_record_blocks = true;
  r = invert_commit(inv, good, blocks, after.view(), before.view(), strict);
  CHECK_EQ(name(r.reason), std::string("missing_record_block"));
  CHECK_EQ(r.op_index, 0);
  BlockMap with_records = blocks;
  const uint8_t record_a[] = {0xa0};  // stand-ins; only presence is checked
  with_records.put(leaf.view(), record_a);
  with_records.put(other.view(), record_a);
  r = invert_commit(inv, good, with_records, after.view(), before.view(), strict);
  CHECK_EQ(name(r.reason), std::string("ok"));

  // Without the new root block nothing can be read.
  BlockMap empty;
  r = invert_commit(inv, good, empty, after.view(), before.view());
  CHECK_EQ(name(r.reason), std::string("missing_block"));

  // An empty commit (no ops) inverts to its own data root.
  r = invert_commit(inv, {}, empty, after.view(), after.view());
  CHECK(r.ok() && r.root == after);
  CHECK_EQ(r.nodes_loaded, 0u);
}
