// SPDX-License-Identifier: MIT
#include "verify/validator.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "firehose/commit_builder.h"
#include "harness.h"
#include "util/assert.h"
#include "verify/futex.h"

using namespace ringlay;
using firehose::Reason;
using test::Bytes;
using test::TestRepo;
using verify::FrameJob;
using verify::FrameResult;
using verify::Validator;

namespace {

constexpr int64_t kNowMs = 1746057600000;

// The owner side of a Validator, as the ring thread would run it: a futex word the wake
// callback bumps, and a loop that takes results until `n` arrived.
struct Owner {
  std::atomic<uint32_t> word{0};
  Validator::WakeFn wake() {
    return [this] {
      word.fetch_add(1);
      verify::futex_wake(word, 1);
    };
  }
  std::vector<FrameResult> collect(Validator& v, size_t n) {
    std::vector<FrameResult> all, batch;
    while (all.size() < n) {
      uint32_t seen = word.load();
      if (v.take_results(batch) == 0) {
        verify::futex_wait(word, seen, 100);
        continue;
      }
      for (FrameResult& r : batch) all.push_back(std::move(r));
    }
    return all;
  }
};

verify::ValidatorOptions options(unsigned threads) {
  verify::ValidatorOptions o;
  o.pool.threads = threads;
  o.pool.capacity = 64;
  o.validate.now_ms = kNowMs;
  return o;
}

BytesRef shared(const Bytes& b) { return BytesRef::copy_of(b.data(), b.size()); }

// A shared copy of a test repo's public key (keys are move-only: round-trip the did:key).
crypto::KeyRef key_ref(const TestRepo& repo) {
  crypto::PublicKey k;
  RL_ASSERT(crypto::parse_did_key(crypto::format_did_key(repo.public_key()), k) == crypto::KeyError::ok);
  return crypto::make_key_ref(std::move(k));
}

}  // namespace

// Several accounts, each a chain of commits submitted in order from one thread: every result is
// ok, and each account's results come back in submission order.
TEST(validator_validates_in_per_did_order) {
  auto cache = std::make_shared<verify::KeyCache>();
  std::vector<TestRepo> repos;
  for (int i = 0; i < 4; ++i) {
    repos.emplace_back(i % 2 == 0 ? crypto::Curve::secp256k1 : crypto::Curve::p256,
                       "did:plc:order" + std::to_string(i), 10 + i);
    repos.back().seed(30, {"app.bsky.feed.post", "app.bsky.feed.like"});
    cache->set(repos.back().did(), key_ref(repos.back()));
  }
  std::vector<BytesRef> frames;
  std::vector<size_t> owner_of;
  for (int round = 0; round < 12; ++round) {
    for (size_t r = 0; r < repos.size(); ++r) {
      TestRepo& repo = repos[r];
      auto parts = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
      frames.push_back(shared(test::commit_frame(parts)));
      owner_of.push_back(r);
    }
  }
  Owner owner;
  Validator v(options(3), cache, owner.wake());
  for (size_t i = 0; i < frames.size(); ++i) REQUIRE(v.submit(frames[i], 7, i));
  std::vector<FrameResult> results = owner.collect(v, frames.size());
  std::map<size_t, uint64_t> last_tag;
  for (const FrameResult& r : results) {
    CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "ok");
    CHECK_EQ(r.host, 7u);
    CHECK(!r.cancelled);
    CHECK(r.frame.get() == frames[r.tag].get());  // the same bytes, not a copy
    size_t account = owner_of[r.tag];
    CHECK_EQ(std::string(r.verdict.summary.did), repos[account].did());
    if (last_tag.count(account) != 0) CHECK(r.tag > last_tag[account]);
    last_tag[account] = r.tag;
  }
  CHECK_EQ(last_tag.size(), repos.size());
}

// A slow frame (a large commit) followed by fast ones of the same account, on several workers:
// the fast ones usually finish first and must be held back until the slow one is delivered.
TEST(validator_holds_back_results_that_finish_early) {
  auto cache = std::make_shared<verify::KeyCache>();
  TestRepo repo(crypto::Curve::p256, "did:plc:slowfast", 3);
  repo.seed(400, {"app.bsky.feed.post", "app.bsky.feed.like"});
  cache->set(repo.did(), key_ref(repo));
  Owner owner;
  Validator v(options(3), cache, owner.wake());
  std::vector<BytesRef> frames;
  for (int round = 0; round < 6; ++round) {
    std::vector<std::pair<std::string, std::string>> big;
    for (int i = 0; i < 150; ++i) big.emplace_back("create", "app.bsky.feed.post/" + repo.next_rkey());
    frames.push_back(shared(test::commit_frame(repo.commit(big))));
    for (int i = 0; i < 4; ++i) {
      frames.push_back(shared(test::commit_frame(repo.commit({{"create", "app.bsky.feed.like/" + repo.next_rkey()}}))));
    }
  }
  for (size_t i = 0; i < frames.size(); ++i) REQUIRE(v.submit(frames[i], 0, i));
  size_t max_held = 0;
  std::vector<FrameResult> all, batch;
  while (all.size() < frames.size()) {
    uint32_t seen = owner.word.load();
    v.take_results(batch);
    max_held = std::max(max_held, v.held());
    if (batch.empty()) {
      verify::futex_wait(owner.word, seen, 100);
      continue;
    }
    for (FrameResult& r : batch) all.push_back(std::move(r));
  }
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK_EQ(all[i].tag, i);
    CHECK_EQ(std::string(firehose::name(all[i].verdict.reason)), "ok");
  }
  CHECK_EQ(v.held(), 0u);
  CHECK_EQ(v.in_flight(), 0u);
  std::fprintf(stderr, "    most results held back at once: %zu\n", max_held);
}

