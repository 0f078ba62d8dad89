// SPDX-License-Identifier: MIT
#include "io/buf_ring.h"

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "util/assert.h"

namespace ringlay::io {

std::unique_ptr<BufRing> BufRing::create(Ring& ring, const BufRingOptions& options, RingError* error) {
  RL_ASSERT(options.count > 0 && options.count <= 32768 && (options.count & (options.count - 1)) == 0);
  RL_ASSERT(options.buffer_size > 0);
  std::unique_ptr<BufRing> br(new BufRing());
  br->ring_fd_ = ring.fd();
  br->group_id_ = options.group_id;
  br->count_ = options.count;
  br->buffer_size_ = options.buffer_size;
  long page = sysconf(_SC_PAGESIZE);
  size_t ring_bytes = options.count * sizeof(io_uring_buf);
  ring_bytes = (ring_bytes + page - 1) / page * page;
  if (int r = br->ring_map_.map_anonymous(ring_bytes); r < 0) {
    set_ring_error(error, "buffer ring mmap", r);
    return nullptr;
  }
  if (int r = br->buffers_.map_anonymous(size_t{options.count} * options.buffer_size); r < 0) {
    set_ring_error(error, "receive buffers mmap", r);
    return nullptr;
  }
  static_assert(sizeof(io_uring_buf) == 16 && offsetof(io_uring_buf, resv) == 14);
  br->entries_ = reinterpret_cast<io_uring_buf*>(br->ring_map_.data());
  br->tail_ = &br->entries_[0].resv;
  br->held_bits_ = std::make_unique<uint8_t[]>((options.count + 7) / 8);
  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.ring_addr = reinterpret_cast<uint64_t>(br->entries_);
  reg.ring_entries = options.count;
  reg.bgid = options.group_id;
  int r = sys::io_uring_register(ring.fd(), IORING_REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) {
    // EINVAL here means a kernel before 5.19 (no buffer rings).
    set_ring_error(error, "IORING_REGISTER_PBUF_RING", r);
    return nullptr;
  }
  for (uint32_t i = 0; i < options.count; ++i) br->add(static_cast<uint16_t>(i));
  br->available_ = options.count;
  br->publish();
  return br;
}

BufRing::~BufRing() {
  if (entries_ == nullptr) return;
  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.bgid = group_id_;
  // The ring fd may already be closed when the whole ring goes away; unregistering is then
  // moot, and the error is ignored on purpose.
  sys::io_uring_register(ring_fd_, IORING_UNREGISTER_PBUF_RING, &reg, 1);
}

std::span<const uint8_t> BufRing::bytes(uint16_t bid, uint32_t length) const {
  RL_ASSERT(bid < count_ && length <= buffer_size_);
  return {buffers_.data() + size_t{bid} * buffer_size_, length};
}

void BufRing::add(uint16_t bid) {
  io_uring_buf* b = &entries_[local_tail_ & (count_ - 1)];
  b->addr = reinterpret_cast<uint64_t>(buffers_.data() + size_t{bid} * buffer_size_);
  b->len = buffer_size_;
  b->bid = bid;
  ++local_tail_;
}

void BufRing::taken(uint16_t bid) {
  RL_ASSERT(bid < count_);
  uint8_t mask = static_cast<uint8_t>(1u << (bid & 7));
  RL_ASSERT((held_bits_[bid >> 3] & mask) == 0);
  held_bits_[bid >> 3] |= mask;
  RL_ASSERT(available_ > 0);
  --available_;
}

void BufRing::recycle(uint16_t bid) {
  RL_ASSERT(bid < count_);
  uint8_t mask = static_cast<uint8_t>(1u << (bid & 7));
  RL_ASSERT((held_bits_[bid >> 3] & mask) != 0);
  held_bits_[bid >> 3] &= static_cast<uint8_t>(~mask);
  add(bid);
  ++available_;
}

void BufRing::publish() {
  // Release: the kernel must see the entries before the tail that covers them.
  __atomic_store_n(tail_, local_tail_, __ATOMIC_RELEASE);
}

}  // namespace ringlay::io
