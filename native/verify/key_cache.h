// SPDX-License-Identifier: MIT
// KeyCache: DID -> signing key, for the verify workers.
//
// The identity layer (TypeScript) resolves DIDs and pushes keys down in batches; workers read
// concurrently while validating commits. A lookup answers one of three things:
//   found     — a parsed key, ready to verify with;
//   missing   — nothing known: the caller holds the event and asks JS to resolve the DID;
//   unusable  — JS resolved the DID and it has no usable key (reason: no_signing_key,
//               unsupported_key_type, invalid_point, …): fail the event without asking again.
// Every stored entry carries a version (a process-wide counter, increasing with each set), so
// a caller whose signature check failed with version v can ask JS to re-resolve once and retry
// only when it later sees a version > v (protocol.md §3.3: refresh the key once on failure).
//
// Concurrency: every method is thread-safe. Entries live in independent shards (a DID's hash
// picks one); each shard is a hash map plus an LRU list under its own mutex, held only for the
// map operation itself — never while verifying, never waited on for a condition. Readers copy
// a KeyRef (an atomic refcount increment) and verify outside the lock, so a key removed or
// replaced meanwhile stays alive until the reader is done with it.
//
// Bounds: at most `capacity` entries (split evenly over the shards); inserting into a full
// shard evicts that shard's least recently used entry. Memory is roughly 250 bytes per
// secp256k1 entry and ~2.2 KB per P-256 entry (OpenSSL's EC_KEY carries a copy of the group).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"

namespace ringlay::verify {

using crypto::KeyRef;

enum class KeyState : uint8_t { found = 0, missing = 1, unusable = 2 };
const char* name(KeyState state);  // "found" / "missing" / "unusable"

struct KeyLookup {
  KeyState state = KeyState::missing;
  KeyRef key;                                      // set when found
  crypto::KeyError reason = crypto::KeyError::ok;  // set when unusable
  uint64_t version = 0;                            // 0 when missing
};

struct KeyCacheOptions {
  size_t capacity = size_t{1} << 20;  // entries (rounded up to a multiple of the shard count)
  size_t shards = 64;                 // a power of two (rounded up), at most `capacity`
};

struct KeyCacheStats {
  uint64_t hits = 0;        // lookups that found an entry (found or unusable)
  uint64_t misses = 0;      // lookups that found nothing
  uint64_t stores = 0;      // set()/set_unusable() calls
  uint64_t evictions = 0;   // entries dropped to stay within capacity
  uint64_t removals = 0;    // entries dropped by remove()/clear()
  size_t size = 0;          // entries now
};

class KeyCache {
 public:
  explicit KeyCache(KeyCacheOptions options = {});
  ~KeyCache();
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Marks the entry most recently used.
  KeyLookup lookup(std::string_view did);

  // Stores (or replaces) a usable key; `key` must not be null. Returns the entry's version.
  uint64_t set(std::string_view did, KeyRef key);
  // Stores (or replaces) "resolved, but no usable key", with the reason. Returns the version.
  uint64_t set_unusable(std::string_view did, crypto::KeyError reason);

  // Drops the entry (on #identity, or when JS learns the key changed). True if it existed.
  bool remove(std::string_view did);
  void clear();

  size_t size() const;
  size_t capacity() const { return shard_capacity_ * shard_count_; }
  KeyCacheStats stats() const;

 private:
  struct Shard;
  Shard& shard_for(std::string_view did);
  uint64_t store(std::string_view did, KeyRef key, crypto::KeyError reason);

  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
  size_t shard_capacity_;
  // Only set() touches this; counters live in the shards so readers share no cache line.
  std::atomic<uint64_t> next_version_{1};
};

}  // namespace ringlay::verify
