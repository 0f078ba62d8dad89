// SPDX-License-Identifier: MIT
// Known roots and edge cases shared by the reference implementations (indigo
// atproto/repo/mst/mst_interop_test.go, atproto packages/repo tests), plus partial trees.
#include "mst/tree.h"

#include <string>
#include <vector>

#include "harness.h"
#include "mst/key.h"
#include "mst/mst_test_util.h"

using namespace ringlay;
using namespace ringlay::mst;
using namespace ringlay::mst::testing;

namespace {

constexpr const char* kLeaf = "bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454";

std::string rec(const char* rkey) { return std::string("com.example.record/") + rkey; }

std::string root_of(const std::vector<std::string>& keys) {
  Workspace ws;
  Tree tree(ws, nullptr);
  return cid_str(build_tree(tree, keys, cid_of(kLeaf).view(), nullptr));
}

}  // namespace

TEST(mst_known_roots) {
  CHECK_EQ(root_of({}), "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
  CHECK_EQ(root_of({rec("3jqfcqzm3fo2j")}),
           "bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu");
  CHECK_EQ(root_of({rec("3jqfcqzm3fx2j")}),
           "bafyreih7wfei65pxzhauoibu3ls7jgmkju4bspy4t2ha2qdjnzqvoy33ai");
  const std::vector<std::string> five = {rec("3jqfcqzm3fp2j"), rec("3jqfcqzm3fr2j"),
                                         rec("3jqfcqzm3fs2j"), rec("3jqfcqzm3ft2j"),
                                         rec("3jqfcqzm4fc2j")};
  CHECK_EQ(root_of(five), "bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m");
  // Insertion order does not matter.
  CHECK_EQ(root_of({five[4], five[2], five[0], five[3], five[1]}),
           "bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m");
}

TEST(mst_trims_top_on_delete) {
  const std::vector<std::string> keys = {rec("3jqfcqzm3fn2j"), rec("3jqfcqzm3fo2j"),
                                         rec("3jqfcqzm3fp2j"), rec("3jqfcqzm3fs2j"),
                                         rec("3jqfcqzm3ft2j"), rec("3jqfcqzm3fu2j")};
  Workspace ws;
  Tree tree(ws, nullptr);
  const cid::Cid leaf = cid_of(kLeaf);
  CHECK_EQ(cid_str(build_tree(tree, keys, leaf.view(), nullptr)),
           "bafyreifnqrwbk6ffmyaz5qtujqrzf5qmxf7cbxvgzktl4e3gabuxbtatv4");
  CHECK_EQ(tree.root()->height, 1);
  cid::CidView removed;
  REQUIRE(tree.remove(keys[3], &removed) == Reason::ok);
  CHECK(removed == leaf.view());
  CHECK_EQ(cid_str(tree.root_cid()), "bafyreie4kjuxbwkhzg2i5dljaswcroeih4dgiqq6pazcmunwt2byd725vi");
  CHECK_EQ(tree.root()->height, 0);
}

TEST(mst_insertion_splits_two_layers_down) {
  const std::vector<std::string> keys = {
      rec("3jqfcqzm3fo2j"), rec("3jqfcqzm3fp2j"), rec("3jqfcqzm3fr2j"), rec("3jqfcqzm3fs2j"),
      rec("3jqfcqzm3ft2j"), rec("3jqfcqzm3fz2j"), rec("3jqfcqzm4fc2j"), rec("3jqfcqzm4fd2j"),
      rec("3jqfcqzm4ff2j"), rec("3jqfcqzm4fg2j"), rec("3jqfcqzm4fh2j")};
  const char* l1 = "bafyreiettyludka6fpgp33stwxfuwhkzlur6chs4d2v4nkmq2j3ogpdjem";
  const char* l2 = "bafyreid2x5eqs4w4qxvc5jiwda4cien3gw2q6cshofxwnvv7iucrmfohpm";
  const cid::Cid leaf = cid_of(kLeaf);
  const std::string f = rec("3jqfcqzm3fx2j");  // layer 2: pushes E under D
  Workspace ws;
  Tree tree(ws, nullptr);
  BlockMap blocks;
  CHECK_EQ(cid_str(build_tree(tree, keys, leaf.view(), &blocks)), l1);
  CHECK_EQ(tree.root()->height, 1);
  cid::CidView previous;
  REQUIRE(tree.put(f, leaf.view(), &previous) == Reason::ok);
  CHECK(previous.empty());
  CHECK_EQ(cid_str(tree.root_cid(&blocks)), l2);
  CHECK_EQ(tree.root()->height, 2);
  cid::CidView removed;
  REQUIRE(tree.remove(f, &removed) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), l1);
  CHECK_EQ(tree.root()->height, 1);

  // The same edits on a tree read lazily from its blocks give the same roots.
  Workspace ws2;
  Tree lazy(ws2, &blocks);
  REQUIRE(lazy.open(cid_of(l2).view()) == Reason::ok);
  REQUIRE(lazy.remove(f, &removed) == Reason::ok);
  CHECK_EQ(cid_str(lazy.root_cid()), l1);
  REQUIRE(lazy.put(f, leaf.view(), &previous) == Reason::ok);
  CHECK_EQ(cid_str(lazy.root_cid()), l2);
}

