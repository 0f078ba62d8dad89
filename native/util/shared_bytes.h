// SPDX-License-Identifier: MIT
// SharedBytes: one immutable heap buffer with an atomic reference count, header and data in
// one allocation. It is how frame bytes move between threads without copies: the ring thread
// receives a WebSocket message into one, a verify worker reads it, the log writes it, and the
// fan-out sends the same bytes to every consumer. A buffer is writable only by its creator
// before it is shared; after that nobody writes it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "util/assert.h"

namespace ringlay {

class SharedBytes {
 public:
  // A buffer of `size` uninitialised bytes with one reference, or nullptr when out of memory.
  static SharedBytes* create(size_t size) {
    void* mem = std::malloc(sizeof(SharedBytes) + (size == 0 ? 1 : size));
    if (mem == nullptr) return nullptr;
    return new (mem) SharedBytes(size);
  }
  static SharedBytes* copy_of(const void* data, size_t size) {
    SharedBytes* b = create(size);
    if (b != nullptr && size > 0) std::memcpy(b->mutable_data(), data, size);
    return b;
  }

  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  uint8_t* mutable_data() { return reinterpret_cast<uint8_t*>(this + 1); }
  size_t size() const { return size_; }

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() {
    // acq_rel: the last owner must see every write made before other owners let go.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~SharedBytes();
      std::free(this);
    }
  }
  uint32_t refs() const { return refs_.load(std::memory_order_relaxed); }

  SharedBytes(const SharedBytes&) = delete;
  SharedBytes& operator=(const SharedBytes&) = delete;

 private:
  explicit SharedBytes(size_t size) : size_(size) {}
  ~SharedBytes() = default;

  std::atomic<uint32_t> refs_{1};
  size_t size_;
};

// Owning handle: copying takes a reference, destruction drops one.
class BytesRef {
 public:
  BytesRef() = default;
  // Adopts the caller's reference (as returned by SharedBytes::create).
  static BytesRef adopt(SharedBytes* b) { return BytesRef(b); }
  static BytesRef copy_of(const void* data, size_t size) {
    return BytesRef(SharedBytes::copy_of(data, size));
  }
  static BytesRef copy_of(std::string_view s) { return copy_of(s.data(), s.size()); }

  BytesRef(const BytesRef& o) : b_(o.b_) {
    if (b_ != nullptr) b_->ref();
  }
  BytesRef(BytesRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  BytesRef& operator=(BytesRef o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BytesRef() {
    if (b_ != nullptr) b_->unref();
  }

  explicit operator bool() const { return b_ != nullptr; }
  const uint8_t* data() const { return b_ != nullptr ? b_->data() : nullptr; }
  size_t size() const { return b_ != nullptr ? b_->size() : 0; }
  std::span<const uint8_t> span() const { return {data(), size()}; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data()), size()};
  }
  // Only for the creator, before the buffer has been shared.
  uint8_t* mutable_data() {
    RL_DASSERT(b_ == nullptr || b_->refs() == 1);
    return b_ != nullptr ? b_->mutable_data() : nullptr;
  }
  SharedBytes* get() const { return b_; }
  // Gives up ownership without dropping the reference (for napi external buffers).
  SharedBytes* release() { return std::exchange(b_, nullptr); }

 private:
  explicit BytesRef(SharedBytes* b) : b_(b) {}
  SharedBytes* b_ = nullptr;
};

}  // namespace ringlay
