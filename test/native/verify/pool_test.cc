// SPDX-License-Identifier: MIT
#include "verify/pool.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "harness.h"
#include "util/shared_bytes.h"
#include "verify/futex.h"

using ringlay::BytesRef;
using ringlay::verify::futex_wait;
using ringlay::verify::futex_wake;
using ringlay::verify::Pool;
using ringlay::verify::PoolOptions;
using ringlay::verify::StopMode;

namespace {

// A gate the test opens to let blocked jobs finish.
struct Gate {
  std::atomic<uint32_t> open{0};
  void release() {
    open.store(1);
    futex_wake(open, INT32_MAX);
  }
  void wait() {
    while (open.load() == 0) futex_wait(open, 0, 10);
  }
};

struct TestJob {
  uint32_t producer = 0;
  uint64_t key = 0;
  uint64_t seq = 0;
  BytesRef payload;      // checks that jobs release what they hold
  Gate* gate = nullptr;  // when set, the job blocks until the gate opens
  std::atomic<int>* running = nullptr;
};

struct TestResult {
  uint32_t producer = 0;
  uint64_t key = 0;
  uint64_t seq = 0;
  size_t payload_size = 0;
  std::thread::id worker;
  bool cancelled = false;
};

struct TestHandler {
  using Job = TestJob;
  using Result = TestResult;
  struct Scratch {
    uint64_t jobs = 0;  // per-worker state: only this worker touches it
  };
  Result run(Job& job, Scratch& scratch) const {
    ++scratch.jobs;
    if (job.running != nullptr) job.running->fetch_add(1);
    if (job.gate != nullptr) job.gate->wait();
    return {job.producer, job.key, job.seq, job.payload.size(), std::this_thread::get_id(), false};
  }
  Result cancel(Job& job) const {
    return {job.producer, job.key, job.seq, job.payload.size(), {}, true};
  }
};

// The owner side: a futex word the wake callback bumps, as the ring thread's eventfd would.
struct Owner {
  std::atomic<uint32_t> word{0};
  std::atomic<uint64_t> wakes{0};
  std::function<void()> wake_fn() {
    return [this] {
      wakes.fetch_add(1);
      word.fetch_add(1);
      futex_wake(word, 1);
    };
  }
  // Takes results until `want` have arrived (or ~10 s passed).
  template <typename P>
  void collect(P& pool, std::vector<TestResult>& all, size_t want) {
    std::vector<TestResult> batch;
    for (int idle = 0; all.size() < want && idle < 1000;) {
      uint32_t seen = word.load();
      if (pool.take_results(batch) == 0) {
        futex_wait(word, seen, 10);
        ++idle;
        continue;
      }
      idle = 0;
      all.insert(all.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    }
  }
};

}  // namespace

TEST(pool_many_producers_every_job_once) {
  Owner owner;
  Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 3, .capacity = 64}, owner.wake_fn());
  CHECK_EQ(pool.threads(), 3u);
  constexpr int kProducers = 4, kPerProducer = 2000;
  std::atomic<uint64_t> refused{0};
  BytesRef payload = BytesRef::copy_of("frame bytes");
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (uint64_t i = 0; i < kPerProducer; ++i) {
        TestJob job{static_cast<uint32_t>(p), 0, i, payload};
        // Backpressure: a refused job is still ours; retry once the owner drained some.
        while (!pool.submit(std::move(job))) {
          refused.fetch_add(1);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<TestResult> all;
  owner.collect(pool, all, kProducers * kPerProducer);
  for (auto& t : producers) t.join();
  REQUIRE(all.size() == size_t{kProducers * kPerProducer});
  std::set<std::pair<uint32_t, uint64_t>> seen;
  std::set<std::thread::id> workers;
  for (const auto& r : all) {
    CHECK(!r.cancelled);
    CHECK_EQ(r.payload_size, size_t{11});
    seen.insert({r.producer, r.seq});
    workers.insert(r.worker);
  }
  CHECK_EQ(seen.size(), all.size());  // no duplicates, none missing
  CHECK(workers.size() >= 2);
  // Wakes happen per batch, not per result.
  CHECK(owner.wakes.load() >= 1 && owner.wakes.load() <= all.size());
  // Capacity 64 with 4 fast producers: the queue must have pushed back at some point.
  CHECK(refused.load() > 0);
  auto st = pool.stats();
  CHECK_EQ(st.submitted, uint64_t{kProducers * kPerProducer});
  CHECK_EQ(st.completed, uint64_t{kProducers * kPerProducer});
  CHECK_EQ(st.in_flight, size_t{0});
  pool.shutdown(StopMode::drain);
  // Every job and result released its reference.
  CHECK_EQ(payload.get()->refs(), 1u);
}

TEST(pool_ordered_submission_keeps_per_key_order) {
  Owner owner;
  Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 4, .capacity = 256}, owner.wake_fn());
  constexpr int kProducers = 3, kKeysPerProducer = 16, kPerKey = 150;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      // Each producer owns its keys (as a ring thread owns its hosts' connections) and
      // interleaves them.
      for (uint64_t i = 0; i < kPerKey; ++i) {
        for (uint64_t k = 0; k < kKeysPerProducer; ++k) {
          uint64_t key = static_cast<uint64_t>(p) * 1000 + k;
          TestJob job{static_cast<uint32_t>(p), key, i};
          while (!pool.submit_ordered(std::move(job), key)) std::this_thread::yield();
        }
      }
    });
  }
  std::vector<TestResult> all;
  size_t want = size_t{kProducers} * kKeysPerProducer * kPerKey;
  owner.collect(pool, all, want);
  for (auto& t : producers) t.join();
  REQUIRE(all.size() == want);
  std::map<uint64_t, uint64_t> next;  // key -> expected seq
  std::map<uint64_t, std::thread::id> worker_of;
  std::set<std::thread::id> workers;
  int out_of_order = 0, moved = 0;
  for (const auto& r : all) {
    if (r.seq != next[r.key]) ++out_of_order;
    next[r.key] = r.seq + 1;
    auto [it, fresh] = worker_of.emplace(r.key, r.worker);
    if (!fresh && it->second != r.worker) ++moved;
    workers.insert(r.worker);
  }
  CHECK_EQ(out_of_order, 0);
  CHECK_EQ(moved, 0);                   // one key, one worker
  CHECK(workers.size() >= 2);           // but the keys spread over workers
  CHECK_EQ(next.size(), size_t{kProducers * kKeysPerProducer});
}

