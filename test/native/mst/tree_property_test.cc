// SPDX-License-Identifier: MIT
// Randomized properties of the tree and of inversion, on random key sets and op batches:
//   - any insertion order gives the root of the canonical tree (built from the definition);
//   - after a batch of ops the root is again the canonical root of the new key set;
//   - inverting the batch on the new tree gives back the old root, with all blocks, with only
//     the blocks inversion read, and never a wrong answer when blocks are missing;
//   - a batch with an op left out or a wrong cid does not invert.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "mst/invert.h"
#include "mst/key.h"
#include "mst/mst_test_util.h"
#include "util/assert.h"

using namespace ringlay;
using namespace ringlay::mst;
using namespace ringlay::mst::testing;

namespace {

using Rng = std::mt19937_64;

std::string random_key(Rng& rng) {
  static const char* collections[] = {"app.bsky.feed.post", "app.bsky.feed.like",
                                      "app.bsky.graph.follow", "com.example.record"};
  static const char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
  std::string k = collections[rng() % 4];
  k += '/';
  const size_t len = 4 + rng() % 10;
  for (size_t i = 0; i < len; ++i) k += alphabet[rng() % 32];
  return k;
}

// A key of exactly `height`, found by trying random keys (about 4^height tries).
std::string key_of_height(Rng& rng, int height) {
  for (;;) {
    std::string k = random_key(rng);
    if (key_height(k) == height) return k;
  }
}

cid::Cid value_cid(uint64_t n) {
  const uint8_t bytes[8] = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), 1, 2, 3, 4, 5, 6};
  return cid::compute(cid::kCodecRaw, bytes);
}

using Contents = std::map<std::string, cid::Cid>;

cid::Cid canonical(const Contents& contents) {
  return canonical_root(std::vector<std::pair<std::string, cid::Cid>>(contents.begin(), contents.end()));
}

struct Batch {
  std::vector<std::string> actions, paths;
  std::vector<cid::Cid> cids, prevs;
  std::vector<Op> ops() const {
    std::vector<Op> out;
    for (size_t i = 0; i < paths.size(); ++i) {
      out.push_back(Op{actions[i], paths[i], cids[i].view(), prevs[i].view()});
    }
    return out;
  }
};

Batch random_batch(Rng& rng, const Contents& contents, uint64_t* next_value) {
  Batch b;
  std::vector<std::string> existing;
  for (const auto& kv : contents) existing.push_back(kv.first);
  std::shuffle(existing.begin(), existing.end(), rng);
  const size_t n = 1 + (rng() % 4 == 0 ? rng() % 24 : rng() % 4);
  for (size_t i = 0; i < n; ++i) {
    const int kind = existing.empty() ? 0 : static_cast<int>(rng() % 3);
    if (kind == 0) {
      std::string k = rng() % 6 == 0 ? key_of_height(rng, 2 + static_cast<int>(rng() % 3)) : random_key(rng);
      if (contents.count(k) || std::find(b.paths.begin(), b.paths.end(), k) != b.paths.end()) continue;
      b.actions.push_back("create");
      b.paths.push_back(k);
      b.cids.push_back(value_cid((*next_value)++));
      b.prevs.push_back(cid::Cid());
    } else {
      std::string k = existing.back();
      existing.pop_back();
      b.actions.push_back(kind == 1 ? "update" : "delete");
      b.paths.push_back(k);
      b.cids.push_back(kind == 1 ? value_cid((*next_value)++) : cid::Cid());
      b.prevs.push_back(contents.at(k));
    }
  }
  return b;
}

// Applies a batch forward to a tree and to the model.
void apply(Tree& tree, Contents& contents, const Batch& b) {
  for (size_t i = 0; i < b.paths.size(); ++i) {
    cid::CidView old;
    if (b.actions[i] == "delete") {
      RL_ASSERT(tree.remove(b.paths[i], &old) == Reason::ok);
      contents.erase(b.paths[i]);
    } else {
      RL_ASSERT(tree.put(b.paths[i], b.cids[i].view(), &old) == Reason::ok);
      contents[b.paths[i]] = b.cids[i];
    }
  }
}

