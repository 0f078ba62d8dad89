// SPDX-License-Identifier: MIT
#include "verify/key_cache.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "util/assert.h"

namespace ringlay::verify {
namespace {

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct Eq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

struct Entry {
  KeyRef key;
  crypto::KeyError reason = crypto::KeyError::ok;
  uint64_t version = 0;
  // Intrusive LRU list through the map's nodes (their addresses survive rehashing).
  Entry* prev = nullptr;
  Entry* next = nullptr;
  const std::string* did = nullptr;
};

}  // namespace

struct alignas(64) KeyCache::Shard {
  std::mutex mu;
  std::unordered_map<std::string, Entry, Hash, Eq> map;
  Entry lru;  // sentinel: lru.next is the most recently used, lru.prev the least
  uint64_t hits = 0, misses = 0, stores = 0, evictions = 0, removals = 0;

  Shard() { lru.prev = lru.next = &lru; }

  void unlink(Entry* e) {
    e->prev->next = e->next;
    e->next->prev = e->prev;
  }
  void push_front(Entry* e) {
    e->next = lru.next;
    e->prev = &lru;
    lru.next->prev = e;
    lru.next = e;
  }
};

const char* name(KeyState state) {
  switch (state) {
    case KeyState::found: return "found";
    case KeyState::missing: return "missing";
    case KeyState::unusable: return "unusable";
  }
  return "unknown";
}

KeyCache::KeyCache(KeyCacheOptions options) {
  // Never more shards than entries, so a small cache keeps (about) its stated capacity.
  size_t shards = std::bit_ceil(options.shards == 0 ? size_t{1} : options.shards);
  shards = std::min(shards, std::bit_floor(options.capacity == 0 ? size_t{1} : options.capacity));
  shard_count_ = shards;
  shard_capacity_ = options.capacity <= shards ? 1 : (options.capacity + shards - 1) / shards;
  shards_ = std::make_unique<Shard[]>(shards);
}

KeyCache::~KeyCache() = default;

KeyCache::Shard& KeyCache::shard_for(std::string_view did) {
  size_t hash = Hash{}(did);
  // The map buckets use the low bits of the same hash; pick the shard from the high bits
  // (after a multiplicative mix, since std::hash may be weak there) so both stay spread.
  uint64_t mixed = static_cast<uint64_t>(hash) * 0x9e3779b97f4a7c15ull;
  return shards_[(mixed >> 32) & (shard_count_ - 1)];
}

KeyLookup KeyCache::lookup(std::string_view did) {
  Shard& s = shard_for(did);
  KeyLookup out;
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(did);
  if (it == s.map.end()) {
    ++s.misses;
    return out;
  }
  ++s.hits;
  Entry& e = it->second;
  s.unlink(&e);
  s.push_front(&e);
  out.state = e.key != nullptr ? KeyState::found : KeyState::unusable;
  out.key = e.key;  // refcount taken under the lock; the key outlives a concurrent remove
  out.reason = e.reason;
  out.version = e.version;
  return out;
}

uint64_t KeyCache::set(std::string_view did, KeyRef key) {
  RL_ASSERT(key != nullptr && key->valid());
  return store(did, std::move(key), crypto::KeyError::ok);
}

uint64_t KeyCache::set_unusable(std::string_view did, crypto::KeyError reason) {
  RL_ASSERT(reason != crypto::KeyError::ok);
  return store(did, nullptr, reason);
}

uint64_t KeyCache::store(std::string_view did, KeyRef key, crypto::KeyError reason) {
  Shard& s = shard_for(did);
  uint64_t version = next_version_.fetch_add(1, std::memory_order_relaxed);
  KeyRef old;  // released after the lock: freeing an EC_KEY is not free
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.stores;
  auto it = s.map.find(did);
  if (it == s.map.end()) {
    if (s.map.size() >= shard_capacity_) {
      Entry* victim = s.lru.prev;
      RL_ASSERT(victim != &s.lru);
      s.unlink(victim);
      old = std::move(victim->key);
      s.map.erase(*victim->did);
      ++s.evictions;
    }
    it = s.map.try_emplace(std::string(did)).first;
    it->second.did = &it->first;
  } else {
    s.unlink(&it->second);
    old = std::move(it->second.key);
  }
  Entry& e = it->second;
  e.key = std::move(key);
  e.reason = reason;
  e.version = version;
  s.push_front(&e);
  return version;
}

bool KeyCache::remove(std::string_view did) {
  Shard& s = shard_for(did);
  KeyRef old;
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(did);
  if (it == s.map.end()) return false;
  s.unlink(&it->second);
  old = std::move(it->second.key);
  s.map.erase(it);
  ++s.removals;
  return true;
}

void KeyCache::clear() {
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    std::unordered_map<std::string, Entry, Hash, Eq> dropped;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.removals += s.map.size();
      dropped.swap(s.map);
      s.lru.prev = s.lru.next = &s.lru;
    }
  }
}

size_t KeyCache::size() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].map.size();
  }
  return n;
}

KeyCacheStats KeyCache::stats() const {
  KeyCacheStats out;
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    out.hits += s.hits;
    out.misses += s.misses;
    out.stores += s.stores;
    out.evictions += s.evictions;
    out.removals += s.removals;
    out.size += s.map.size();
  }
  return out;
}

}  // namespace ringlay::verify
