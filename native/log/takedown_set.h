// SPDX-License-Identifier: MIT
// The persisted takedown set: DIDs whose frames must no longer be replayed from the log.
//
// Matching is two-step. Every record header carries a 64-bit DID hash, which readers test
// against the set first (an empty set or a hash miss costs one lookup); on a hash hit the DID
// stored in the record is compared byte for byte with the DIDs in the set. So a 64-bit
// collision between a taken-down DID and another account only costs a string compare; it can
// never hide the other account's frames (test: takedown_hash_collision_keeps_other_dids).
//
// File `takedowns`: 8-byte magic "RLYTKD01", then entries appended and fdatasync'd one at a
// time: u32 crc32c of the rest | u8 op (1 add, 2 remove) | u16 did_len | did. A torn last
// entry (crash during the append) is cut at open; the takedown call had not returned.
//
// Threads: add/remove from any one thread at a time (serialised by a mutex held across the
// fsync, never by readers); readers take an immutable snapshot when generation() changes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "log/file_io.h"
#include "log/format.h"

namespace ringlay::log_store {

using DidHasher = uint64_t (*)(std::string_view did);

struct TakedownSnapshot {
  uint64_t generation = 0;      // entries applied (adds + removes)
  uint64_t add_generation = 0;  // adds applied: scrubbing is needed when this grows
  std::unordered_map<uint64_t, std::vector<std::string>> by_hash;

  bool empty() const { return by_hash.empty(); }
  bool hash_listed(uint64_t hash) const { return by_hash.count(hash) != 0; }
  bool matches(uint64_t hash, std::string_view did) const;
  size_t size() const;
};

class TakedownSet {
 public:
  TakedownSet() = default;
  TakedownSet(const TakedownSet&) = delete;
  TakedownSet& operator=(const TakedownSet&) = delete;

  Status open(const std::string& path, DidHasher hasher);

  // Appends and fdatasyncs an entry; *changed is false when the DID was already in (add) or
  // not in (remove) the set, and then nothing is written.
  Status add(std::string_view did, bool* changed);
  Status remove(std::string_view did, bool* changed);

  std::shared_ptr<const TakedownSnapshot> snapshot() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  bool contains(std::string_view did) const;
  std::vector<std::string> list() const;
  DidHasher hasher() const { return hasher_; }

 private:
  Status append(uint8_t op, std::string_view did);
  static void apply(TakedownSnapshot& s, uint8_t op, std::string_view did, uint64_t hash);

  std::mutex write_mu_;  // serialises add/remove (file appends)
  Fd fd_;
  uint64_t file_end_ = 0;
  DidHasher hasher_ = nullptr;

  mutable std::mutex snap_mu_;  // guards snap_ (a pointer swap, never held across I/O)
  std::shared_ptr<const TakedownSnapshot> snap_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace ringlay::log_store
