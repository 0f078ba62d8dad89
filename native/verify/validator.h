// SPDX-License-Identifier: MIT
// Validator: full frame validation (firehose/validate.h) on the verify worker pool.
//
// The transport calls it from the io_uring thread with frames it received — no trip through
// JS: submit(frame, host, tag). Workers read keys from the shared KeyCache by DID (and, first,
// from a per-job key map when a caller supplies keys with its frames). Results come back in
// batches through the pool's completion queue; `wake` runs when it goes from empty to non-empty
// (an eventfd write for the ring thread, a threadsafe function for JS), and the owner takes them
// with take_results().
//
// Order: take_results() hands out each account's results in the order its frames were
// submitted (the policy layer's chain checks need that), yet frames are validated on any free
// worker. Validation is stateless, so only delivery must be ordered: a result that finishes
// ahead of an earlier frame of the same DID (peeked on submit, see firehose::peek_did) is held
// back until that one is done. Pinning each DID to one worker (Pool::submit_ordered) gave the
// same order but left workers idle whenever the DIDs in flight hashed unevenly — 15% of two
// cores with 40 busy accounts in bench/codec; delivery reordering keeps every worker busy.
// Held results count against the capacity, so the buffer stays bounded.
//
// Each result holds the frame (a BytesRef: one refcount), so the Verdict's views into the frame
// stay valid for as long as the result lives, and the log can append the very same bytes.
//
// Threads: submit, take_results and shutdown from one owner thread (the ring thread, or JS);
// `wake` and validation run on the workers.
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
  // Set by Validator::submit (delivery order), copied into the result.
  uint64_t serial = 0;
  uint64_t order_key = 0;
};

struct FrameResult {
  uint64_t tag = 0;
  uint32_t host = 0;
  BytesRef frame;  // keeps verdict.summary's views valid
  firehose::Verdict verdict;
  bool cancelled = false;  // the pool shut down first (verdict.reason is then `cancelled`)
  uint64_t serial = 0;
  uint64_t order_key = 0;
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

  // Queues one frame. False when `capacity` frames are in flight or held back, or after
  // shutdown (the caller keeps its reference and retries after taking results).
  bool submit(const BytesRef& frame, uint32_t host, uint64_t tag);
  // Same with per-job options and keys; `job` is moved from only on success.
  bool submit(FrameJob& job);

  // The results deliverable now (`out` cleared first): per DID in submission order, accounts
  // interleaved as they finished. After shutdown() every submitted frame's result is delivered.
  size_t take_results(std::vector<FrameResult>& out);
  void shutdown(StopMode mode) { pool_.shutdown(mode); }

  unsigned threads() const { return pool_.threads(); }
  size_t capacity() const { return pool_.capacity(); }
  // Submitted and not yet delivered (running, queued, finished or held back).
  size_t in_flight() const { return pool_.in_flight() + held_; }
  // Finished but waiting for an earlier frame of the same DID.
  size_t held() const { return held_; }
  PoolStats stats() const { return pool_.stats(); }

 private:
  // One DID (order key) with frames in flight: their serials in submission order, and the
  // results that finished ahead of the first.
  struct Pending {
    std::vector<uint64_t> serials;
    size_t head = 0;
    std::vector<FrameResult> early;
  };
  void deliver(FrameResult&& r, Pending& p, std::vector<FrameResult>& out);

  std::shared_ptr<KeyCache> cache_;
  firehose::ValidateOptions defaults_;
  std::unordered_map<uint64_t, Pending> pending_;  // owner thread only
  std::vector<FrameResult> taken_;
  uint64_t next_serial_ = 1;
  size_t held_ = 0;
  Pool<ValidateHandler> pool_;  // last: workers stop before the rest goes
};

// For benchmarks (napi benchValidate, quoted by bench/codec next to raw_bench's figure): runs
// `frames` through a fresh Validator of `threads` workers, over and over for about `seconds`,
// with the calling thread feeding and collecting as the ring thread would. No JS involved.
struct ValidatorBenchResult {
  unsigned threads = 0;
  uint64_t frames = 0;
  uint64_t failures = 0;  // results that were not ok (a clean figure needs 0)
  firehose::Reason first_failure = firehose::Reason::ok;
  double seconds = 0;
  double per_second = 0;
};
ValidatorBenchResult bench_validator(std::span<const BytesRef> frames,
                                     const firehose::ValidateOptions& options,
                                     std::shared_ptr<const KeyMap> keys, unsigned threads,
                                     double seconds);

}  // namespace ringlay::verify