bool contains(const std::vector<cid::Cid>& list, const cid::Cid& c) {
  return std::find(list.begin(), list.end(), c) != list.end();
}

}  // namespace

TEST(mst_property_build_apply_invert) {
  uint64_t next_value = 1;
  size_t rounds_with_missing = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    Rng rng(seed);
    Contents contents;
    const size_t n = rng() % 5 == 0 ? rng() % 8 : rng() % 300;
    for (size_t i = 0; i < n; ++i) contents[random_key(rng)] = value_cid(next_value++);
    for (int h = 3; h <= 4; ++h) {
      if (rng() % 3 == 0) contents[key_of_height(rng, h)] = value_cid(next_value++);
    }
    std::vector<std::string> order;
    for (const auto& kv : contents) order.push_back(kv.first);
    std::shuffle(order.begin(), order.end(), rng);

    // Build in random order: the canonical root.
    Workspace ws;
    Tree tree(ws, nullptr);
    tree.open_empty();
    for (const std::string& k : order) {
      cid::CidView old;
      REQUIRE(tree.put(k, contents.at(k).view(), &old) == Reason::ok);
    }
    BlockMap blocks;
    const cid::Cid before = tree.root_cid(&blocks);
    REQUIRE(before == canonical(contents));
    const Contents before_contents = contents;

    // Apply a batch: the canonical root of the new contents.
    const Batch batch = random_batch(rng, contents, &next_value);
    apply(tree, contents, batch);
    BlockMap changed;
    const cid::Cid after = tree.root_cid(&changed);
    REQUIRE(after == canonical(contents));
    const std::vector<Op> ops = batch.ops();

    // The same batch on a tree read lazily from the old blocks gives the same root.
    {
      Workspace lazy_ws;
      Tree lazy(lazy_ws, &blocks);
      REQUIRE(lazy.open(before.view()) == Reason::ok);
      Contents scratch = before_contents;
      apply(lazy, scratch, batch);
      CHECK(lazy.root_cid() == after);
    }
    // Every block of both trees.
    BlockMap all = blocks;
    for (const cid::Cid& c : changed.cids()) all.put(c.view(), *changed.find(c.view()));
    Workspace inv;

    // Inversion with every block, then with only the blocks it read.
    RecordingSource recorded(all);
    InvertResult r = invert_commit(inv, ops, recorded, after.view(), before.view());
    CHECK_EQ(name(r.reason), std::string("ok"));
    CHECK(r.root == before);
    const std::vector<cid::Cid> read = recorded.found();
    BlockMap needed = all.subset(read);
    r = invert_commit(inv, ops, needed, after.view(), before.view());
    CHECK_EQ(name(r.reason), std::string("ok"));
    // Inversion reads every node the batch changed (it has to undo each change).
    for (const cid::Cid& c : changed.cids()) CHECK(contains(read, c));
    // Without any one block: missing_block, or (a stub that trimming could stop on) the right root.
    for (const cid::Cid& drop : read) {
      BlockMap less = needed;
      less.erase(drop.view());
      InvertResult p = invert_commit(inv, ops, less, after.view(), before.view());
      CHECK(p.reason == Reason::missing_block || (p.ok() && p.root == before));
      rounds_with_missing += p.reason == Reason::missing_block ? 1 : 0;
    }
    // A diff of only the nodes the batch changed: right, or missing_block; never wrong.
    r = invert_commit(inv, ops, changed, after.view(), before.view());
    CHECK(r.reason == Reason::missing_block || (r.ok() && r.root == before));

    // Leaving out an op, or claiming another cid, does not invert.
    if (ops.size() > 1) {
      r = invert_commit(inv, {ops.data(), ops.size() - 1}, all, after.view(), before.view());
      CHECK_EQ(name(r.reason), std::string("inversion_mismatch"));
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].action == "delete") continue;
      std::vector<Op> bad = ops;
      const cid::Cid other = value_cid(next_value++);
      bad[i].cid = other.view();
      r = invert_commit(inv, bad, all, after.view(), before.view());
      CHECK_EQ(name(r.reason), std::string("op_value_mismatch"));
      break;
    }
  }
  CHECK(rounds_with_missing > 0);
}
