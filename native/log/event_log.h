// SPDX-License-Identifier: MIT
// The event log: the relay's sequenced, replayable store of wire frames and the source of
// truth for the next seq (design.md "State"). Formats: format.h. Seq lease: lease.h.
//
// Roles and threads (threads meet only in atomics and in short mutex-guarded swaps, never in
// a wait for a condition):
//   writer       next_seq(), append(), sync(), sync_due(), close(). One thread at a time
//                (a second concurrent append fails with `busy`). In the relay that is the log
//                thread of log_writer.h; tests and tools call it directly.
//   readers      open_reader() from any thread; each Reader is then used by one thread.
//   maintenance  run_maintenance(): retention and takedown scrubbing, one thread at a time,
//                never on a hot path (the napi wrapper runs it on the libuv pool).
//   anyone       watermarks, oldest_seq(), counters(), takedown(), configuration setters.
//
// Visibility: append() returns after pwritev has put the whole batch in the page cache, then
// publishes the segment's byte end and written_seq() (release). A frame is given to
// consumers only after that, so every seq a consumer ever sees is in the file, and a reader
// never reads past the published end. kill -9 cannot lose it (the page cache outlives the
// process).
//
// Durability policy (group commit, on the writer thread):
//   * records are written with one pwritev per batch (no O_SYNC, no O_DIRECT);
//   * fdatasync of the active segment when sync_due(): `sync_bytes` unsynced bytes or
//     `sync_interval_ms` since the first unsynced write (default 8 MiB / 100 ms; interval 0 =
//     fdatasync after every batch); also at rotation (the sealed segment, plus the directory
//     for the new file), at close, and for the recovered tail at open;
//   * durable_seq() = the highest seq known to be on stable storage; upstream cursors may
//     advance only over events at or below it;
//   * the seq lease (lease.h) is fdatasync'd before any seq at or above its end is appended,
//     renewed half a block early, so after a power loss numbering restarts above every seq
//     that could have been sent; after kill -9 (same boot) numbering continues at last + 1;
//   * an fdatasync or lease write error puts the log in the failed state: append() returns
//     `failed` until restart (the page cache can no longer be trusted to reach the disk).
//   What a power loss can cost: the records of the last sync interval vanish from replay (their
//   seqs are never reused); consumers that were live received them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "log/file_io.h"
#include "log/format.h"
#include "log/lease.h"
#include "log/segment.h"
#include "log/takedown_set.h"

