// SPDX-License-Identifier: MIT
// Bump allocator for one tree's nodes, entry arrays and keys. An inversion allocates a few
// dozen small objects and frees them all at once, so a per-thread arena that is reset between
// commits does no heap work in the steady state (reset keeps one chunk as large as the last
// commit needed). Only trivially destructible objects live here: nothing is ever destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace ringlay::mst {

class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Never fails: out of memory is fatal (RL_ASSERT), like everywhere else in the core.
  void* allocate(size_t size, size_t align);

  template <typename T>
  T* make_array(size_t n) {
    static_assert(std::is_trivially_destructible_v<T>);
    return static_cast<T*>(allocate(sizeof(T) * n, alignof(T)));
  }
  template <typename T>
  T* make() {
    static_assert(std::is_trivially_destructible_v<T>);
    return new (allocate(sizeof(T), alignof(T))) T();
  }

  // Forgets every allocation. Keeps (or consolidates into) one chunk for the next round.
  void reset();

  size_t bytes_in_use() const;

 private:
  struct Chunk {
    Chunk* next;
    size_t size;  // usable bytes after the header
  };
  static constexpr size_t kFirstChunk = 16 * 1024;

  void add_chunk(size_t min_size);
  void free_all();

  Chunk* head_ = nullptr;  // newest chunk first
  uint8_t* cur_ = nullptr;
  uint8_t* end_ = nullptr;
  size_t used_before_ = 0;  // bytes handed out from chunks older than head_
};

}  // namespace ringlay::mst