TEST(pool_queue_full_counts_untaken_results) {
  Owner owner;
  Gate gate;
  std::atomic<int> running{0};
  Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 2, .capacity = 6}, owner.wake_fn());
  for (uint64_t i = 0; i < 6; ++i) {
    TestJob job{0, 0, i, {}, &gate, &running};
    CHECK(pool.submit(std::move(job)));
  }
  TestJob extra{0, 0, 99, BytesRef::copy_of("x"), &gate, &running};
  CHECK(!pool.submit(std::move(extra)));
  // A refused job is left with the caller, untouched.
  CHECK_EQ(extra.payload.size(), size_t{1});
  CHECK(!pool.submit_ordered(std::move(extra), 5));
  CHECK_EQ(pool.in_flight(), size_t{6});
  gate.release();
  // Finished but not yet taken back: still counted, so still full.
  for (int i = 0; i < 5000 && pool.results_ready() < 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK_EQ(pool.results_ready(), size_t{6});
  CHECK_EQ(pool.stats().completed, uint64_t{6});
  CHECK(!pool.submit(std::move(extra)));
  std::vector<TestResult> got;
  CHECK_EQ(pool.take_results(got), size_t{6});
  CHECK_EQ(pool.in_flight(), size_t{0});
  CHECK(pool.submit(std::move(extra)));
  std::vector<TestResult> rest;
  owner.collect(pool, rest, 1);
  CHECK(rest.size() == 1 && rest[0].seq == 99);
  CHECK_EQ(pool.stats().rejected, uint64_t{3});
}

