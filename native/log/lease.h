// SPDX-License-Identifier: MIT
// The seq lease: a durable promise "no seq at or above lease_end has been handed out".
//
// Records are written (page cache) before anyone sends them, but fsync'd only every few
// milliseconds (group commit). A power loss can therefore drop records that consumers have
// already received; without more care their seqs would be handed out again after restart
// (indigo's diskpersist has exactly this hole, indigo-relay.md §1.4). The lease closes it:
// before the log hands out a seq >= lease_end it writes and fdatasyncs a new lease_end one
// block further on, so after any crash every seq that could have been sent is < lease_end.
//
// The lease also records a floor: the next seq at the time it was written. Seqs below the
// floor may have been handed out; seqs from the floor up are handed out only together with a
// write of their record. At open (event_log.cc) the next seq is
//   max(last seq on disk + 1, --initial-seq-number, same boot ? floor : lease_end)
// "Same boot" (the kernel's boot id recorded in the lease) means the dead process's page cache
// survived: every record it wrote is in the file, so after kill -9 numbering continues at
// last + 1 with no gap. After a reboot nothing above the last fsync can be trusted, so
// numbering restarts at lease_end. A clean close records floor = lease_end = next seq, so a
// restart after a clean stop never skips numbers; a power loss or OS crash skips at most one
// block, which the protocol allows (gaps are fine, reuse is not: protocol.md §1.7).
//
// File: two 96-byte slots at offsets 0 and 4096 (different sectors and pages), written
// alternately; the valid slot with the higher generation wins, so a torn slot write leaves
// the previous state readable.
//   slot  0 u32 magic "RLLS" | 4 u32 crc32c of [8, 96) | 8 u64 generation | 16 u64 lease_end
//         24 u64 floor | 32 u8 clean | 33 u8 boot_id length | 34 boot_id (up to 62 bytes)
#pragma once

#include <cstdint>
#include <string>

#include "log/file_io.h"
#include "log/format.h"

namespace ringlay::log_store {

struct LeaseState {
  uint64_t generation = 0;
  uint64_t lease_end = 0;  // no seq >= lease_end has been handed out
  uint64_t floor = 0;      // seqs below may have been handed out without a record on disk
  bool clean = false;
  std::string boot_id;
};

class SeqLease {
 public:
  // Opens or creates `path`. *found: a valid state was read (state() holds it).
  static Status open(const std::string& path, SeqLease* out, bool* found);

  const LeaseState& state() const { return state_; }

  // Writes the next state into the older slot, then fdatasync. The in-memory state changes
  // only on success.
  Status write(uint64_t floor, uint64_t lease_end, const std::string& boot_id, bool clean);

 private:
  Fd fd_;
  LeaseState state_;
};

}  // namespace ringlay::log_store
