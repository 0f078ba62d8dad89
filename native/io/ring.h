// SPDX-License-Identifier: MIT
// Ring: one io_uring instance set up with raw syscalls and mmap. It knows nothing about
// sockets; the loop (io/loop.h) prepares SQEs and dispatches CQEs.
//
// Setup tries SINGLE_ISSUER|DEFER_TASKRUN first (completions are posted only when the ring
// thread enters the kernel, so no task-work interrupts its other work), then
// COOP_TASKRUN|TASKRUN_FLAG, then neither. The ring is created disabled (R_DISABLED) so the
// JS thread can set it up, register buffers and report errors synchronously, and the ring
// thread becomes its single issuer by calling enable().
//
// Submission: get_sqe() never fails. When the SQ is full it first flushes the SQ to the
// kernel; if the kernel does not take them (EAGAIN/EBUSY under memory pressure) the SQE goes
// to a FIFO backlog that later flushes drain, linked chains kept whole.
#pragma once

#include <linux/io_uring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/sys.h"

namespace ringlay::io {

enum class TaskRunMode : uint8_t { defer, coop, plain };
const char* name(TaskRunMode mode);

struct RingOptions {
  unsigned sq_entries = 2048;
  unsigned cq_entries = 16384;
  // Create disabled; the submitting thread calls enable(). Off for throwaway probe rings.
  bool disabled = true;
};

// Why a ring could not be set up: the errno (positive), its name and an operator-facing
// message saying what to do ("io_uring_setup failed: EPERM (blocked by seccomp or ...)").
struct RingError {
  int err = 0;
  std::string code;
  std::string message;
};

// Fills `error` for a failed step ("io_uring_setup", "mmap", ...) with the hint for `err`.
void set_ring_error(RingError* error, const char* step, int err);

class Ring {
 public:
  // nullptr (and `error` filled) when the kernel refuses. Honours RINGLAY_URING_FAIL.
  static std::unique_ptr<Ring> create(const RingOptions& options, RingError* error);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Makes the calling thread the ring's submitter (IORING_REGISTER_ENABLE_RINGS); -errno.
  int enable();

  int fd() const { return fd_.get(); }
  TaskRunMode mode() const { return mode_; }
  uint32_t features() const { return features_; }
  unsigned sq_entries() const { return sq_entries_; }
  unsigned cq_entries() const { return cq_entries_; }

  // A zeroed SQE to fill in. Valid until the next get_sqe/get_sqe_pair/flush call.
  io_uring_sqe* get_sqe();
  // Two SQEs that are guaranteed to reach the kernel in one submission (a linked pair).
  void get_sqe_pair(io_uring_sqe** first, io_uring_sqe** second);

  // Hands queued SQEs to the kernel without waiting. Returns how many it took, or -errno
  // (EAGAIN/EBUSY: try again after reaping; anything else is unexpected).
  int flush();
  // The loop's one io_uring_enter per turn: submit everything queued and wait for at least
  // `wait_nr` completions. Returns -errno on failure, EINTR folded into 0.
  int submit_and_wait(unsigned wait_nr);

  // Completions ready in the CQ ring, without entering the kernel.
  unsigned ready() const;
  // Calls f(const io_uring_cqe&) for every ready completion, then frees their slots.
  template <typename F>
  unsigned reap(F&& f) {
    unsigned head = *cq_head_;
    unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
    unsigned n = 0;
    for (; head != tail; ++head, ++n) f(cqes_[head & cq_mask_]);
    __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
    completions_ += n;
    return n;
  }
  // The kernel holds completions that did not fit in the CQ ring: enter with GETEVENTS soon.
  bool cq_overflowed() const;
  // Completions the kernel had to drop (only without FEAT_NODROP or when it ran out of
  // memory). Non-zero means lost completions: the loop treats it as fatal.
  unsigned dropped_cqes() const { return __atomic_load_n(cq_overflow_, __ATOMIC_RELAXED); }

  size_t backlog_size() const { return backlog_.size(); }
  // SQEs that ever had to wait in the backlog (a sign the SQ is too small for the load).
  uint64_t backlogged() const { return backlogged_; }
  uint64_t submissions() const { return submissions_; }
  uint64_t completions() const { return completions_; }
  uint64_t enters() const { return enters_; }

 private:
  Ring() = default;
  int map_rings(const io_uring_params& p);
  unsigned sq_free() const;
  io_uring_sqe* next_ring_sqe();
  void drain_backlog();
  int enter(unsigned to_submit, unsigned wait_nr, unsigned flags);

  UniqueFd fd_;
  Mapping sq_map_, cq_map_, sqe_map_;
  TaskRunMode mode_ = TaskRunMode::plain;
  uint32_t features_ = 0;
  unsigned sq_entries_ = 0, cq_entries_ = 0;

  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_flags_ = nullptr;
  unsigned* sq_array_ = nullptr;
  unsigned sq_mask_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  unsigned local_tail_ = 0;  // SQEs filled in but not yet published to the kernel

  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned* cq_overflow_ = nullptr;
  unsigned cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;

  std::vector<io_uring_sqe> backlog_;
  uint64_t submissions_ = 0, completions_ = 0, enters_ = 0, backlogged_ = 0;
};

}  // namespace ringlay::io
