// SPDX-License-Identifier: MIT
// Pool: the verify worker threads. Jobs are submitted from any thread (the ring thread that
// received a frame, the JS thread), run on workers off both, and come back as results in
// batches through a completion queue whose owner is woken by a callback it supplies (an
// eventfd write for the ring thread, a uv_async / threadsafe function for JS).
//
// The pool is a template over a Handler, so a job is stored by value in a preallocated ring
// and costs no allocation (a frame travels as a BytesRef: one refcount increment):
//
//   struct Handler {
//     using Job = …;     // move-constructible: e.g. {BytesRef frame; uint32_t host; uint64_t tag;}
//     using Result = …;  // move-constructible: e.g. {uint64_t tag; Reason reason; summary…}
//     struct Scratch;    // default-constructible, one per worker, created and destroyed on it
//     Result run(Job& job, Scratch& scratch) const;  // on workers, concurrently
//     Result cancel(Job& job) const;                 // jobs dropped by shutdown(cancel)
//   };
//
// Guarantees
// - Every accepted job yields exactly one Result: run, or cancel() if shut down before it ran.
// - Backpressure: at most `capacity` jobs are accepted and not yet taken back through
//   take_results() (queued + running + results waiting). submit() returns false beyond that,
//   and after shutdown() began; the job is then left untouched and the caller keeps it.
// - Ordering: submit() jobs run on any worker in any order. submit_ordered(job, key) jobs with
//   the same key run one at a time, in the order their submit_ordered calls took effect, on one
//   worker, and their results enter the completion queue in that order. So a caller that
//   submits one DID's frames from one thread with key = hash(DID) gets that DID's results back
//   in order, while different DIDs still spread over all workers. (Mixing submit() and
//   submit_ordered() for the same DID gives no order between the two.)
// - Wake: `wake` runs when the completion queue goes from empty to non-empty, on the worker
//   that pushed the results (or on the thread calling shutdown() for cancelled jobs). It must
//   be thread-safe and quick; the owner then takes every result at once with take_results().
//   Workers hand results over in batches (PoolOptions::result_batch) and whenever they run
//   out of work, so results are never held while a worker is idle.
//
// Threads: submit*, stats, in_flight: any thread. take_results: the owner (one thread).
// shutdown and the destructor: the owner, never a worker or the wake callback.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/assert.h"
#include "util/mpsc_queue.h"
#include "verify/futex.h"
#include "verify/mpmc_ring.h"

namespace ringlay::verify {

struct PoolOptions {
  unsigned threads = 0;     // 0: the CPUs this process may run on (at most 256)
  size_t capacity = 4096;   // jobs accepted and not yet taken back (see Guarantees)
  const char* name = "rl-verify";  // worker thread names: "<name>-<i>" (Linux keeps 15 chars)
  // A worker hands results over after this many, or as soon as it runs out of work. Larger
  // batches mean fewer completion-queue locks and owner wake-ups under load, at the cost of
  // holding finished results while the worker keeps busy (16 x ~50 us verifies ~ 1 ms).
  size_t result_batch = 16;
};

enum class StopMode : uint8_t {
  drain,   // run every job already accepted, then stop
  cancel,  // finish only the jobs already running; the rest get Handler::cancel()
};

struct PoolStats {
  uint64_t submitted = 0;
  uint64_t rejected = 0;   // submit calls refused (full or shut down)
  uint64_t completed = 0;  // results from run()
  uint64_t cancelled = 0;  // results from cancel()
  size_t in_flight = 0;
};

// CPUs in this process's affinity mask (at least 1).
unsigned available_cpus();

template <typename Handler>
class Pool {
 public:
  using Job = typename Handler::Job;
  using Result = typename Handler::Result;
  using Scratch = typename Handler::Scratch;
  using WakeFn = std::function<void()>;

