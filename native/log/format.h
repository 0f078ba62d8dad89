// SPDX-License-Identifier: MIT
// On-disk formats of the event log (version 1), all little-endian, and the log's failure
// reasons. Layout of <data-dir>/events/:
//
//   LOCK                      flock'd by the one process that owns the log
//   seq.lease                 the seq lease (lease.h)
//   takedowns                 the persisted takedown set (takedown_set.h)
//   00000000000000000001.seg  segment files, named by the seq of their first record
//   00000000000000000001.idx  a sealed segment's summary and sparse index (a rebuildable cache)
//
// Segment file = 32-byte segment header, then records back to back, append-only:
//
//   segment header  0 u64 magic "RLYSEG01" | 8 u64 base_seq | 16 u64 created_ms
//                   24 u32 salt (random) | 28 u32 crc32c of bytes [0, 28)
//
//   record          0 u32 magic "RLC1"      4 u32 header_crc     8 u32 payload_crc
//                  12 u32 payload_len      16 u64 seq           24 u64 time_ms (relay receive)
//                  32 u64 did_hash         40 u16 did_len       42 u8 version (1)
//                  43 u8 flags             44 u32 reserved (0)
//                  48 did bytes (did_len)  then payload: the final wire frame (seq patched)
//
// Two checksums rather than one over header+payload, so that a takedown can scrub a payload
// in place (zero it, set flags.scrubbed) and a reader can still trust the header to step over
// any record whose payload is damaged or scrubbed. header_crc covers bytes [12, 48) with the
// flags byte taken as 0, plus the DID, and is seeded with the segment's random salt: frame
// bytes from a PDS cannot be crafted to look like a valid record to the resynchronising scan
// (scan.h). flags is one byte, so setting it is a single atomic sector write.
//
// The DID itself is stored (about 32 bytes per record, under 3% of a 1 KB frame) so that a
// takedown compares DIDs, not only 64-bit hashes: a hash collision can never hide another
// account's frames (takedown_set.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlay::log_store {

enum class Reason : uint8_t {
  ok,
  invalid_argument,   // bad option or argument
  not_found,          // ENOENT
  permission_denied,  // EACCES, EPERM
  no_space,           // ENOSPC, EDQUOT
  read_only,          // EROFS
  too_many_files,     // EMFILE, ENFILE
  io_error,           // EIO and every errno not listed here
  locked,             // another process owns this log directory
  corrupt,            // a file that must be valid is not (segment header, lease, takedown set)
  seq_order,          // appended seqs not strictly increasing, or below next_seq()
  seq_limit,          // seq above 2^53 - 1 (protocol.md §1.7)
  frame_too_large,    // payload over kMaxFrameBytes
  did_too_long,       // DID over kMaxDidBytes
  fsync_failed,       // fdatasync failed: the log refuses writes from then on
  failed,             // an earlier fatal error put the log into the failed state
  closed,             // the log was closed
  busy,               // two threads tried to append at once (one writer at a time)
  patch_failed,       // log_writer: the seq patcher rejected the frame
  no_memory,          // an allocation failed
};
const char* name(Reason r);
Reason reason_from_errno(int err);

struct Status {
  Reason reason = Reason::ok;
  int err = 0;  // errno when the reason came from a system call
  bool ok() const { return reason == Reason::ok; }
  static Status from_errno(int e) { return {reason_from_errno(e), e}; }
  static Status of(Reason r) { return {r, 0}; }
};

inline constexpr uint32_t kRecordMagic = 0x31434C52u;  // "RLC1"
inline constexpr uint8_t kRecordVersion = 1;
inline constexpr size_t kRecordHeaderSize = 48;
inline constexpr uint8_t kFlagScrubbed = 0x01;
inline constexpr size_t kFlagsOffset = 43;
inline constexpr size_t kMaxDidBytes = 2048;                 // the DID syntax limit
inline constexpr size_t kMaxFrameBytes = 64u * 1024 * 1024;  // far above any valid frame
inline constexpr uint64_t kMaxSeq = (uint64_t{1} << 53) - 1;
inline constexpr uint64_t kSegmentMagic = 0x3130474553594C52ull;  // "RLYSEG01"
inline constexpr size_t kSegmentHeaderSize = 32;

struct RecordHeader {
  uint64_t seq = 0;
  uint64_t time_ms = 0;
  uint64_t did_hash = 0;
  uint32_t payload_len = 0;
  uint32_t payload_crc = 0;
  uint16_t did_len = 0;
  uint8_t flags = 0;

  uint64_t total_size() const { return kRecordHeaderSize + did_len + payload_len; }
  uint64_t payload_offset() const { return kRecordHeaderSize + did_len; }
  bool scrubbed() const { return (flags & kFlagScrubbed) != 0; }
};

// Fills out[0, 48) for a record (both checksums computed; payload_crc over `payload`).
void encode_record_header(uint8_t* out, uint64_t seq, uint64_t time_ms, uint64_t did_hash,
                          std::string_view did, std::span<const uint8_t> payload, uint32_t salt);

enum class HeaderCheck : uint8_t {
  ok,         // header and DID valid (the payload is checked separately)
  need_more,  // fewer than 48 + did_len bytes available: cannot tell yet
  bad,        // not a record header under this salt
};
// p points at a record start with `avail` bytes readable from there.
HeaderCheck parse_record_header(const uint8_t* p, size_t avail, uint32_t salt, RecordHeader* h);

// Payload checksum of a parsed record whose bytes (from the header) are at record[0,
// total_size). Scrubbed records pass: their zeroed payload is no longer checked.
bool record_payload_ok(const RecordHeader& h, const uint8_t* record);

struct SegmentHeader {
  uint64_t base_seq = 0;
  uint64_t created_ms = 0;
  uint32_t salt = 0;
};
void encode_segment_header(uint8_t* out, const SegmentHeader& h);
bool parse_segment_header(const uint8_t* p, size_t n, SegmentHeader* h);

// "00000000000000000042.seg" / ".idx"; parse returns false for other names.
std::string segment_file_name(uint64_t base_seq);
std::string index_file_name(uint64_t base_seq);
bool parse_segment_file_name(std::string_view name, uint64_t* base_seq);

// 64-bit DID hash (FNV-1a then a murmur3 finaliser): part of the file format, never change it.
uint64_t did_hash(std::string_view did);

// Sealed-segment summary + sparse index, stored in <base>.idx. A cache: ignored (and the
// segment rescanned) when its checksum, base or end_offset do not match the segment.
struct IndexEntry {
  uint64_t seq;
  uint64_t offset;
};
struct SegmentSummary {
  uint64_t base_seq = 0;
  uint64_t end_offset = 0;  // file size covered (header + records)
  uint64_t records = 0;
  uint64_t first_seq = 0, last_seq = 0;        // 0 when the segment holds no record
  uint64_t first_time_ms = 0, last_time_ms = 0;  // last_time_ms is the newest record's time
  uint64_t scrub_gen = 0;   // takedown-set generation this segment was scrubbed against
  std::vector<IndexEntry> index;
};
std::string encode_summary(const SegmentSummary& s);
bool decode_summary(std::string_view bytes, SegmentSummary* s);

// Little-endian helpers shared by the log's files.
inline void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace ringlay::log_store
