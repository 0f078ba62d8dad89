// SPDX-License-Identifier: MIT
// Retention: by replay window (record times injected) and by byte cap; the newest segment is
// never deleted; the window start (window_start()) that cursors and readers share.
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

// A reader holding a segment retention deleted keeps its fd, but once the window start has
// moved past its position it returns none of those records: the window is one notion for
// cursors and readers, so nothing check_cursor calls outdated is replayed afterwards. It
// reports the gap and goes on from the window. (Until this change the reader finished the
// unlinked segment first: records already declared outside the window.)
TEST(log_reader_holding_a_deleted_segment_stops_at_the_window_and_reports_the_gap) {
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
  CHECK_EQ(log->window_start(), 31u);
  CHECK(log->check_cursor(pos) == CursorCheck::outdated);
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
  CHECK(gap);
  CHECK(consecutive(seen, 31, 50));
}

// window_start(): where retention's deletions leave the window, for check_cursor and readers
// alike. ReaderStart::clamp (?cursor=0, outdated cursors, recovery, tools) starts at the window
// without a gap; ReaderStart::exact (a consumer's position) below it is a gap.
TEST(log_window_start_is_the_one_notion_for_cursors_and_readers) {
  TempDir d;
  auto log = timed_log(d, 50);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->window_start(), 1u);
  ReadAll exact0 = read_all(*log, 0);  // the whole log, nothing deleted: no gap either way
  CHECK(!exact0.gap && consecutive(exact0.seqs, 1, 50));
  log->set_retention(25000, 0);
  REQUIRE(log->run_maintenance(50001).segments_deleted == 2);  // 1..20
  CHECK_EQ(log->window_start(), 21u);
  CHECK_EQ(log->oldest_seq(), 21u);
  CHECK(log->check_cursor(19) == CursorCheck::outdated);
  CHECK(log->check_cursor(20) == CursorCheck::replay);
  struct Case {
    uint64_t after;
    ReaderStart start;
    bool gap;
  };
  for (Case c : {Case{5, ReaderStart::clamp, false}, Case{5, ReaderStart::exact, true},
                 Case{19, ReaderStart::exact, true}, Case{20, ReaderStart::exact, false},
                 Case{33, ReaderStart::exact, false}}) {
    auto reader = log->open_reader(c.after, c.start);
    ReplayBatch b;
    ReadResult r = reader->read(b);
    CHECK_EQ(r.gap, c.gap);
    REQUIRE(r.state == ReadState::frames && !b.frames.empty());
    CHECK_EQ(b.frames[0].seq, std::max<uint64_t>(c.after, 20) + 1);
  }
  // A clamp reader opened at the window as it was (the cursor decision), with retention
  // running before its first read: it follows the window. Once it has started, the window
  // passing it is a gap like for any reader.
  auto whole = log->open_reader(20, ReaderStart::clamp);
  auto plain = log->open_reader(20, ReaderStart::exact);
  REQUIRE(log->run_maintenance(60001).segments_deleted == 1);  // 21..30
  CHECK_EQ(log->window_start(), 31u);
  ReplayBatch b;
  ReadResult r = whole->read(b, 100);
  CHECK(!r.gap);
  REQUIRE(!b.frames.empty());
  CHECK_EQ(b.frames[0].seq, 31u);
  r = plain->read(b, 100);
  CHECK(r.gap);
  REQUIRE(!b.frames.empty());
  CHECK_EQ(b.frames[0].seq, 31u);
  REQUIRE(log->run_maintenance(70001).segments_deleted == 1);  // 31..40, under `whole`
  r = whole->read(b);
  CHECK(r.gap);
  REQUIRE(!b.frames.empty());
  CHECK_EQ(b.frames[0].seq, 41u);
  whole.reset();
  plain.reset();
  CHECK(log->close().ok());
}

// A fresh log numbered from --initial-seq-number: its window starts at its first record (a
// cursor below asks for seqs it never had: OutdatedCursor), the same answer as after a restart.
TEST(log_window_start_of_a_fresh_log_is_its_first_record) {
  TempDir d;
  Options o = options_for(d);
  o.initial_seq = 1000;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->window_start(), 0u);
  CHECK(log->check_cursor(0) == CursorCheck::replay);
  REQUIRE(append_n(*log, 5).ok());
  CHECK_EQ(log->window_start(), 1000u);
  CHECK(log->check_cursor(5) == CursorCheck::outdated);
  CHECK(log->check_cursor(999) == CursorCheck::replay);
  CHECK(log->close().ok());
  log.reset();
  auto reopened = EventLog::open(o, &st);
  REQUIRE(reopened != nullptr);
  CHECK_EQ(reopened->window_start(), 1000u);
  CHECK(reopened->check_cursor(5) == CursorCheck::outdated);
  CHECK(reopened->check_cursor(999) == CursorCheck::replay);
  CHECK(reopened->close().ok());
}
