// SPDX-License-Identifier: MIT
#include "io/ring.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/assert.h"

namespace ringlay::io {

const char* name(TaskRunMode mode) {
  switch (mode) {
    case TaskRunMode::defer: return "single_issuer_defer_taskrun";
    case TaskRunMode::coop: return "coop_taskrun";
    case TaskRunMode::plain: return "plain";
  }
  return "plain";
}

namespace {

// What an operator can do about each setup errno (peers.md "D").
const char* setup_hint(int err) {
  switch (err) {
    case EPERM: return "blocked by seccomp or kernel.io_uring_disabled";
    case ENOSYS: return "kernel built without io_uring";
    case EINVAL: return "kernel too old for the io_uring features ringlay needs (6.1+)";
    case ENOMEM: return "out of memory or RLIMIT_MEMLOCK too low";
    case EMFILE:
    case ENFILE: return "out of file descriptors";
    case EOPNOTSUPP: return "kernel lacks an io_uring feature ringlay needs (6.1+)";
    default: return "unexpected error";
  }
}

// RINGLAY_URING_FAIL=EPERM|ENOSYS|EINVAL: fail setup with that errno without calling the
// kernel, so tests can exercise `--io auto` fallback and `--io uring` failure.
int injected_setup_failure() {
  const char* v = std::getenv("RINGLAY_URING_FAIL");
  if (v == nullptr || *v == '\0') return 0;
  int err = errno_from_name(v);
  return err != 0 ? err : EINVAL;
}

constexpr unsigned kBaseFlags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;

struct Attempt {
  unsigned flags;
  TaskRunMode mode;
};
constexpr Attempt kAttempts[] = {
    {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, TaskRunMode::defer},
    {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, TaskRunMode::coop},
    {0, TaskRunMode::plain},
};

}  // namespace

void set_ring_error(RingError* error, const char* step, int err) {
  if (error == nullptr) return;
  if (err < 0) err = -err;
  error->err = err;
  error->code = errno_name(err);
  error->message = std::string(step) + " failed: " + error->code + " (" + setup_hint(err) + ")";
}

std::unique_ptr<Ring> Ring::create(const RingOptions& options, RingError* error) {
  if (int injected = injected_setup_failure(); injected != 0) {
    set_ring_error(error, "io_uring_setup", injected);
    return nullptr;
  }
  std::unique_ptr<Ring> ring(new Ring());
  io_uring_params p;
  int fd = -EINVAL;
  for (const Attempt& a : kAttempts) {
    std::memset(&p, 0, sizeof p);
    p.flags = kBaseFlags | a.flags | (options.disabled ? IORING_SETUP_R_DISABLED : 0);
    p.cq_entries = options.cq_entries;
    fd = sys::io_uring_setup(options.sq_entries, &p);
    // Only EINVAL (an unknown flag on an older kernel) is worth another attempt; EPERM,
    // ENOSYS and ENOMEM would fail the same way without the flag.
    if (fd != -EINVAL) {
      ring->mode_ = a.mode;
      break;
    }
  }
  if (fd < 0) {
    set_ring_error(error, "io_uring_setup", fd);
    return nullptr;
  }
  ring->fd_.reset(fd);
  ring->features_ = p.features;
  if (int r = ring->map_rings(p); r < 0) {
    set_ring_error(error, "io_uring mmap", r);
    return nullptr;
  }
  // NODROP: completions never vanish (the close-after-last-completion rule depends on it).
  // FAST_POLL: socket operations wait on poll instead of occupying io-wq threads.
  // SUBMIT_STABLE: msghdr/iovec are copied at submission.
  constexpr uint32_t kNeeded = IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL | IORING_FEAT_SUBMIT_STABLE |
                               IORING_FEAT_SINGLE_MMAP;
  if ((p.features & kNeeded) != kNeeded) {
    set_ring_error(error, "io_uring feature check", EOPNOTSUPP);
    return nullptr;
  }
  return ring;
}

Ring::~Ring() = default;

int Ring::map_rings(const io_uring_params& p) {
  sq_entries_ = p.sq_entries;
  cq_entries_ = p.cq_entries;
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  // SINGLE_MMAP (checked by the caller): one mapping serves both rings.
  size_t size = sq_size > cq_size ? sq_size : cq_size;
  if (int r = sq_map_.map_fd(fd_.get(), size, IORING_OFF_SQ_RING); r < 0) return r;
  if (int r = sqe_map_.map_fd(fd_.get(), p.sq_entries * sizeof(io_uring_sqe), IORING_OFF_SQES); r < 0) {
    return r;
  }
  uint8_t* sq = sq_map_.data();
  sq_head_ = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
  sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  sq_flags_ = reinterpret_cast<unsigned*>(sq + p.sq_off.flags);
  sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  sqes_ = reinterpret_cast<io_uring_sqe*>(sqe_map_.data());
  // Identity indirection: slot i of the array names SQE i, set once.
  for (unsigned i = 0; i < p.sq_entries; ++i) sq_array_[i] = i;
  local_tail_ = *sq_tail_;

  cq_head_ = reinterpret_cast<unsigned*>(sq + p.cq_off.head);
  cq_tail_ = reinterpret_cast<unsigned*>(sq + p.cq_off.tail);
  cq_overflow_ = reinterpret_cast<unsigned*>(sq + p.cq_off.overflow);
  cq_mask_ = *reinterpret_cast<unsigned*>(sq + p.cq_off.ring_mask);
  cqes_ = reinterpret_cast<io_uring_cqe*>(sq + p.cq_off.cqes);
  return 0;
}

int Ring::enable() {
  int r = sys::io_uring_register(fd_.get(), IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  return r < 0 ? r : 0;
}

unsigned Ring::sq_free() const {
  unsigned head = __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
  return sq_entries_ - (local_tail_ - head);
}

io_uring_sqe* Ring::next_ring_sqe() {
  io_uring_sqe* sqe = &sqes_[local_tail_ & sq_mask_];
  ++local_tail_;
  std::memset(sqe, 0, sizeof *sqe);
  return sqe;
}

io_uring_sqe* Ring::get_sqe() {
  if (backlog_.empty() && sq_free() == 0) flush();
  if (backlog_.empty() && sq_free() > 0) return next_ring_sqe();
  ++backlogged_;
  backlog_.emplace_back();
  std::memset(&backlog_.back(), 0, sizeof(io_uring_sqe));
  return &backlog_.back();
}

void Ring::get_sqe_pair(io_uring_sqe** first, io_uring_sqe** second) {
  if (backlog_.empty() && sq_free() < 2) flush();
  if (backlog_.empty() && sq_free() >= 2) {
    *first = next_ring_sqe();
    *second = next_ring_sqe();
    return;
  }
  backlogged_ += 2;
  backlog_.resize(backlog_.size() + 2);
  *first = &backlog_[backlog_.size() - 2];
  *second = &backlog_[backlog_.size() - 1];
  std::memset(*first, 0, 2 * sizeof(io_uring_sqe));
}

// Moves backlog SQEs into the ring, a whole linked chain at a time.
void Ring::drain_backlog() {
  size_t i = 0;
  while (i < backlog_.size()) {
    size_t chain = 1;
    while (i + chain - 1 < backlog_.size() && (backlog_[i + chain - 1].flags & IOSQE_IO_LINK) != 0) ++chain;
    RL_ASSERT(i + chain <= backlog_.size());
    if (sq_free() < chain) break;
    for (size_t k = 0; k < chain; ++k) *next_ring_sqe() = backlog_[i + k];
    i += chain;
  }
  backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(i));
}

int Ring::enter(unsigned to_submit, unsigned wait_nr, unsigned flags) {
  ++enters_;
  int r = sys::io_uring_enter(fd_.get(), to_submit, wait_nr, flags, nullptr, 0);
  if (r > 0) submissions_ += static_cast<unsigned>(r);
  return r;
}

int Ring::flush() {
  drain_backlog();
  __atomic_store_n(sq_tail_, local_tail_, __ATOMIC_RELEASE);
  unsigned pending = local_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
  if (pending == 0) return 0;
  for (;;) {
    int r = enter(pending, 0, 0);
    if (r == -EINTR) continue;
    return r;
  }
}

int Ring::submit_and_wait(unsigned wait_nr) {
  drain_backlog();
  __atomic_store_n(sq_tail_, local_tail_, __ATOMIC_RELEASE);
  unsigned pending = local_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
  // Already-posted completions make waiting pointless.
  if (ready() > 0) wait_nr = 0;
  int r = enter(pending, wait_nr, IORING_ENTER_GETEVENTS);
  // EINTR: a signal (profilers, debuggers) interrupted the wait; the caller's next turn
  // simply enters again. ETIME cannot happen without EXT_ARG.
  if (r == -EINTR) return 0;
  return r;
}

unsigned Ring::ready() const {
  return __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE) - *cq_head_;
}

bool Ring::cq_overflowed() const {
  return (__atomic_load_n(sq_flags_, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW) != 0;
}

}  // namespace ringlay::io
