// SPDX-License-Identifier: MIT
// The ring itself: probe, the failure hook, NOPs through the SQ/CQ, the SQE backlog when
// the SQ is full, and completions that overflow the CQ.
#include <cstdlib>
#include <cstring>

#include "io/probe.h"
#include "io/ring.h"
#include "io_test_util.h"

using namespace ringlay::io;

namespace {

// Restores RINGLAY_URING_FAIL on scope exit.
struct FailHook {
  explicit FailHook(const char* value) { setenv("RINGLAY_URING_FAIL", value, 1); }
  ~FailHook() { unsetenv("RINGLAY_URING_FAIL"); }
};

void submit_nops(Ring& ring, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    io_uring_sqe* sqe = ring.get_sqe();
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = 1000 + i;
  }
}

}  // namespace

TEST(io_probe_reports_available) {
  if (!test_util::uring_usable()) return;
  ProbeResult p = probe_uring();
  CHECK(p.ok);
  CHECK(p.message.find("io_uring available") == 0);
}

TEST(io_probe_fail_hook_eperm) {
  FailHook hook("EPERM");
  ProbeResult p = probe_uring();
  CHECK(!p.ok);
  CHECK_EQ(p.err, EPERM);
  CHECK_EQ(p.code, std::string("EPERM"));
  CHECK_EQ(p.message, std::string("io_uring_setup failed: EPERM (blocked by seccomp or kernel.io_uring_disabled)"));
}

TEST(io_probe_fail_hook_enosys_einval) {
  {
    FailHook hook("ENOSYS");
    ProbeResult p = probe_uring();
    CHECK(!p.ok);
    CHECK_EQ(p.code, std::string("ENOSYS"));
  }
  {
    FailHook hook("EINVAL");
    RingError err;
    CHECK(Ring::create(RingOptions{}, &err) == nullptr);
    CHECK_EQ(err.err, EINVAL);
  }
}

TEST(io_ring_nops_complete) {
  if (!test_util::uring_usable()) return;
  RingError err;
  RingOptions o;
  o.sq_entries = 16;
  o.cq_entries = 64;
  o.disabled = false;
  auto ring = Ring::create(o, &err);
  REQUIRE(ring != nullptr);
  const char* missing = nullptr;
  CHECK_EQ(check_opcodes(*ring, &missing), 0);
  submit_nops(*ring, 10);
  REQUIRE(ring->submit_and_wait(10) >= 0);
  unsigned seen = 0;
  uint64_t sum = 0;
  ring->reap([&](const io_uring_cqe& cqe) {
    ++seen;
    sum += cqe.user_data;
    CHECK_EQ(cqe.res, 0);
  });
  CHECK_EQ(seen, 10u);
  CHECK_EQ(sum, uint64_t{10 * 1000 + 45});
}

TEST(io_ring_sq_full_flushes_and_backlogs) {
  if (!test_util::uring_usable()) return;
  RingError err;
  RingOptions o;
  o.sq_entries = 4;
  o.cq_entries = 256;
  o.disabled = false;
  auto ring = Ring::create(o, &err);
  REQUIRE(ring != nullptr);
  // 100 NOPs through a 4-entry SQ: get_sqe flushes whenever the SQ fills.
  submit_nops(*ring, 100);
  unsigned seen = 0;
  for (int i = 0; i < 100 && seen < 100; ++i) {
    REQUIRE(ring->submit_and_wait(1) >= 0);
    seen += ring->reap([](const io_uring_cqe&) {});
  }
  CHECK_EQ(seen, 100u);
  CHECK_EQ(ring->backlog_size(), size_t{0});
}

TEST(io_ring_cq_overflow_is_recovered) {
  if (!test_util::uring_usable()) return;
  RingError err;
  RingOptions o;
  o.sq_entries = 64;
  o.cq_entries = 64;
  o.disabled = false;
  auto ring = Ring::create(o, &err);
  REQUIRE(ring != nullptr);
  // 4 × 64 NOPs without reaping: the CQ (64) overflows into the kernel's list (NODROP).
  for (int round = 0; round < 4; ++round) {
    submit_nops(*ring, 64);
    REQUIRE(ring->flush() >= 0);
  }
  unsigned seen = 0;
  bool saw_overflow = false;
  for (int i = 0; i < 50 && seen < 256; ++i) {
    saw_overflow |= ring->cq_overflowed();
    REQUIRE(ring->submit_and_wait(0) >= 0);
    seen += ring->reap([](const io_uring_cqe&) {});
  }
  CHECK_EQ(seen, 256u);
  CHECK(saw_overflow);
  CHECK_EQ(ring->dropped_cqes(), 0u);
}