  Pool(Handler handler, PoolOptions options, WakeFn wake)
      : handler_(std::move(handler)),
        wake_(std::move(wake)),
        capacity_(options.capacity == 0 ? 1 : options.capacity),
        result_batch_(options.result_batch == 0 ? 1 : options.result_batch),
        shared_(capacity_) {
    unsigned n = options.threads == 0 ? available_cpus() : std::min(options.threads, kMaxThreads);
    for (unsigned i = 0; i < n; ++i) lanes_.push_back(std::make_unique<Lane>(capacity_));
    for (unsigned i = 0; i < n; ++i) {
      lanes_[i]->thread = std::thread([this, i] { worker(i); });
      std::string tname = std::string(options.name) + "-" + std::to_string(i);
      if (tname.size() > 15) tname.resize(15);
      pthread_setname_np(lanes_[i]->thread.native_handle(), tname.c_str());
    }
  }

  ~Pool() { shutdown(StopMode::cancel); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  bool submit(Job&& job) { return enqueue(std::move(job), nullptr); }

  bool submit_ordered(Job&& job, uint64_t order_key) {
    // Fibonacci hashing spreads sequential or low-entropy keys over the lanes.
    uint64_t mixed = order_key * 0x9e3779b97f4a7c15ull;
    return enqueue(std::move(job), lanes_[(mixed >> 32) % lanes_.size()].get());
  }

  // Moves every available result into `out` (cleared first) and frees their capacity.
  size_t take_results(std::vector<Result>& out) {
    results_.take_all(out);
    if (!out.empty()) in_flight_.fetch_sub(out.size(), std::memory_order_acq_rel);
    return out.size();
  }

  // Idempotent. Blocks until every worker has exited (each finishes the job it is running).
  // Afterwards every accepted job has its result in the completion queue.
  void shutdown(StopMode mode) {
    if (shut_down_) return;
    shut_down_ = true;
    gate_.fetch_or(kClosed, std::memory_order_acq_rel);
    // Submitters that passed the gate before it closed finish their push within nanoseconds.
    while ((gate_.load(std::memory_order_acquire) & ~kClosed) != 0) std::this_thread::yield();
    stop_.store(mode == StopMode::drain ? kDrain : kCancel, std::memory_order_seq_cst);
    for (auto& lane : lanes_) {
      lane->word.fetch_add(1, std::memory_order_release);
      futex_wake(lane->word, INT_MAX);
    }
    for (auto& lane : lanes_) lane->thread.join();
    auto cancel_all = [this](MpmcRing<Job>& ring) {
      while (std::optional<Job> job = ring.try_pop()) {
        cancelled_.fetch_add(1, std::memory_order_relaxed);
        deliver(handler_.cancel(*job));
      }
    };
    cancel_all(shared_);
    for (auto& lane : lanes_) cancel_all(lane->ring);
  }

  unsigned threads() const { return static_cast<unsigned>(lanes_.size()); }
  size_t capacity() const { return capacity_; }
  size_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }
  // Results handed over and not yet taken (takes the completion queue's lock briefly).
  size_t results_ready() { return results_.size_approx(); }

  PoolStats stats() const {
    PoolStats s;
    s.submitted = submitted_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    s.completed = completed_.load(std::memory_order_relaxed);
    s.cancelled = cancelled_.load(std::memory_order_relaxed);
    s.in_flight = in_flight();
    return s;
  }

 private:
  static constexpr uint64_t kClosed = uint64_t{1} << 63;
  static constexpr unsigned kMaxThreads = 256;
  static constexpr int kRunning = 0, kDrain = 1, kCancel = 2;

  struct alignas(64) Lane {
    explicit Lane(size_t capacity) : ring(capacity) {}
    std::atomic<uint32_t> word{0};      // futex word: bumped to wake the worker
    std::atomic<uint32_t> sleeping{0};  // 1 while the worker is (about to be) asleep
    MpmcRing<Job> ring;                 // submit_ordered jobs for this worker only
    std::thread thread;
  };