namespace ringlay::log_store {

class Reader;

struct Options {
  std::string data_dir;                    // the log lives in <data_dir>/events
  uint64_t initial_seq = 1;                // --initial-seq-number: the lowest next seq
  uint64_t segment_max_bytes = 256ull << 20;
  uint64_t segment_max_records = 0;        // 0: rotate by size only
  // Rotate once the active segment's first record is older than this (0: never by age).
  // Retention deletes whole sealed segments, so a short replay window needs short-lived
  // segments (the relay pipeline sets a fraction of --replay-window).
  uint64_t segment_max_age_ms = 0;
  uint64_t sync_interval_ms = 100;
  uint64_t sync_bytes = 8ull << 20;
  uint64_t lease_block = 1000000;          // seqs reserved per lease write
  uint64_t replay_window_ms = 72ull * 3600 * 1000;  // --replay-window; 0 keeps everything
  uint64_t max_disk_bytes = 0;             // 0: no byte cap
  uint64_t index_interval_bytes = 1 << 20; // sparse index: one entry per this many bytes
  uint64_t read_chunk_bytes = 1 << 20;     // readers' default pread size
  std::string boot_id;                     // "" reads the kernel's (tests inject one)
  DidHasher did_hasher = nullptr;          // null: did_hash() (tests force collisions)
};

// One record to append. The frame is the final wire frame, its seq already patched to `seq`.
struct AppendRecord {
  uint64_t seq = 0;
  uint64_t time_ms = 0;  // relay receive time (wall clock), used by retention
  std::string_view did;
  std::span<const uint8_t> frame;
};

struct RecoveryReport {
  uint64_t segments = 0;              // segment files kept
  uint64_t last_seq = 0;              // newest record on disk after recovery (0: none)
  uint64_t next_seq = 0;
  uint64_t torn_bytes_cut = 0;        // bytes truncated off the tail segment
  uint64_t torn_records_cut = 0;      // record starts among them (partial records included)
  uint64_t damaged_records = 0;       // bad payload checksum inside the tail (kept, skipped)
  uint64_t corrupt_bytes = 0;         // unparseable bytes stepped over inside the tail
  uint64_t index_rebuilds = 0;        // sealed segments rescanned for a missing/stale .idx
  uint64_t bad_segments = 0;          // sealed segments ignored (unreadable header)
  uint64_t removed_empty = 0;         // tail files with no whole record, deleted
  bool lease_found = false;
  bool same_boot = false;             // the lease was written during this kernel boot
  bool clean_shutdown = false;        // the previous process called close()
  uint64_t lease_end_found = 0;
};

struct Counters {
  uint64_t records_appended = 0, bytes_appended = 0, batches_appended = 0, append_errors = 0;
  uint64_t fsyncs = 0, fsync_ns_total = 0, fsync_ns_max = 0, lease_renewals = 0;
  uint64_t segments = 0, bytes_on_disk = 0;
  uint64_t oldest_seq = 0, oldest_time_ms = 0, written_seq = 0, durable_seq = 0, next_seq = 0;
  uint64_t torn_tail_truncations = 0, torn_bytes_cut = 0;
  uint64_t segments_deleted = 0, bytes_deleted = 0;
  uint64_t takedowns = 0, takedown_records_scrubbed = 0, takedown_frames_skipped = 0;
  uint64_t damaged_frames_skipped = 0, replay_frames = 0, replay_bytes = 0;
  bool failed = false;
};

// ?cursor=N at connect time (protocol.md §1.6; replay is exclusive: frames with seq > N).
enum class CursorCheck : uint8_t {
  replay,    // replay from N + 1, then live
  outdated,  // frames after N are gone (N + 1 < window_start()): #info OutdatedCursor, then
             // replay the whole window
  future,    // N is above the newest written seq: FutureCursor error, close
};
const char* name(CursorCheck c);

// Where a reader opened below window_start() begins (open_reader).
enum class ReaderStart : uint8_t {
  // At the window's first record: "everything still kept after N" (?cursor=0, an outdated
  // cursor, recovery, tools). Only the opening position is moved; once the reader has
  // started, falling below the window is a gap like for `exact`.
  clamp,
  // Reports a gap (ReadResult::gap) and goes on from the window's first record: the caller
  // needed frames that are gone (a consumer whose cursor was valid when decided).
  exact,
};

struct MaintenanceResult {
  Status status;
  uint64_t segments_deleted = 0, bytes_deleted = 0;
  uint64_t segments_scrubbed = 0, records_scrubbed = 0;
};

class EventLog {
 public:
  // Opens (creating) <data_dir>/events, recovers the tail, takes the directory lock and
  // writes a new lease. nullptr on failure (*status says why).
  static std::unique_ptr<EventLog> open(const Options& options, Status* status,
                                        RecoveryReport* report = nullptr);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // --- writer role ---
  // The seq the next appended record must have at least (gaps are allowed).
  uint64_t next_seq() const { return next_seq_.load(std::memory_order_acquire); }
  // Appends records in order (seqs strictly increasing, first >= next_seq()). All or nothing:
  // on error nothing of the batch is visible and next_seq() is unchanged.
  Status append(std::span<const AppendRecord> records);
  Status sync();                          // fdatasync now if anything is unsynced
  bool sync_due(uint64_t now_ns) const;   // group-commit policy says fsync now
  int64_t ms_until_sync_due(uint64_t now_ns) const;  // -1: nothing unsynced
  Status close();                         // sync, clean lease, release the lock

  // --- any thread ---
  uint64_t written_seq() const { return written_seq_.load(std::memory_order_acquire); }
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  // The reason the log stopped accepting writes (ok while it works).
  Reason failure() const { return failed_.load(std::memory_order_acquire); }
  uint64_t oldest_seq(uint64_t* time_ms = nullptr) const;  // 0: the log is empty
  // The replay window's start: the log never again returns a record with a lower seq. It is
  // the one notion of "what is still kept" that check_cursor, the cursor decision
  // (relay/replay_cursor.h) and every Reader use, so a cursor declared outdated and a reader
  // can never disagree. Records below it were deleted by retention (it moves, under the
  // segment-list lock, when retention drops segments from the list, before their files are
  // unlinked; records of a deleted segment a reader still holds open are not returned after
  // that), or are older than the oldest record found at open, or than the first record a
  // fresh log appended. Expired-by-time segments not deleted yet are still inside: retention
  // decides, on its cadence (the relay runs it every --replay-window / 8). 0: no record yet.
  // Only increases.
  uint64_t window_start() const { return window_start_.load(std::memory_order_acquire); }
  CursorCheck check_cursor(uint64_t cursor) const;
  // A reader positioned so that it returns the first frame with seq > after_seq (or, below
  // window_start(), see ReaderStart). Readers must be destroyed before the log.
  std::unique_ptr<Reader> open_reader(uint64_t after_seq, ReaderStart start = ReaderStart::clamp);
  Status takedown(std::string_view did, bool* changed);
  Status reverse_takedown(std::string_view did, bool* changed);
  bool is_taken_down(std::string_view did) const { return takedowns_.contains(did); }
  std::vector<std::string> takedown_list() const { return takedowns_.list(); }
  Counters counters() const;
  const RecoveryReport& recovery() const { return recovery_; }
  void set_retention(uint64_t replay_window_ms, uint64_t max_disk_bytes);
  void set_sync_policy(uint64_t interval_ms, uint64_t bytes);
  uint64_t replay_window_ms() const { return replay_window_ms_.load(); }
  uint64_t max_disk_bytes() const { return max_disk_bytes_.load(); }
  uint64_t sync_interval_ms() const { return sync_interval_ms_.load(); }
  uint64_t sync_bytes() const { return sync_bytes_.load(); }
  const std::string& dir() const { return dir_; }