TEST(mst_new_layers_two_above) {
  const cid::Cid leaf = cid_of(kLeaf);
  const char* l0 = "bafyreidfcktqnfmykz2ps3dbul35pepleq7kvv526g47xahuz3rqtptmky";
  const char* l2 = "bafyreiavxaxdz7o7rbvr3zg2liox2yww46t7g6hkehx4i4h3lwudly7dhy";
  const char* l2b = "bafyreig4jv3vuajbsybhyvb7gggvpwh2zszwfyttjrj6qwvcsp24h6popu";
  const std::string b = rec("3jqfcqzm3fx2j");  // layer 2
  const std::string d = rec("3jqfcqzm4fd2j");  // layer 1
  Workspace ws;
  Tree tree(ws, nullptr);
  const std::vector<std::string> keys = {rec("3jqfcqzm3ft2j"), rec("3jqfcqzm3fz2j")};
  CHECK_EQ(cid_str(build_tree(tree, keys, leaf.view(), nullptr)), l0);
  CHECK_EQ(tree.root()->height, 0);
  cid::CidView old;
  REQUIRE(tree.put(b, leaf.view(), &old) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), l2);
  REQUIRE(tree.remove(b, &old) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), l0);
  CHECK_EQ(tree.root()->height, 0);
  REQUIRE(tree.put(b, leaf.view(), &old) == Reason::ok);
  REQUIRE(tree.put(d, leaf.view(), &old) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), l2b);
  CHECK_EQ(tree.root()->height, 2);
  REQUIRE(tree.remove(d, &old) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), l2);
  CHECK_EQ(tree.root()->height, 2);
}

