// SPDX-License-Identifier: MIT
#include "log/takedown_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "log/crc32c.h"

namespace ringlay::log_store {
namespace {

constexpr uint64_t kTakedownMagic = 0x3130444B54594C52ull;  // "RLYTKD01"
constexpr size_t kEntryHeader = 7;                           // crc u32, op u8, did_len u16
constexpr uint8_t kOpAdd = 1;
constexpr uint8_t kOpRemove = 2;

}  // namespace

bool TakedownSnapshot::matches(uint64_t hash, std::string_view did) const {
  auto it = by_hash.find(hash);
  if (it == by_hash.end()) return false;
  return std::find(it->second.begin(), it->second.end(), did) != it->second.end();
}

size_t TakedownSnapshot::size() const {
  size_t n = 0;
  for (const auto& [h, dids] : by_hash) n += dids.size();
  return n;
}

void TakedownSet::apply(TakedownSnapshot& s, uint8_t op, std::string_view did, uint64_t hash) {
  auto& dids = s.by_hash[hash];
  auto it = std::find(dids.begin(), dids.end(), did);
  if (op == kOpAdd && it == dids.end()) dids.emplace_back(did);
  if (op == kOpRemove && it != dids.end()) dids.erase(it);
  if (dids.empty()) s.by_hash.erase(hash);
  ++s.generation;
  if (op == kOpAdd) ++s.add_generation;
}

Status TakedownSet::open(const std::string& path, DidHasher hasher) {
  hasher_ = hasher;
  std::string bytes;
  int err = read_small_file(path, &bytes, size_t{1} << 30);
  if (err != 0 && err != ENOENT) return Status::from_errno(err);
  fd_ = open_fd(path, O_RDWR | O_CREAT, 0644, &err);
  if (!fd_) return Status::from_errno(err);
  auto snap = std::make_shared<TakedownSnapshot>();
  if (bytes.size() < 8) {
    // New (or torn before its magic reached the disk): start the file over.
    uint8_t magic[8];
    put_u64(magic, kTakedownMagic);
    err = ::ftruncate(fd_.get(), 0) == 0 ? pwrite_full(fd_.get(), magic, 8, 0) : errno;
    if (err == 0 && ::fdatasync(fd_.get()) != 0) err = errno;
    if (err != 0) return Status::from_errno(err);
    file_end_ = 8;
  } else {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    if (get_u64(p) != kTakedownMagic) return Status::of(Reason::corrupt);
    size_t off = 8;
    while (off + kEntryHeader <= bytes.size()) {
      uint16_t len = get_u16(p + off + 5);
      uint8_t op = p[off + 4];
      if (off + kEntryHeader + len > bytes.size()) break;
      if (crc32c(0, p + off + 4, 3 + len) != get_u32(p + off)) break;
      if (op != kOpAdd && op != kOpRemove) break;
      std::string_view did(bytes.data() + off + kEntryHeader, len);
      apply(*snap, op, did, hasher_(did));
      off += kEntryHeader + len;
    }
    // Anything after the last whole entry is a torn append whose call never returned.
    if (off < bytes.size() && ::ftruncate(fd_.get(), static_cast<off_t>(off)) != 0) {
      return Status::from_errno(errno);
    }
    file_end_ = off;
  }
  generation_.store(snap->generation, std::memory_order_release);
  std::lock_guard<std::mutex> lock(snap_mu_);
  snap_ = std::move(snap);
  return {};
}

Status TakedownSet::append(uint8_t op, std::string_view did) {
  std::string entry(kEntryHeader + did.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(entry.data());
  p[4] = op;
  put_u16(p + 5, static_cast<uint16_t>(did.size()));
  std::copy(did.begin(), did.end(), entry.begin() + kEntryHeader);
  put_u32(p, crc32c(0, p + 4, 3 + did.size()));
  int err = pwrite_full(fd_.get(), p, entry.size(), file_end_);
  if (err == 0 && ::fdatasync(fd_.get()) != 0) err = errno;
  if (err != 0) {
    // Leave no half entry behind for a later append to follow.
    if (::ftruncate(fd_.get(), static_cast<off_t>(file_end_)) != 0) {
      return Status::of(Reason::failed);
    }
    return Status::from_errno(err);
  }
  file_end_ += entry.size();
  auto next = std::make_shared<TakedownSnapshot>(*snapshot());
  apply(*next, op, did, hasher_(did));
  uint64_t gen = next->generation;
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snap_ = std::move(next);
  }
  generation_.store(gen, std::memory_order_release);
  return {};
}

Status TakedownSet::add(std::string_view did, bool* changed) {
  *changed = false;
  if (did.empty() || did.size() > kMaxDidBytes) return Status::of(Reason::invalid_argument);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!fd_) return Status::of(Reason::closed);
  if (contains(did)) return {};
  Status st = append(kOpAdd, did);
  *changed = st.ok();
  return st;
}

Status TakedownSet::remove(std::string_view did, bool* changed) {
  *changed = false;
  if (did.empty() || did.size() > kMaxDidBytes) return Status::of(Reason::invalid_argument);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!fd_) return Status::of(Reason::closed);
  if (!contains(did)) return {};
  Status st = append(kOpRemove, did);
  *changed = st.ok();
  return st;
}

std::shared_ptr<const TakedownSnapshot> TakedownSet::snapshot() const {
  std::lock_guard<std::mutex> lock(snap_mu_);
  return snap_ != nullptr ? snap_ : std::make_shared<const TakedownSnapshot>();
}

bool TakedownSet::contains(std::string_view did) const {
  return snapshot()->matches(hasher_(did), did);
}

std::vector<std::string> TakedownSet::list() const {
  std::vector<std::string> out;
  for (const auto& [h, dids] : snapshot()->by_hash) out.insert(out.end(), dids.begin(), dids.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ringlay::log_store
