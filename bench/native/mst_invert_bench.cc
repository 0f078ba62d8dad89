// SPDX-License-Identifier: MIT
// Cost of Sync 1.1 inversion per commit, on a repo shaped like a real account: TID record keys
// in a few collections. Each commit is made by applying ops to a full tree; its message CAR
// holds the MST nodes inversion reads (as a PDS diff would) and is parsed up front. The timed
// part is invert_commit() alone (forward check, undo, re-hash, root compare) with a warm
// Workspace, as a verify worker runs it. Times are thread CPU time, so a busy machine
// inflates them less than wall time would.
//
//   node scripts/build-native.mjs --mode release --core-only --out build/bench
//   g++ -std=c++20 -O2 -fno-exceptions -Inative bench/native/mst_invert_bench.cc
//       build/bench/libringlay_core.a -lcrypto -o build/bench/mst_invert_bench
//   build/bench/mst_invert_bench [records=20000] [commits=1000] [rounds=10]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "car/car.h"
#include "cbor/encoder.h"
#include "cid/varint.h"
#include "mst/invert.h"
#include "mst/tree.h"
#include "util/assert.h"

using namespace ringlay;
using namespace ringlay::mst;

namespace {

// Every block ever written, for building the trees and finding what each commit needs.
class AllBlocks final : public BlockSource, public BlockSink {
 public:
  std::optional<std::span<const uint8_t>> find(cid::CidView c) const override {
    auto it = map_.find(cid::Cid::copy_of(c));
    if (it == map_.end()) return std::nullopt;
    if (record_) read_.push_back(cid::Cid::copy_of(c));
    return std::span<const uint8_t>(it->second);
  }
  void put(cid::CidView c, std::span<const uint8_t> b) override {
    map_.try_emplace(cid::Cid::copy_of(c), b.begin(), b.end());
  }
  void record(bool on) {
    if (on) read_.clear();
    record_ = on;
  }
  const std::vector<cid::Cid>& read() const { return read_; }

 private:
  std::unordered_map<cid::Cid, std::vector<uint8_t>> map_;
  bool record_ = false;
  mutable std::vector<cid::Cid> read_;
};

// A CAR v1 holding `cids` (root: the first), as a #commit message carries its blocks.
std::vector<uint8_t> write_car(const AllBlocks& all, const std::vector<cid::Cid>& cids) {
  std::vector<uint8_t> header, car;
  cbor::Encoder e(header);
  e.map(2);
  e.key("roots");
  e.array(1);
  e.link(cids[0]);
  e.key("version");
  e.uint64(1);
  e.finish();
  uint8_t varint[cid::kMaxVarintBytes];
  car.insert(car.end(), varint, varint + cid::write_varint(header.size(), varint));
  car.insert(car.end(), header.begin(), header.end());
  for (const cid::Cid& c : cids) {
    const auto block = *all.find(c.view());
    car.insert(car.end(), varint, varint + cid::write_varint(c.size() + block.size(), varint));
    car.insert(car.end(), c.data(), c.data() + c.size());
    car.insert(car.end(), block.begin(), block.end());
  }
  return car;
}

// Sortable base32 TID of a microsecond timestamp, as PDSs mint record keys.
std::string tid(uint64_t micros) {
  static const char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
  uint64_t v = (micros << 10) | 0x155;
  std::string s(13, '2');
  for (int i = 12; i >= 0; --i) {
    s[i] = alphabet[v & 31];
    v >>= 5;
  }
  return s;
}

cid::Cid record_cid(uint64_t n) {
  const uint8_t bytes[8] = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8),
                            static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 24), 0, 1, 2, 3};
  return cid::compute_dag_cbor(bytes);
}

double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Commit {
  std::vector<Op> ops;
  cid::Cid before, after;
  std::vector<uint8_t> car_bytes;
  std::unique_ptr<car::Reader> car;
};

const char* kCollections[] = {"app.bsky.feed.like", "app.bsky.feed.post", "app.bsky.graph.follow",
                              "app.bsky.feed.repost"};

}  // namespace

