// SPDX-License-Identifier: MIT
#include "mst/arena.h"

#include <cstdlib>

#include "util/assert.h"

namespace ringlay::mst {

namespace {

uint8_t* chunk_data(void* chunk, size_t header) { return static_cast<uint8_t*>(chunk) + header; }

}  // namespace

Arena::~Arena() { free_all(); }

void Arena::free_all() {
  while (head_ != nullptr) {
    Chunk* next = head_->next;
    std::free(head_);
    head_ = next;
  }
  cur_ = end_ = nullptr;
  used_before_ = 0;
}

void Arena::add_chunk(size_t min_size) {
  size_t size = head_ == nullptr ? kFirstChunk : head_->size * 2;
  if (size < min_size) size = min_size;
  void* mem = std::malloc(sizeof(Chunk) + size);
  RL_ASSERT(mem != nullptr);
  Chunk* c = static_cast<Chunk*>(mem);
  c->next = head_;
  c->size = size;
  if (head_ != nullptr) {
    used_before_ += static_cast<size_t>(cur_ - chunk_data(head_, sizeof(Chunk)));
  }
  head_ = c;
  cur_ = chunk_data(c, sizeof(Chunk));
  end_ = cur_ + size;
}

void* Arena::allocate(size_t size, size_t align) {
  RL_DASSERT(align != 0 && (align & (align - 1)) == 0);
  for (;;) {
    if (cur_ != nullptr) {
      uintptr_t p = reinterpret_cast<uintptr_t>(cur_);
      uintptr_t aligned = (p + align - 1) & ~(static_cast<uintptr_t>(align) - 1);
      if (aligned + size <= reinterpret_cast<uintptr_t>(end_)) {
        cur_ = reinterpret_cast<uint8_t*>(aligned + size);
        return reinterpret_cast<void*>(aligned);
      }
    }
    add_chunk(size + align);
  }
}

void Arena::reset() {
  if (head_ == nullptr) return;
  if (head_->next != nullptr) {
    // Several chunks: replace them with one that holds everything this round needed, so the
    // next round of the same size allocates nothing.
    size_t total = head_->size;
    for (Chunk* c = head_->next; c != nullptr; c = c->next) total += c->size;
    free_all();
    add_chunk(total);
    return;
  }
  used_before_ = 0;
  cur_ = chunk_data(head_, sizeof(Chunk));
  end_ = cur_ + head_->size;
}

size_t Arena::bytes_in_use() const {
  if (head_ == nullptr) return 0;
  return used_before_ + static_cast<size_t>(cur_ - chunk_data(head_, sizeof(Chunk)));
}

}  // namespace ringlay::mst
