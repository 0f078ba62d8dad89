// SPDX-License-Identifier: MIT
// Recovery at open: torn tails, corruption, and the seq rules after kill -9 and power loss.
// The "crashed" states are copies of the files taken while a log is open (copy_events): the
// bytes a kill -9 leaves in the page cache, with an unclean lease and no lock.
#include "harness.h"
#include "log_test_util.h"

using namespace ringlay::log_test;

namespace {

// 20 records in one segment; the last one is small so that cutting at each byte is cheap.
// Returns false on setup failure. Snapshot is taken into snap_dir.
bool make_snapshot(const std::string& snap_dir, uint64_t* last_start, uint64_t* last_end) {
  TempDir live;
  Status st;
  auto log = EventLog::open(options_for(live), &st);
  if (log == nullptr || !append_n(*log, 19, 5).ok()) return false;
  auto files = segment_files(live.events());
  if (files.size() != 1) return false;
  *last_start = file_size(files[0]);
  std::vector<uint8_t> f = frame_for(20, 20, 0);
  AppendRecord r{20, 1000, "did:plc:last", f};
  if (!log->append({&r, 1}).ok() || !log->sync().ok()) return false;
  *last_end = file_size(files[0]);
  return copy_events(live.path(), snap_dir);  // then the live log closes: irrelevant
}

}  // namespace

TEST(log_torn_tail_cut_at_every_byte_of_the_last_record) {
  TempDir snap;
  uint64_t start = 0, end = 0;
  REQUIRE(make_snapshot(snap.path(), &start, &end));
  std::string seg_name = segment_file_name(1);
  for (uint64_t cut = start; cut <= end; ++cut) {
    TempDir work;
    REQUIRE(copy_events(snap.path(), work.path()));
    REQUIRE(truncate_file(work.events() + "/" + seg_name, cut));
    RecoveryReport rep;
    Status st;
    auto log = EventLog::open(options_for(work), &st, &rep);
    REQUIRE(log != nullptr);
    bool whole = cut == end;
    CHECK_EQ(rep.torn_bytes_cut, whole ? 0 : cut - start);
    CHECK_EQ(rep.torn_records_cut, (whole || cut == start) ? 0u : 1u);
    CHECK_EQ(rep.last_seq, whole ? 20u : 19u);
    CHECK(rep.same_boot);
    CHECK(!rep.clean_shutdown);
    // kill -9 in the same boot: the cut record was never acknowledged, numbering continues.
    CHECK_EQ(log->next_seq(), whole ? 21u : 20u);
    CHECK_EQ(file_size(work.events() + "/" + seg_name), whole ? end : start);
    ReadAll all = read_all(*log, 0);
    CHECK_EQ(all.seqs.size(), whole ? 20u : 19u);
    if (!whole) CHECK(consecutive(all.seqs, 1, 19));
  }
}

TEST(log_corrupt_byte_in_the_last_record_cuts_exactly_it) {
  TempDir snap;
  uint64_t start = 0, end = 0;
  REQUIRE(make_snapshot(snap.path(), &start, &end));
  std::string seg_name = segment_file_name(1);
  for (uint64_t at = start; at < end; ++at) {
    TempDir work;
    REQUIRE(copy_events(snap.path(), work.path()));
    REQUIRE(flip_byte(work.events() + "/" + seg_name, at, 0x80));
    RecoveryReport rep;
    Status st;
    auto log = EventLog::open(options_for(work), &st, &rep);
    REQUIRE(log != nullptr);
    CHECK_EQ(rep.torn_bytes_cut, end - start);
    CHECK_EQ(rep.last_seq, 19u);
    CHECK_EQ(log->next_seq(), 20u);
    REQUIRE(append_n(*log, 2).ok());
    ReadAll all = read_all(*log, 0);
    CHECK(consecutive(all.seqs, 1, 21));
    CHECK(all.frames_ok);
  }
}

TEST(log_damage_in_the_middle_is_skipped_not_cut) {
  TempDir snap;
  uint64_t start = 0, end = 0;
  REQUIRE(make_snapshot(snap.path(), &start, &end));
  std::string seg_name = segment_file_name(1);
  // Offsets of record 10: walk the records from the segment header.
  uint64_t off = kSegmentHeaderSize;
  for (uint64_t seq = 1; seq < 10; ++seq) off += kRecordHeaderSize + did_for(seq).size() + frame_for(seq).size();
  uint64_t rec10_len = kRecordHeaderSize + did_for(10).size() + frame_for(10).size();
  struct Case {
    uint64_t at;
    bool header;
  };
  for (Case c : {Case{off + rec10_len - 1, false}, Case{off + 20, true}}) {
    TempDir work;
    REQUIRE(copy_events(snap.path(), work.path()));
    REQUIRE(flip_byte(work.events() + "/" + seg_name, c.at, 0x01));
    RecoveryReport rep;
    Status st;
    auto log = EventLog::open(options_for(work), &st, &rep);
    REQUIRE(log != nullptr);
    CHECK_EQ(rep.torn_bytes_cut, 0u);  // later records are intact: nothing is cut
    CHECK_EQ(rep.last_seq, 20u);
    CHECK_EQ(log->next_seq(), 21u);
    if (c.header) CHECK_EQ(rep.corrupt_bytes, rec10_len);
    if (!c.header) CHECK_EQ(rep.damaged_records, 1u);
    ReadAll all = read_all(*log, 0);
    REQUIRE(all.seqs.size() == 19);
    CHECK_EQ(all.seqs[8], 9u);
    CHECK_EQ(all.seqs[9], 11u);  // record 10 is skipped, never returned damaged
    CHECK(log->counters().damaged_frames_skipped >= 1);
  }
}

