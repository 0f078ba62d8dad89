// SPDX-License-Identifier: MIT
#include "verify/mpmc_ring.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "harness.h"

using ringlay::verify::MpmcRing;

TEST(mpmc_ring_fifo_full_and_empty) {
  MpmcRing<std::unique_ptr<int>> ring(3);  // rounded up to 4
  CHECK_EQ(ring.capacity(), size_t{4});
  CHECK(ring.empty_approx());
  CHECK(!ring.try_pop().has_value());
  for (int i = 0; i < 4; ++i) CHECK(ring.try_push(std::make_unique<int>(i)));
  auto extra = std::make_unique<int>(99);
  CHECK(!ring.try_push(std::move(extra)));
  CHECK(extra != nullptr && *extra == 99);  // refused values stay with the caller
  CHECK(!ring.empty_approx());
  for (int lap = 0; lap < 3; ++lap) {  // wrap around several times
    for (int i = 0; i < 4; ++i) {
      auto v = ring.try_pop();
      REQUIRE(v.has_value());
      CHECK_EQ(**v, lap * 4 + i);
      CHECK(ring.try_push(std::make_unique<int>((lap + 1) * 4 + i)));
    }
  }
}

TEST(mpmc_ring_destroys_what_is_left) {
  auto counter = std::make_shared<int>(0);
  {
    MpmcRing<std::shared_ptr<int>> ring(8);
    for (int i = 0; i < 5; ++i) CHECK(ring.try_push(std::shared_ptr<int>(counter)));
    CHECK_EQ(counter.use_count(), 6L);
  }
  CHECK_EQ(counter.use_count(), 1L);
}

TEST(mpmc_ring_many_producers_many_consumers) {
  MpmcRing<uint64_t> ring(64);
  constexpr int kProducers = 3, kConsumers = 3;
  constexpr uint64_t kPerProducer = 20000;
  std::atomic<uint64_t> sum{0}, count{0};
  std::atomic<int> producers_left{kProducers};
  // Per producer, values must come out in the order that producer pushed them *per consumer*.
  std::atomic<int> order_errors{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (uint64_t i = 1; i <= kPerProducer; ++i) {
        uint64_t v = (static_cast<uint64_t>(p) << 32) | i;
        while (!ring.try_push(std::move(v))) std::this_thread::yield();
      }
      producers_left.fetch_sub(1);
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      uint64_t last[kProducers] = {};
      for (;;) {
        auto v = ring.try_pop();
        if (!v) {
          if (producers_left.load() == 0 && ring.empty_approx()) {
            if (!(v = ring.try_pop())) break;
          } else {
            std::this_thread::yield();
            continue;
          }
        }
        uint32_t p = static_cast<uint32_t>(*v >> 32);
        uint64_t i = *v & 0xffffffffu;
        if (i <= last[p]) order_errors.fetch_add(1);
        last[p] = i;
        sum.fetch_add(i);
        count.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK_EQ(count.load(), kProducers * kPerProducer);
  CHECK_EQ(sum.load(), kProducers * (kPerProducer * (kPerProducer + 1) / 2));
  CHECK_EQ(order_errors.load(), 0);
}
