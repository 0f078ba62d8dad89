// SPDX-License-Identifier: MIT
// One segment file, shared between the writer (appends to the active segment), readers (any
// thread) and maintenance (retention, scrubbing). Shared by std::shared_ptr: a reader that
// holds a segment keeps its fd open, so retention may unlink the file under it (Linux keeps
// the inode until the last fd closes) and the reader finishes its read undisturbed.
//
// What crosses threads, and how:
//   end()       atomic byte offset; every record below it is completely written. The writer
//               stores it (release) after pwritev returns; readers load it (acquire) and never
//               read past it. This is the "written" watermark at byte level.
//   sealed()    atomic; set once the writer will never append again (end() is then final).
//   summary     first/last seq and time, record count, sparse index: under a small mutex,
//               taken by the writer once per batch and by readers once per seek, never
//               across I/O.
//
// scan_segment() is the one record walker used by recovery, index rebuild and scrubbing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "log/file_io.h"
#include "log/format.h"

namespace ringlay::log_store {

class Segment {
 public:
  Segment(std::string dir, uint64_t ordinal, Fd fd, const SegmentHeader& header, SegmentSummary sum);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  int fd() const { return fd_.get(); }
  uint64_t base_seq() const { return header_.base_seq; }
  uint32_t salt() const { return header_.salt; }
  uint64_t created_ms() const { return header_.created_ms; }
  // Creation order in this process: consecutive segments have consecutive ordinals, so a
  // reader that finds a jump knows retention deleted segments it had not read yet.
  uint64_t ordinal() const { return ordinal_; }
  std::string path() const;
  std::string index_path() const;

  uint64_t end() const { return end_.load(std::memory_order_acquire); }
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }

  // Writer: records [old end, new_end) are written; `batch` describes them.
  struct BatchInfo {
    uint64_t first_seq, last_seq, first_time_ms, last_time_ms, records;
    const IndexEntry* index;  // new sparse-index entries, in order
    size_t index_count;
  };
  void publish(uint64_t new_end, const BatchInfo& batch);
  void seal() { sealed_.store(true, std::memory_order_release); }

  // Summary without the index (cheap copy), or with it (for the .idx file).
  SegmentSummary meta() const;
  SegmentSummary summary() const;
  uint64_t last_index_offset() const;

  // Offset to start scanning for the first record with seq > after_seq (sparse index).
  uint64_t seek_offset(uint64_t after_seq) const;

  uint64_t scrub_gen() const;
  void set_scrub_gen(uint64_t gen);

  // Writes <base>.idx from the summary (tmp_suffix distinguishes concurrent writers).
  int write_index(const char* tmp_suffix) const;

 private:
  std::string dir_;
  uint64_t ordinal_;
  Fd fd_;
  SegmentHeader header_;
  std::atomic<uint64_t> end_;
  std::atomic<bool> sealed_{false};
  mutable std::mutex mu_;
  SegmentSummary sum_;  // guarded by mu_
};

// Creates <dir>/<base>.seg with a fresh header (random salt). Not fsync'd here.
Status create_segment_file(const std::string& dir, uint64_t base_seq, uint64_t created_ms,
                           Fd* fd, SegmentHeader* header);

struct ScanRecord {
  RecordHeader h;
  uint64_t offset;        // of the record header in the file
  const uint8_t* bytes;   // the whole record (header, DID, payload); valid during the callback
  bool payload_ok;        // payload checksum matches (always true for scrubbed records)
  std::string_view did() const {
    return {reinterpret_cast<const char*>(bytes + kRecordHeaderSize), h.did_len};
  }
};

struct ScanResult {
  int err = 0;                 // errno of a failed read
  uint64_t valid_end = 0;      // end of the last record with a valid header and payload
  uint64_t records = 0;        // records before valid_end (damaged ones included)
  uint64_t damaged = 0;        // of those, with a bad payload checksum
  uint64_t skipped_bytes = 0;  // unparseable bytes stepped over before valid_end
  uint64_t first_seq = 0, last_seq = 0, first_time_ms = 0, last_time_ms = 0;
  uint64_t tail_records = 0;   // record starts seen after valid_end (the torn tail)
};

struct ScanOptions {
  size_t chunk_bytes = 1 << 20;        // read size (tests shrink it to hit every boundary)
  uint64_t index_interval_bytes = 0;   // >0: fill `index` every this many bytes
  std::vector<IndexEntry>* index = nullptr;
  // Called for every record with a valid header and seq above the previous one, damaged or
  // not, before valid_end is known. Return false to stop the scan.
  std::function<bool(const ScanRecord&)> visit;
};

// Walks the records of [start, end) of a segment. Stepping over damage: a header that does not
// parse (or whose seq does not increase) starts a search for the next record magic whose header
// checksum holds under the salt. A record whose payload is damaged is stepped over by its length
// (the header checksum makes the length trustworthy).
ScanResult scan_segment(int fd, uint32_t salt, uint64_t start, uint64_t end, ScanOptions& opts);

// Offset within [from, n) of the next occurrence of the record magic, or n.
size_t find_record_magic(const uint8_t* p, size_t from, size_t n);

}  // namespace ringlay::log_store