TEST(log_power_loss_restarts_above_every_written_seq) {
  TempDir live, crashed;
  Options o = options_for(live);
  o.lease_block = 1000;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 700, 50).ok());
  REQUIRE(log->sync().ok());
  uint64_t durable_seq = log->durable_seq();
  uint64_t durable_size = file_size(segment_files(live.events())[0]);
  REQUIRE(append_n(*log, 2300, 50).ok());  // written (and "sent"), never fsync'd
  uint64_t max_written = log->written_seq();
  CHECK_EQ(max_written, 3000u);
  CHECK(log->counters().lease_renewals >= 2);
  REQUIRE(copy_events(live.path(), crashed.path()));
  // The power loss: what was not fsync'd is gone, and the machine rebooted.
  REQUIRE(truncate_file(segment_files(crashed.events())[0], durable_size));
  Options oc = options_for(crashed);
  oc.lease_block = 1000;
  oc.boot_id = "boot-B";
  RecoveryReport rep;
  auto after = EventLog::open(oc, &st, &rep);
  REQUIRE(after != nullptr);
  CHECK_EQ(rep.last_seq, durable_seq);
  CHECK(!rep.same_boot);
  CHECK(after->next_seq() > max_written);
  CHECK(after->next_seq() <= max_written + 1 + 1000);
  uint64_t resumed = after->next_seq();
  // And if that process is killed before appending anything (same boot B), the floor holds.
  TempDir crashed2;
  REQUIRE(copy_events(crashed.path(), crashed2.path()));
  Options oc2 = oc;
  oc2.data_dir = crashed2.path();
  auto again = EventLog::open(oc2, &st, &rep);
  REQUIRE(again != nullptr);
  CHECK(rep.same_boot);
  CHECK_EQ(again->next_seq(), resumed);
}

TEST(log_kill9_in_the_same_boot_continues_without_a_gap) {
  TempDir live, crashed;
  Options o = options_for(live);
  o.lease_block = 100;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 450, 10).ok());  // several lease renewals, no fsync of the data
  REQUIRE(copy_events(live.path(), crashed.path()));
  Options oc = options_for(crashed);
  oc.lease_block = 100;
  RecoveryReport rep;
  auto after = EventLog::open(oc, &st, &rep);
  REQUIRE(after != nullptr);
  CHECK(rep.same_boot);
  CHECK(!rep.clean_shutdown);
  CHECK_EQ(after->next_seq(), 451u);
}

TEST(log_lost_lease_skips_a_block) {
  TempDir d;
  Options o = options_for(d);
  o.lease_block = 5000;
  Status st;
  {
    auto log = EventLog::open(o, &st);
    REQUIRE(log != nullptr);
    REQUIRE(append_n(*log, 10).ok());
  }
  REQUIRE(::unlink((d.events() + "/seq.lease").c_str()) == 0);
  RecoveryReport rep;
  auto log = EventLog::open(o, &st, &rep);
  REQUIRE(log != nullptr);
  CHECK(!rep.lease_found);
  CHECK_EQ(log->next_seq(), 10u + 1 + 5000);
}

TEST(log_torn_lease_slot_falls_back_to_the_other) {
  TempDir d;
  Options o = options_for(d);
  o.lease_block = 10;
  Status st;
  {
    auto log = EventLog::open(o, &st);
    REQUIRE(log != nullptr);
    REQUIRE(append_n(*log, 30, 1).ok());  // renewals alternate between the two slots
    REQUIRE(log->sync().ok());
    // Not closed cleanly: keep the unclean state by copying before the destructor runs.
    TempDir copy;
    REQUIRE(copy_events(d.path(), copy.path()));
    SeqLease lease;
    bool found = false;
    REQUIRE(SeqLease::open(copy.events() + "/seq.lease", &lease, &found).ok());
    uint64_t gen = lease.state().generation;
    uint64_t end = lease.state().lease_end;
    // Tear the newest slot: the older one (smaller lease_end) must be used.
    REQUIRE(flip_byte(copy.events() + "/seq.lease", (gen % 2) * 4096 + 17, 0xFF));
    SeqLease torn;
    REQUIRE(SeqLease::open(copy.events() + "/seq.lease", &torn, &found).ok());
    CHECK(found);
    CHECK_EQ(torn.state().generation, gen - 1);
    CHECK(torn.state().lease_end < end);
    // A torn slot is a write that never returned, so no seq at or above the older slot's
    // lease_end was handed out (here the last appended seq, 30, is below it).
    CHECK(torn.state().lease_end > 30u);
    Options oc = o;
    oc.data_dir = copy.path();
    oc.boot_id = "boot-B";
    auto after = EventLog::open(oc, &st);
    REQUIRE(after != nullptr);
    CHECK_EQ(after->next_seq(), torn.state().lease_end);
  }
}
