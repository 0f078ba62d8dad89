// SPDX-License-Identifier: MIT
#include "log/lease.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log/crc32c.h"

namespace ringlay::log_store {
namespace {

constexpr uint32_t kLeaseMagic = 0x534C4C52u;  // "RLLS"
constexpr size_t kSlotSize = 96;
constexpr uint64_t kSlotOffset[2] = {0, 4096};
constexpr size_t kMaxBootId = kSlotSize - 34;

bool decode_slot(const uint8_t* p, LeaseState* s) {
  if (get_u32(p) != kLeaseMagic || crc32c(0, p + 8, kSlotSize - 8) != get_u32(p + 4)) return false;
  size_t boot_len = p[33];
  if (boot_len > kMaxBootId) return false;
  s->generation = get_u64(p + 8);
  s->lease_end = get_u64(p + 16);
  s->floor = get_u64(p + 24);
  s->clean = p[32] != 0;
  s->boot_id.assign(reinterpret_cast<const char*>(p + 34), boot_len);
  return true;
}

}  // namespace

Status SeqLease::open(const std::string& path, SeqLease* out, bool* found) {
  *found = false;
  int err = 0;
  out->fd_ = open_fd(path, O_RDWR | O_CREAT, 0644, &err);
  if (!out->fd_) return Status::from_errno(err);
  out->state_ = LeaseState{};
  for (uint64_t off : kSlotOffset) {
    uint8_t buf[kSlotSize];
    size_t got = 0;
    err = pread_full(out->fd_.get(), buf, sizeof buf, off, &got);
    if (err != 0) return Status::from_errno(err);
    LeaseState s;
    if (got == kSlotSize && decode_slot(buf, &s) && (!*found || s.generation > out->state_.generation)) {
      out->state_ = s;
      *found = true;
    }
  }
  return {};
}

Status SeqLease::write(uint64_t floor, uint64_t lease_end, const std::string& boot_id, bool clean) {
  uint8_t buf[kSlotSize] = {};
  uint64_t gen = state_.generation + 1;
  size_t boot_len = std::min(boot_id.size(), kMaxBootId);
  put_u32(buf, kLeaseMagic);
  put_u64(buf + 8, gen);
  put_u64(buf + 16, lease_end);
  put_u64(buf + 24, floor);
  buf[32] = clean ? 1 : 0;
  buf[33] = static_cast<uint8_t>(boot_len);
  std::memcpy(buf + 34, boot_id.data(), boot_len);
  put_u32(buf + 4, crc32c(0, buf + 8, kSlotSize - 8));
  int err = pwrite_full(fd_.get(), buf, sizeof buf, kSlotOffset[gen % 2]);
  if (err == 0 && ::fdatasync(fd_.get()) != 0) err = errno;
  if (err != 0) return {err == EIO ? Reason::fsync_failed : reason_from_errno(err), err};
  state_ = LeaseState{gen, lease_end, floor, clean, boot_id.substr(0, boot_len)};
  return {};
}

}  // namespace ringlay::log_store
