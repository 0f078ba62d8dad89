// SPDX-License-Identifier: MIT
// BufRing: a provided-buffer ring (IORING_REGISTER_PBUF_RING) that multishot receives pick
// their buffers from. The kernel takes a buffer per completion; the loop hands its bytes to
// the connection's protocol core and recycles the buffer once the core has consumed them.
// When the ring runs dry the kernel ends multishot receives with ENOBUFS; the loop parks
// those connections and re-arms them once enough buffers are back (available() below).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "io/ring.h"
#include "io/sys.h"

namespace ringlay::io {

struct BufRingOptions {
  uint16_t group_id = 0;
  uint32_t count = 1024;        // power of two, at most 32768
  uint32_t buffer_size = 16384;
};

class BufRing {
 public:
  // Registers the ring with `ring`; nullptr and `error` filled on failure.
  static std::unique_ptr<BufRing> create(Ring& ring, const BufRingOptions& options, RingError* error);
  ~BufRing();
  BufRing(const BufRing&) = delete;
  BufRing& operator=(const BufRing&) = delete;

  uint16_t group_id() const { return group_id_; }
  uint32_t count() const { return count_; }
  uint32_t buffer_size() const { return buffer_size_; }

  // The bytes of buffer `bid` as the kernel filled them (`length` from the CQE).
  std::span<const uint8_t> bytes(uint16_t bid, uint32_t length) const;
  // The kernel handed buffer `bid` to a completion.
  void taken(uint16_t bid);
  // Gives buffer `bid` back to the kernel. Published at the next publish().
  void recycle(uint16_t bid);
  // Makes recycled buffers visible to the kernel (one release store per loop turn).
  void publish();
  // Buffers the kernel can still fill.
  uint32_t available() const { return available_; }
  // Buffers held by user space (taken and not recycled).
  uint32_t held() const { return count_ - available_; }

 private:
  BufRing() = default;
  void add(uint16_t bid);

  int ring_fd_ = -1;
  uint16_t group_id_ = 0;
  uint32_t count_ = 0;
  uint32_t buffer_size_ = 0;
  uint32_t available_ = 0;
  uint16_t local_tail_ = 0;
  Mapping ring_map_;
  Mapping buffers_;
  // The ring as an array of io_uring_buf, and its tail (overlaid on entry 0's resv field).
  // Not through struct io_uring_buf_ring: its flexible array is declared with an empty
  // struct in front, which is zero bytes in C but one byte (padded to eight) in C++, so
  // `bufs` would sit 8 bytes past where the kernel reads it.
  io_uring_buf* entries_ = nullptr;
  uint16_t* tail_ = nullptr;
  // Guards against recycling a buffer twice, which would hand the kernel one buffer for two
  // receives. One bit per buffer.
  std::unique_ptr<uint8_t[]> held_bits_;
};

}  // namespace ringlay::io