  bool enqueue(Job&& job, Lane* lane) {
    uint64_t g = gate_.fetch_add(1, std::memory_order_acq_rel);
    if ((g & kClosed) != 0) {
      gate_.fetch_sub(1, std::memory_order_release);
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= capacity_) {
      in_flight_.fetch_sub(1, std::memory_order_acq_rel);
      gate_.fetch_sub(1, std::memory_order_release);
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    MpmcRing<Job>& ring = lane != nullptr ? lane->ring : shared_;
    // in_flight <= capacity <= ring size, so a slot is free; it can only be a cell whose
    // previous value a worker is still moving out, which takes nanoseconds.
    while (!ring.try_push(std::move(job))) std::this_thread::yield();
    gate_.fetch_sub(1, std::memory_order_release);
    submitted_.fetch_add(1, std::memory_order_relaxed);
    // Pairs with the fence in worker(): either we see the worker's sleeping flag or it sees
    // the job we just pushed.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_relaxed) == 0) {
      // Every worker is busy (or about to look at the queues again): nobody to wake. This is
      // the common case under load, and costs one read of a line that rarely changes.
    } else if (lane != nullptr) {
      wake(*lane);
    } else {
      size_t n = lanes_.size();
      size_t start = next_wake_.fetch_add(1, std::memory_order_relaxed);
      for (size_t i = 0; i < n; ++i) {
        if (wake(*lanes_[(start + i) % n])) break;
      }
    }
    return true;
  }

  // Wakes the lane's worker if it sleeps; true if this call claimed it.
  bool wake(Lane& lane) {
    if (lane.sleeping.load(std::memory_order_relaxed) == 0 ||
        lane.sleeping.exchange(0, std::memory_order_acq_rel) == 0) {
      return false;
    }
    lane.word.fetch_add(1, std::memory_order_release);
    futex_wake(lane.word, 1);
    return true;
  }

  void deliver(Result&& result) {
    if (results_.push(std::move(result))) wake_();
  }

  void flush(std::vector<Result>& local) {
    if (local.empty()) return;
    if (results_.push_many(std::make_move_iterator(local.begin()), std::make_move_iterator(local.end()))) {
      wake_();
    }
    local.clear();
  }

  void worker(unsigned index) {
    Lane& lane = *lanes_[index];
    Scratch scratch{};
    // Results are handed over in batches: when `result_batch` are ready, and always before
    // the worker looks for sleep, so a lone result is never held back.
    std::vector<Result> local;
    local.reserve(result_batch_);
    for (;;) {
      // Read stop before looking for work: a drain stop is set only after the last push, so
      // when stop says drain, the pops below see every job there will ever be.
      int stop = stop_.load(std::memory_order_acquire);
      if (stop == kCancel) break;
      std::optional<Job> job = lane.ring.try_pop();
      if (!job) job = shared_.try_pop();
      if (job) {
        local.push_back(handler_.run(*job, scratch));
        completed_.fetch_add(1, std::memory_order_relaxed);
        if (local.size() >= result_batch_) flush(local);
        continue;
      }
      flush(local);
      if (stop == kDrain) break;
      sleepers_.fetch_add(1, std::memory_order_relaxed);
      lane.sleeping.store(1, std::memory_order_relaxed);
      uint32_t seen = lane.word.load(std::memory_order_acquire);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (lane.ring.empty_approx() && shared_.empty_approx() &&
          stop_.load(std::memory_order_relaxed) == kRunning) {
        futex_wait(lane.word, seen);
      }
      lane.sleeping.store(0, std::memory_order_relaxed);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    flush(local);
  }

  Handler handler_;
  WakeFn wake_;
  const size_t capacity_;
  const size_t result_batch_;
  MpmcRing<Job> shared_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  MpscQueue<Result> results_;
  alignas(64) std::atomic<uint64_t> gate_{0};  // kClosed | submitters between gate and push
  std::atomic<size_t> in_flight_{0};
  std::atomic<size_t> next_wake_{0};
  // Workers between "found no work" and "woke up": lets enqueue() skip the lane scan.
  alignas(64) std::atomic<uint32_t> sleepers_{0};
  std::atomic<int> stop_{kRunning};
  std::atomic<uint64_t> submitted_{0}, rejected_{0}, completed_{0}, cancelled_{0};
  bool shut_down_ = false;  // owner thread only
};

}  // namespace ringlay::verify