int main(int argc, char** argv) {
  const size_t records = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  const size_t commits = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 10;

  std::deque<std::string> keys;  // stable storage: the tree keeps views
  std::deque<cid::Cid> values;
  AllBlocks all;
  Workspace build_ws;
  Tree tree(build_ws, nullptr);
  tree.open_empty();
  uint64_t clock = 1700000000000000ull;
  for (size_t i = 0; i < records; ++i) {
    keys.push_back(std::string(kCollections[i % 4]) + "/" + tid(clock += 1000 + i % 7919));
    values.push_back(record_cid(i));
    cid::CidView old;
    tree.put(keys.back(), values.back().view(), &old);
  }
  cid::Cid root = tree.root_cid(&all);
  std::printf("repo: %zu records, root layer %d\n", records, tree.root()->height);

  // Commit shapes: one create (most commits), and create + update + delete.
  std::vector<Commit> single(commits), triple(commits);
  for (size_t c = 0; c < 2 * commits; ++c) {
    const bool three = c >= commits;
    Commit& commit = three ? triple[c - commits] : single[c];
    commit.before = root;
    cid::CidView old;
    keys.push_back(std::string(kCollections[c % 4]) + "/" + tid(clock += 1000));
    values.push_back(record_cid(records + c));
    tree.put(keys.back(), values.back().view(), &old);
    commit.ops.push_back(Op{"create", keys.back(), values.back().view(), {}});
    if (three) {
      // Update and delete two distinct older records that still exist.
      const std::string* upd = &keys[(c * 7919) % records];
      const std::string* del = &keys[(c * 104729 + 13) % records];
      cid::CidView prev, gone;
      if (upd != del && tree.get(*upd, &prev) == Reason::ok && tree.get(*del, &gone) == Reason::ok) {
        values.push_back(record_cid(1000000 + c));
        tree.put(*upd, values.back().view(), &old);
        commit.ops.push_back(Op{"update", *upd, values.back().view(), prev});
        tree.remove(*del, &gone);
        commit.ops.push_back(Op{"delete", *del, {}, gone});
      }
    }
    root = tree.root_cid(&all);
    commit.after = root;
    // The message's blocks: exactly the nodes inversion reads, new root first.
    Workspace probe;
    all.record(true);
    RL_ASSERT(invert_commit(probe, commit.ops, all, root.view(), commit.before.view()).ok());
    all.record(false);
    std::vector<cid::Cid> needed = {root};
    for (const cid::Cid& r : all.read()) {
      if (!(r == root)) needed.push_back(r);
    }
    commit.car_bytes = write_car(all, needed);
    commit.car = std::make_unique<car::Reader>();
    RL_ASSERT(commit.car->parse(commit.car_bytes) == car::Error::ok);
  }

  Workspace ws;
  for (const auto* set : {&single, &triple}) {
    uint64_t loaded = 0, hashed = 0, failures = 0, car_bytes = 0;
    double best_ns = 1e18;
    for (int r = 0; r < rounds; ++r) {
      const double t0 = thread_cpu_ns();
      for (const Commit& c : *set) {
        BlockSourceOf<car::Reader> blocks(*c.car);
        InvertResult res = invert_commit(ws, c.ops, blocks, c.after.view(), c.before.view());
        failures += res.ok() ? 0 : 1;
        loaded += res.nodes_loaded;
        hashed += res.nodes_hashed;
      }
      const double ns = thread_cpu_ns() - t0;
      if (ns < best_ns) best_ns = ns;
    }
    for (const Commit& c : *set) car_bytes += c.car_bytes.size();
    const double n = static_cast<double>(set->size());
    std::printf("%s: %.2f us/commit (CPU, best of %d), %.1f nodes read, %.1f hashed, "
                "%.0f CAR bytes, %llu failures\n",
                set == &single ? "1 create      " : "create+upd+del", best_ns / n / 1000, rounds,
                static_cast<double>(loaded) / n / rounds, static_cast<double>(hashed) / n / rounds,
                static_cast<double>(car_bytes) / n, static_cast<unsigned long long>(failures));
  }
  return 0;
}