TEST(validator_key_sources) {
  TestRepo repo(crypto::Curve::secp256k1, "did:plc:keys");
  auto parts = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
  BytesRef frame = shared(test::commit_frame(parts));
  auto cache = std::make_shared<verify::KeyCache>();
  Owner owner;
  Validator v(options(2), cache, owner.wake());

  // Unknown DID: no_key (hold and resolve). Then JS stores the key and the frame is resubmitted.
  REQUIRE(v.submit(frame, 1, 1));
  FrameResult r = std::move(owner.collect(v, 1)[0]);
  CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "no_key");
  CHECK(r.verdict.key_status == firehose::KeyStatus::missing);
  uint64_t version = cache->set(repo.did(), key_ref(repo));
  REQUIRE(v.submit(frame, 1, 2));
  r = std::move(owner.collect(v, 1)[0]);
  CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "ok");
  CHECK_EQ(r.verdict.key_version, version);

  // Resolved without a usable key.
  cache->set_unusable(repo.did(), crypto::KeyError::no_signing_key);
  REQUIRE(v.submit(frame, 1, 3));
  r = std::move(owner.collect(v, 1)[0]);
  CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "key_unusable");
  CHECK_EQ(std::string(r.verdict.detail), "no_signing_key");

  // A job's own key map wins over the cache.
  auto map = std::make_shared<verify::KeyMap>();
  (*map)[repo.did()] = verify::KeyEntry{key_ref(repo)};
  FrameJob job;
  job.frame = frame;
  job.tag = 4;
  job.options.now_ms = kNowMs;
  job.keys = map;
  REQUIRE(v.submit(job));
  r = std::move(owner.collect(v, 1)[0]);
  CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "ok");
  CHECK_EQ(r.tag, 4u);
}

TEST(validator_backpressure_and_cancel) {
  TestRepo repo(crypto::Curve::p256, "did:plc:cancel");
  repo.seed(10, {"app.bsky.feed.post"});
  auto parts = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
  BytesRef frame = shared(test::commit_frame(parts));
  auto cache = std::make_shared<verify::KeyCache>();
  Owner owner;
  verify::ValidatorOptions o = options(1);
  o.pool.capacity = 8;
  Validator v(o, cache, owner.wake());
  size_t accepted = 0;
  while (accepted < 100 && v.submit(frame, 0, accepted)) ++accepted;
  CHECK_EQ(accepted, 8u);  // capacity counts results not yet taken
  v.shutdown(verify::StopMode::cancel);
  std::vector<FrameResult> results;
  v.take_results(results);
  CHECK_EQ(results.size(), accepted);
  for (const FrameResult& r : results) {
    CHECK(!r.verdict.ok());  // cancelled or validated (no key): never silently ok
    if (r.cancelled) CHECK_EQ(std::string(firehose::name(r.verdict.reason)), "cancelled");
  }
  CHECK(!v.submit(frame, 0, 999));
}

TEST(validator_order_key_follows_the_did) {
  TestRepo a(crypto::Curve::secp256k1, "did:plc:aaaa"), b(crypto::Curve::secp256k1, "did:plc:bbbb", 2);
  Bytes fa = test::commit_frame(a.commit({{"create", "app.bsky.feed.post/" + a.next_rkey()}}));
  Bytes fa2 = test::commit_frame(a.commit({{"create", "app.bsky.feed.post/" + a.next_rkey()}}));
  Bytes fb = test::commit_frame(b.commit({{"create", "app.bsky.feed.post/" + b.next_rkey()}}));
  CHECK_EQ(verify::order_key(fa, 1), verify::order_key(fa2, 2));  // same DID, any host
  CHECK(verify::order_key(fa, 1) != verify::order_key(fb, 1));
  Bytes junk = {0x01, 0x02};
  CHECK_EQ(verify::order_key(junk, 5), verify::order_key(junk, 5));
  CHECK(verify::order_key(junk, 5) != verify::order_key(junk, 6));
}
