// SPDX-License-Identifier: MIT
#include "io/probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "io/buf_ring.h"

namespace ringlay::io {
namespace {

struct NeededOp {
  uint8_t op;
  const char* name;
};

// Every opcode the loop submits (io/loop.cc). Keep in sync when adding one.
constexpr NeededOp kNeededOps[] = {
    {IORING_OP_NOP, "NOP"},
    {IORING_OP_ACCEPT, "ACCEPT"},
    {IORING_OP_CONNECT, "CONNECT"},
    {IORING_OP_RECV, "RECV"},
    {IORING_OP_SENDMSG, "SENDMSG"},
    {IORING_OP_READ, "READ"},
    {IORING_OP_TIMEOUT, "TIMEOUT"},
    {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
};

ProbeResult failed(const RingError& e) {
  ProbeResult r;
  r.ok = false;
  r.err = e.err;
  r.code = e.code;
  r.message = e.message;
  return r;
}

// One multishot receive into a provided buffer over a socket pair: the CQE must carry a
// buffer and say more completions follow. Kernels before 6.0 reject the multishot flag.
int try_multishot_recv(Ring& ring, BufRing& bufs) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
  UniqueFd a(sv[0]), b(sv[1]);
  io_uring_sqe* sqe = ring.get_sqe();
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = a.get();
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = bufs.group_id();
  sqe->user_data = 1;
  if (write(b.get(), "x", 1) != 1) return -errno;
  int r = ring.submit_and_wait(1);
  if (r < 0) return r;
  int result = -EOPNOTSUPP;
  ring.reap([&](const io_uring_cqe& cqe) {
    if (cqe.user_data != 1) return;
    bool good = cqe.res == 1 && (cqe.flags & IORING_CQE_F_BUFFER) != 0 && (cqe.flags & IORING_CQE_F_MORE) != 0;
    if (good) result = 0;
    else if (cqe.res < 0) result = cqe.res;
  });
  // Closing the socket pair ends the receive; the ring is torn down right after, so its
  // final completion needs no reaping.
  return result;
}

}  // namespace

int check_opcodes(const Ring& ring, const char** missing) {
  constexpr unsigned kOps = 256;
  size_t size = sizeof(io_uring_probe) + kOps * sizeof(io_uring_probe_op);
  std::unique_ptr<uint8_t[]> mem(new uint8_t[size]());
  auto* probe = reinterpret_cast<io_uring_probe*>(mem.get());
  int r = sys::io_uring_register(ring.fd(), IORING_REGISTER_PROBE, probe, kOps);
  if (r < 0) {
    *missing = "IORING_REGISTER_PROBE";
    return r;
  }
  for (const NeededOp& n : kNeededOps) {
    if (n.op > probe->last_op || (probe->ops[n.op].flags & IO_URING_OP_SUPPORTED) == 0) {
      *missing = n.name;
      return -EOPNOTSUPP;
    }
  }
  return 0;
}

ProbeResult probe_uring() {
  RingError err;
  RingOptions opts;
  opts.sq_entries = 8;
  opts.cq_entries = 16;
  opts.disabled = false;
  std::unique_ptr<Ring> ring = Ring::create(opts, &err);
  if (!ring) return failed(err);
  const char* missing = nullptr;
  if (int r = check_opcodes(*ring, &missing); r < 0) {
    set_ring_error(&err, "io_uring opcode probe", r);
    err.message += std::string(": missing ") + missing;
    return failed(err);
  }
  BufRingOptions bopts;
  bopts.count = 4;
  bopts.buffer_size = 64;
  std::unique_ptr<BufRing> bufs = BufRing::create(*ring, bopts, &err);
  if (!bufs) return failed(err);
  if (int r = try_multishot_recv(*ring, *bufs); r < 0) {
    set_ring_error(&err, "multishot recv probe", r);
    return failed(err);
  }
  bufs.reset();
  ProbeResult ok;
  ok.ok = true;
  ok.mode = ring->mode();
  ok.message = std::string("io_uring available (") + name(ring->mode()) + ")";
  return ok;
}

}  // namespace ringlay::io