TEST(mst_get_put_remove_results) {
  const cid::Cid leaf = cid_of(kLeaf);
  const cid::Cid other = cid_of("bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu");
  const std::vector<std::string> keys = {rec("a"), rec("b"), rec("c"), rec("d"), rec("e")};
  Workspace ws;
  Tree tree(ws, nullptr);
  const cid::Cid before = build_tree(tree, keys, leaf.view(), nullptr);
  cid::CidView v;
  CHECK(tree.get(rec("c"), &v) == Reason::ok && v == leaf.view());
  CHECK(tree.get(rec("zz"), &v) == Reason::key_not_found);
  CHECK(tree.get("not a key", &v) == Reason::invalid_key);
  CHECK(tree.remove(rec("zz"), &v) == Reason::key_not_found);
  // Re-putting the same value changes nothing and hashes nothing.
  const uint32_t hashed = tree.nodes_hashed();
  REQUIRE(tree.put(rec("b"), leaf.view(), &v) == Reason::ok);
  CHECK(v == leaf.view());
  CHECK(tree.root_cid() == before);
  CHECK_EQ(tree.nodes_hashed(), hashed);
  // Replacing returns the old value and changes the root; replacing back restores it.
  REQUIRE(tree.put(rec("b"), other.view(), &v) == Reason::ok);
  CHECK(v == leaf.view());
  CHECK(!(tree.root_cid() == before));
  REQUIRE(tree.put(rec("b"), leaf.view(), &v) == Reason::ok);
  CHECK(v == other.view());
  CHECK(tree.root_cid() == before);
  // Removing everything leaves the empty tree.
  for (const std::string& k : keys) REQUIRE(tree.remove(k, &v) == Reason::ok);
  CHECK_EQ(cid_str(tree.root_cid()), "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
  CHECK(tree.get(rec("a"), &v) == Reason::key_not_found);
}

// A partial tree: only the root block. Reading or editing below it needs the missing children.
TEST(mst_partial_tree_missing_blocks) {
  const cid::Cid leaf = cid_of(kLeaf);
  const std::vector<std::string> keys = {
      rec("3jqfcqzm3fo2j"), rec("3jqfcqzm3fp2j"), rec("3jqfcqzm3fr2j"), rec("3jqfcqzm3fs2j"),
      rec("3jqfcqzm3ft2j"), rec("3jqfcqzm3fz2j"), rec("3jqfcqzm4fc2j"), rec("3jqfcqzm4fd2j"),
      rec("3jqfcqzm4ff2j"), rec("3jqfcqzm4fg2j"), rec("3jqfcqzm4fh2j")};
  Workspace ws;
  Tree full(ws, nullptr);
  BlockMap all;
  const cid::Cid root = build_tree(full, keys, leaf.view(), &all);
  BlockMap only_root = all.subset({root});

  Workspace ws2;
  cid::CidView v;
  {
    Tree t(ws2, &only_root);
    REQUIRE(t.open(root.view()) == Reason::ok);
    // Layer-1 keys are in the root: reachable.
    CHECK(t.get(rec("3jqfcqzm3fs2j"), &v) == Reason::ok);
    // Layer-0 keys are below: their nodes are stubs.
    CHECK(t.get(rec("3jqfcqzm3fo2j"), &v) == Reason::missing_block);
    // An absent key above every layer needs nothing.
    CHECK(t.get(rec("3jqfcqzm3fx2j"), &v) == Reason::key_not_found);
    CHECK_EQ(t.nodes_loaded(), 1u);
  }
  {
    // Removing a root key merges the two stubs beside it.
    Tree t(ws2, &only_root);
    REQUIRE(t.open(root.view()) == Reason::ok);
    CHECK(t.remove(rec("3jqfcqzm3fs2j"), &v) == Reason::missing_block);
  }
  {
    // A key two layers up splits the subtree it lands in.
    Tree t(ws2, &only_root);
    REQUIRE(t.open(root.view()) == Reason::ok);
    CHECK(t.put(rec("3jqfcqzm3fx2j"), leaf.view(), &v) == Reason::missing_block);
  }
  {
    // An untouched partial tree hashes to its root without reading anything.
    Tree t(ws2, nullptr);
    REQUIRE(t.open(root.view()) == Reason::ok);
    CHECK(t.root_cid() == root);
    CHECK(t.get(rec("3jqfcqzm3fs2j"), &v) == Reason::missing_block);
  }
  {
    // A root CID that is not dag-cbor sha2-256 is refused before any read.
    Tree t(ws2, &all);
    CHECK(t.open(cid_of("bafkreibwhdjd2rq4wfmeh4ycg2om46c7ver4f22gh7xzxnh4ovo2swanlq").view()) ==
          Reason::bad_mst_node);
    CHECK(t.node_error() == NodeError::bad_link);
  }
}
