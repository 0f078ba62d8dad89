// SPDX-License-Identifier: MIT
#include "verify/key_cache.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "crypto/sign.h"
#include "crypto/verify.h"
#include "harness.h"

namespace c = ringlay::crypto;
using ringlay::verify::KeyCache;
using ringlay::verify::KeyCacheOptions;
using ringlay::verify::KeyState;

namespace {

c::KeyRef fresh_key(c::Curve curve = c::Curve::secp256k1) {
  c::SigningKey sk;
  c::PublicKey pub;
  if (!c::generate_signing_key(curve, sk, pub)) return nullptr;
  return c::make_key_ref(std::move(pub));
}

std::string did(int i) { return "did:plc:" + std::to_string(1000000 + i) + "abcdefghijklmnop"; }

}  // namespace

TEST(key_cache_found_missing_unusable) {
  KeyCache cache;
  c::KeyRef k = fresh_key();
  REQUIRE(k != nullptr);
  auto miss = cache.lookup("did:plc:nobody");
  CHECK(miss.state == KeyState::missing);
  CHECK(miss.key == nullptr);
  CHECK_EQ(miss.version, uint64_t{0});

  uint64_t v1 = cache.set("did:plc:alice", k);
  auto hit = cache.lookup("did:plc:alice");
  CHECK(hit.state == KeyState::found);
  CHECK(hit.key == k);
  CHECK_EQ(hit.version, v1);

  uint64_t v2 = cache.set_unusable("did:plc:bob", c::KeyError::no_signing_key);
  CHECK(v2 > v1);
  auto bad = cache.lookup("did:plc:bob");
  CHECK(bad.state == KeyState::unusable);
  CHECK(bad.key == nullptr);
  CHECK_EQ(std::string(c::name(bad.reason)), std::string("no_signing_key"));

  // Replacing a key bumps the version, so a caller can tell a refreshed key from the old one.
  c::KeyRef k2 = fresh_key(c::Curve::p256);
  uint64_t v3 = cache.set("did:plc:alice", k2);
  CHECK(v3 > v2);
  hit = cache.lookup("did:plc:alice");
  CHECK(hit.key == k2 && hit.version == v3);
  CHECK_EQ(cache.size(), size_t{2});

  CHECK(cache.remove("did:plc:alice"));
  CHECK(!cache.remove("did:plc:alice"));
  CHECK(cache.lookup("did:plc:alice").state == KeyState::missing);
  // A key handed out before the removal is still usable by its holder.
  CHECK(hit.key->valid());

  auto st = cache.stats();
  CHECK_EQ(st.hits, uint64_t{3});
  CHECK_EQ(st.misses, uint64_t{2});
  CHECK_EQ(st.stores, uint64_t{3});
  CHECK_EQ(st.removals, uint64_t{1});
  CHECK_EQ(st.size, size_t{1});
  cache.clear();
  CHECK_EQ(cache.size(), size_t{0});
  CHECK(cache.lookup("did:plc:bob").state == KeyState::missing);
}

TEST(key_cache_evicts_least_recently_used) {
  // One shard so the LRU order is global and observable.
  KeyCache cache(KeyCacheOptions{.capacity = 4, .shards = 1});
  CHECK_EQ(cache.capacity(), size_t{4});
  c::KeyRef k = fresh_key();
  for (int i = 0; i < 4; ++i) cache.set(did(i), k);
  // Touch 0 so that 1 becomes the oldest.
  CHECK(cache.lookup(did(0)).state == KeyState::found);
  cache.set(did(4), k);
  CHECK_EQ(cache.size(), size_t{4});
  CHECK(cache.lookup(did(1)).state == KeyState::missing);
  for (int i : {0, 2, 3, 4}) CHECK(cache.lookup(did(i)).state == KeyState::found);
  // Replacing an existing entry never evicts.
  cache.set(did(2), k);
  CHECK_EQ(cache.size(), size_t{4});
  CHECK_EQ(cache.stats().evictions, uint64_t{1});
}

TEST(key_cache_bounded_across_shards) {
  KeyCache cache(KeyCacheOptions{.capacity = 1000, .shards = 16});
  c::KeyRef k = fresh_key();
  for (int i = 0; i < 20000; ++i) cache.set(did(i), k);
  CHECK(cache.size() <= cache.capacity());
  CHECK(cache.capacity() >= 1000 && cache.capacity() < 1100);
  // A cache smaller than the default shard count still holds about what was asked for.
  KeyCache small(KeyCacheOptions{.capacity = 10});
  CHECK(small.capacity() >= 10 && small.capacity() <= 16);
  for (int i = 0; i < 100; ++i) small.set(did(i), k);
  CHECK(small.size() <= small.capacity());
  // The most recent entries survive.
  int recent = 0;
  for (int i = 19990; i < 20000; ++i) recent += cache.lookup(did(i)).state == KeyState::found;
  CHECK_EQ(recent, 10);
}

TEST(key_cache_concurrent_readers_and_writers) {
  KeyCache cache(KeyCacheOptions{.capacity = 256, .shards = 8});
  constexpr int kDids = 512;  // twice the capacity: lookups race with evictions
  std::vector<c::KeyRef> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(fresh_key(i % 2 == 0 ? c::Curve::secp256k1 : c::Curve::p256));
  for (const auto& k : keys) REQUIRE(k != nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<long> found{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      int i = t;
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = cache.lookup(did(i % kDids));
        if (r.state == KeyState::found) {
          // Every stored key is one of `keys` and stays valid while we hold it.
          bool known = false;
          for (const auto& k : keys) known |= r.key == k;
          if (!known || !r.key->valid() || r.version == 0) wrong.fetch_add(1);
          found.fetch_add(1, std::memory_order_relaxed);
        } else if (r.state == KeyState::unusable && r.reason != c::KeyError::no_signing_key) {
          wrong.fetch_add(1);
        }
        i += 7;
      }
    });
  }
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < kDids; ++i) {
      if (i % 13 == 0) {
        cache.set_unusable(did(i), c::KeyError::no_signing_key);
      } else if (i % 17 == 0) {
        cache.remove(did(i));
      } else {
        cache.set(did(i), keys[(i + round) % keys.size()]);
      }
    }
    if (round == 20) cache.clear();
  }
  stop.store(true);
  for (auto& th : readers) th.join();
  CHECK_EQ(wrong.load(), 0);
  CHECK(found.load() > 0);
  CHECK(cache.size() <= cache.capacity());
}