TEST(pool_shutdown_drain_runs_everything_accepted) {
  Owner owner;
  Gate gate;
  std::atomic<int> running{0};
  Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 2, .capacity = 100}, owner.wake_fn());
  for (uint64_t i = 0; i < 50; ++i) {
    TestJob job{0, i % 7, i, {}, i < 2 ? &gate : nullptr, &running};
    if (i % 2 == 0) {
      CHECK(pool.submit(std::move(job)));
    } else {
      CHECK(pool.submit_ordered(std::move(job), i % 7));
    }
  }
  // Open the gate from another thread while shutdown() is draining.
  std::thread opener([&] {
    while (running.load() == 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.release();
  });
  pool.shutdown(StopMode::drain);
  opener.join();
  std::vector<TestResult> got;
  pool.take_results(got);
  CHECK_EQ(got.size(), size_t{50});
  CHECK(std::none_of(got.begin(), got.end(), [](const TestResult& r) { return r.cancelled; }));
  TestJob late{0, 0, 1000};
  CHECK(!pool.submit(std::move(late)));
  pool.shutdown(StopMode::cancel);  // idempotent
}

TEST(pool_shutdown_cancel_with_jobs_in_flight) {
  Owner owner;
  Gate gate;
  std::atomic<int> running{0};
  BytesRef payload = BytesRef::copy_of("held by queued jobs");
  {
    Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 2, .capacity = 200}, owner.wake_fn());
    for (uint64_t i = 0; i < 120; ++i) {
      TestJob job{0, i, i, payload, &gate, &running};
      CHECK(i % 3 == 0 ? pool.submit_ordered(std::move(job), i) : pool.submit(std::move(job)));
    }
    // Both workers are now stuck inside a job; the other 118 wait in the queues.
    while (running.load() < 2) std::this_thread::yield();
    std::thread opener([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gate.release();
    });
    pool.shutdown(StopMode::cancel);
    opener.join();
    std::vector<TestResult> got;
    pool.take_results(got);
    CHECK_EQ(got.size(), size_t{120});
    size_t cancelled = std::count_if(got.begin(), got.end(), [](const TestResult& r) { return r.cancelled; });
    CHECK_EQ(got.size() - cancelled, size_t{2});  // only the two already running ran
    CHECK_EQ(pool.stats().cancelled, uint64_t{cancelled});
    std::set<uint64_t> seqs;
    for (const auto& r : got) seqs.insert(r.seq);
    CHECK_EQ(seqs.size(), size_t{120});
  }
  CHECK_EQ(payload.get()->refs(), 1u);
}

TEST(pool_destructor_cancels_without_explicit_shutdown) {
  Owner owner;
  BytesRef payload = BytesRef::copy_of("abc");
  {
    Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 1, .capacity = 1000}, owner.wake_fn());
    for (uint64_t i = 0; i < 1000; ++i) {
      TestJob job{0, 0, i, payload};
      CHECK(pool.submit(std::move(job)));
    }
  }  // results never taken: destroyed with the pool
  CHECK_EQ(payload.get()->refs(), 1u);
}

TEST(pool_idle_workers_sleep_and_wake) {
  Owner owner;
  Pool<TestHandler> pool(TestHandler{}, PoolOptions{.threads = 2, .capacity = 16}, owner.wake_fn());
  // Jobs trickle in with pauses long enough for every worker to go to sleep in between;
  // each must still be picked up (a lost wake-up would stall collect()).
  std::vector<TestResult> all;
  for (uint64_t i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    TestJob job{0, i, i};
    CHECK(i % 2 == 0 ? pool.submit(std::move(job)) : pool.submit_ordered(std::move(job), i));
    owner.collect(pool, all, i + 1);
    REQUIRE(all.size() == i + 1);
  }
  // Default thread count follows the affinity mask.
  CHECK(ringlay::verify::available_cpus() >= 1);
}
