// SPDX-License-Identifier: MIT
// Validator: full frame validation (firehose/validate.h) on the verify worker pool.
//
// The transport calls it from the io_uring thread with frames it received — no trip through
// JS: submit(frame, host, tag) peeks the frame's DID and queues it on that DID's ordering lane
// (Pool::submit_ordered), so one account's frames are validated one at a time, in arrival order,
// and their results come back in that order, while different accounts spread over all workers.
// Workers read keys from the shared KeyCache by DID (and, first, from a per-job key map when a
// caller supplies keys with its frames). Results come back in batches through the pool's
// completion queue; `wake` runs when it goes from empty to non-empty (an eventfd write for the
// ring thread, a threadsafe function for JS), and the owner takes them all with take_results().
//
// Each result holds the frame (a BytesRef: one refcount), so the Verdict's views into the frame
// stay valid for as long as the result lives, and the log can append the very same bytes.
//
// Threads: submit from any thread; take_results and shutdown from the owner (see pool.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/keys.h"
#include "firehose/validate.h"
#include "util/shared_bytes.h"
#include "verify/key_cache.h"
#include "verify/pool.h"

namespace ringlay::verify {

// Keys a caller hands in with its frames (tests, benches, a JS batch with explicit keys):
// DID → key, or "resolved, no usable key" (key null, reason set).
struct KeyEntry {
  KeyRef key;
  crypto::KeyError reason = crypto::KeyError::no_signing_key;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using KeyMap = std::unordered_map<std::string, KeyEntry, StringHash, std::equal_to<>>;

struct FrameJob {
  BytesRef frame;
  uint64_t tag = 0;   // the caller's, copied into the result
  uint32_t host = 0;  // the upstream the frame came from, copied into the result
  firehose::ValidateOptions options;
  std::shared_ptr<const KeyMap> keys;  // consulted before the cache; may be null
};

struct FrameResult {
  uint64_t tag = 0;
  uint32_t host = 0;
  BytesRef frame;  // keeps verdict.summary's views valid
  firehose::Verdict verdict;
  bool cancelled = false;  // the pool shut down first (verdict.reason is then `cancelled`)
};

// The key of one DID: the job's own map first, then the cache. Holds the found key alive for
// as long as this object lives (one validation).
class JobKeys final : public firehose::KeyProvider {
 public:
  JobKeys(const KeyMap* map, KeyCache* cache) : map_(map), cache_(cache) {}
  firehose::KeyAnswer lookup(std::string_view did) override;

 private:
  const KeyMap* map_;
  KeyCache* cache_;
  KeyRef held_;
};

struct ValidateHandler {
  using Job = FrameJob;
  using Result = FrameResult;
  using Scratch = firehose::Scratch;

  KeyCache* cache = nullptr;  // may be null: only job keys are used then

  Result run(Job& job, Scratch& scratch) const;
  Result cancel(Job& job) const;
};

struct ValidatorOptions {
  PoolOptions pool;
  // Used by submit(frame, host, tag); FrameJob submissions carry their own.
  firehose::ValidateOptions validate;
};

// Per-DID ordering key of a frame: hash of its peeked DID, or of the host when it has none
// (malformed frames then stay in their host's order).
uint64_t order_key(std::span<const uint8_t> frame, uint32_t host);

class Validator {
 public:
  using WakeFn = std::function<void()>;

  Validator(const ValidatorOptions& options, std::shared_ptr<KeyCache> cache, WakeFn wake);
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Queues one frame on its DID's lane. False when the pool is full or shut down (the caller
  // keeps its reference and retries after taking results).
  bool submit(const BytesRef& frame, uint32_t host, uint64_t tag);
  // Same with per-job options and keys; `job` is moved from only on success.
  bool submit(FrameJob& job);

  // Every result available now (cleared first), in completion order (per DID: submit order).
  size_t take_results(std::vector<FrameResult>& out) { return pool_.take_results(out); }
  void shutdown(StopMode mode) { pool_.shutdown(mode); }

  unsigned threads() const { return pool_.threads(); }
  size_t capacity() const { return pool_.capacity(); }
  size_t in_flight() const { return pool_.in_flight(); }
  PoolStats stats() const { return pool_.stats(); }

 private:
  std::shared_ptr<KeyCache> cache_;
  firehose::ValidateOptions defaults_;
  Pool<ValidateHandler> pool_;  // last: workers stop before the cache can go
};

}  // namespace ringlay::verify
