// SPDX-License-Identifier: MIT
// Retention: by replay window (record times injected) and by byte cap; the newest segment is
// never deleted; a reader holding a deleted segment finishes it and reports the gap.
#include <unistd.h>

#include "harness.h"
#include "log_test_util.h"

using namespace ringlay::log_test;

namespace {

// Records 1..n, record k received at k * 1000 ms; 10 records per segment.
std::unique_ptr<EventLog> timed_log(const TempDir& d, uint64_t n) {
  Options o = options_for(d);
  o.segment_max_records = 10;
  o.replay_window_ms = 0;
  Status st;
  auto log = EventLog::open(o, &st);
  if (log == nullptr) return nullptr;
  for (uint64_t k = 1; k <= n; ++k) {
    if (!append_n(*log, 1, 1, k * 1000).ok()) return nullptr;
  }
  return log;
}

}  // namespace

TEST(log_retention_by_time_deletes_whole_old_segments) {
  TempDir d;
  auto log = timed_log(d, 50);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->counters().segments, 5u);
  log->set_retention(15000, 0);
  // Cutoff 35001: segments ending at 10 s, 20 s, 30 s are older; 31..40 ends at 40 s.
  MaintenanceResult r = log->run_maintenance(50001);
  CHECK(r.status.ok());
  CHECK_EQ(r.segments_deleted, 3u);
  uint64_t t = 0;
  CHECK_EQ(log->oldest_seq(&t), 31u);
  CHECK_EQ(t, 31000u);
  CHECK_EQ(segment_files(d.events()).size(), 2u);
  CHECK(::access((d.events() + "/" + index_file_name(1)).c_str(), F_OK) != 0);
  CHECK(log->check_cursor(0) == CursorCheck::outdated);
  CHECK(log->check_cursor(29) == CursorCheck::outdated);
  CHECK(log->check_cursor(30) == CursorCheck::replay);  // frames > 30 are all still there
  CHECK(log->check_cursor(50) == CursorCheck::replay);
  CHECK(log->check_cursor(51) == CursorCheck::future);
  // A cursor before the oldest replays from the oldest (the caller sends OutdatedCursor).
  ReadAll all = read_all(*log, 5);
  CHECK(consecutive(all.seqs, 31, 50));
  CHECK(all.frames_ok);
  // Far in the future: everything but the newest segment goes.
  r = log->run_maintenance(10000000);
  CHECK_EQ(r.segments_deleted, 1u);
  CHECK_EQ(log->oldest_seq(), 41u);
  CHECK_EQ(log->counters().segments, 1u);
  CHECK(log->close().ok());
  log.reset();
  Status st;
  auto reopened = EventLog::open(options_for(d), &st);
  REQUIRE(reopened != nullptr);
  CHECK_EQ(reopened->oldest_seq(), 41u);
  CHECK_EQ(reopened->next_seq(), 51u);
}

TEST(log_retention_by_byte_cap_deletes_oldest_first) {
  TempDir d;
  auto log = timed_log(d, 60);
  REQUIRE(log != nullptr);
  uint64_t total = log->counters().bytes_on_disk;
  auto files = segment_files(d.events());
  REQUIRE(files.size() == 6);
  // Two and a half segments too many: the third-oldest must go too.
  uint64_t cap = total - file_size(files[0]) - file_size(files[1]) - file_size(files[2]) / 2;
  log->set_retention(0, cap);
  MaintenanceResult r = log->run_maintenance(61000);
  CHECK_EQ(r.segments_deleted, 3u);
  Counters c = log->counters();
  CHECK(c.bytes_on_disk <= cap);
  CHECK_EQ(c.oldest_seq, 31u);
  CHECK_EQ(c.segments_deleted, 3u);
  uint64_t on_disk = 0;
  for (const auto& f : segment_files(d.events())) on_disk += file_size(f);
  CHECK_EQ(on_disk, c.bytes_on_disk);
  // A cap below one segment still keeps the newest.
  log->set_retention(0, 1);
  log->run_maintenance(61000);
  CHECK_EQ(log->counters().segments, 1u);
  CHECK_EQ(log->oldest_seq(), 51u);
}

TEST(log_reader_keeps_reading_a_deleted_segment_and_reports_the_gap) {
  TempDir d;
  auto log = timed_log(d, 50);
  REQUIRE(log != nullptr);
  auto reader = log->open_reader(0);
  ReplayBatch b;
  REQUIRE(reader->read(b, 100).state == ReadState::frames);  // a frame or two of segment 1
  uint64_t pos = reader->position();
  CHECK(pos < 10);
  log->set_retention(15000, 0);
  REQUIRE(log->run_maintenance(50001).segments_deleted == 3);  // 1..30 unlinked
  std::vector<uint64_t> seen;
  bool gap = false;
  for (;;) {
    ReadResult r = reader->read(b);
    gap |= r.gap;
    if (r.state != ReadState::frames) break;
    for (size_t i = 0; i < b.frames.size(); ++i) {
      seen.push_back(b.frames[i].seq);
      std::vector<uint8_t> want = frame_for(b.frames[i].seq);
      CHECK(b.frame(i).size() == want.size() &&
            std::memcmp(b.frame(i).data(), want.data(), want.size()) == 0);
    }
  }
  // The rest of segment 1 came from the unlinked file; 11..30 are gone, and that is reported.
  REQUIRE(!seen.empty());
  CHECK_EQ(seen.front(), pos + 1);
  CHECK(gap);
  std::vector<uint64_t> tail(seen.begin() + static_cast<long>(10 - pos), seen.end());
  CHECK(consecutive(tail, 31, 50));
}