  // --- maintenance role ---
  MaintenanceResult run_maintenance(uint64_t now_ms);

 private:
  friend class Reader;
  explicit EventLog(const Options& o);

  Status open_dir(RecoveryReport* rep);
  Status load_sealed(const std::string& name, uint64_t base, RecoveryReport* rep);
  Status recover_tail(const std::string& name, uint64_t base, RecoveryReport* rep);
  Status choose_next_seq(RecoveryReport* rep);
  std::shared_ptr<Segment> make_segment(Fd fd, const SegmentHeader& h, SegmentSummary sum);

  Status check_batch(std::span<const AppendRecord> records) const;
  Status ensure_lease(uint64_t last_seq);
  Status rotate_for(const AppendRecord& first, uint64_t bytes);
  Status seal_active();
  size_t fits_in_active(std::span<const AppendRecord> records) const;
  Status write_group(std::span<const AppendRecord> records);
  Status fail(Status st);

  MaintenanceResult run_retention(uint64_t now_ms);
  void scrub_segments(MaintenanceResult* res);
  uint64_t scrub_one(Segment& seg, const TakedownSnapshot& snap, Status* st);

  // Reader support (locking the segment list). locate() first moves *after_seq up to
  // window_start() - 1 if it is below (setting *gap unless `clamp`), so the window check and
  // the segment lookup see the same list.
  std::shared_ptr<Segment> locate(uint64_t* after_seq, bool clamp, bool* gap) const;
  std::shared_ptr<Segment> segment_after(const Segment& seg, bool* gap) const;

  Options opts_;
  std::string dir_;
  std::string boot_id_;
  Fd lock_fd_;
  SeqLease lease_;
  TakedownSet takedowns_;

  mutable std::mutex dir_mu_;  // guards segments_ (list changes only; never held across I/O)
  std::vector<std::shared_ptr<Segment>> segments_;

  // Writer-owned.
  std::shared_ptr<Segment> active_;
  uint64_t active_records_ = 0;
  uint64_t active_last_index_off_ = 0;
  uint64_t active_first_time_ms_ = 0;  // time of the active segment's first record
  uint64_t next_ordinal_ = 0;
  uint64_t unsynced_bytes_ = 0;
  uint64_t first_unsynced_ns_ = 0;
  bool dir_sync_pending_ = false;
  std::vector<uint8_t> hdr_buf_;
  std::vector<iovec> iov_;
  std::vector<IndexEntry> new_index_;
  bool closed_ = false;

  std::atomic<bool> writer_busy_{false};
  std::atomic<bool> maint_busy_{false};
  std::atomic<Reason> failed_{Reason::ok};
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<uint64_t> written_seq_{0};
  std::atomic<uint64_t> window_start_{0};  // stored only with dir_mu_ held (window_start())
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> replay_window_ms_{0}, max_disk_bytes_{0};
  std::atomic<uint64_t> sync_interval_ms_{0}, sync_bytes_{0};
  std::atomic<int64_t> readers_open_{0};

  RecoveryReport recovery_;
  struct AtomicCounters {
    std::atomic<uint64_t> records{0}, bytes{0}, batches{0}, append_errors{0};
    std::atomic<uint64_t> fsyncs{0}, fsync_ns_total{0}, fsync_ns_max{0}, lease_renewals{0};
    std::atomic<uint64_t> bytes_on_disk{0}, torn_truncations{0}, torn_bytes{0};
    std::atomic<uint64_t> segments_deleted{0}, bytes_deleted{0}, scrubbed{0};
    std::atomic<uint64_t> takedown_skipped{0}, damaged_skipped{0}, replay_frames{0}, replay_bytes{0};
  };
  mutable AtomicCounters c_;
};

}  // namespace ringlay::log_store
