// SPDX-License-Identifier: MIT
// Appending and replaying: exact bytes, reader positions, rotation, reopen, seq rules.
#include <atomic>
#include <chrono>
#include <thread>

#include "harness.h"
#include "log_test_util.h"

using namespace ringlay::log_test;

TEST(log_append_read_round_trip) {
  TempDir d;
  Status st;
  auto log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->next_seq(), 1u);
  CHECK_EQ(log->written_seq(), 0u);
  CHECK(log->check_cursor(0) == CursorCheck::replay);  // empty log: nothing to replay
  CHECK(log->check_cursor(1) == CursorCheck::future);
  REQUIRE(append_n(*log, 100, 7).ok());
  CHECK(log->check_cursor(0) == CursorCheck::replay);
  CHECK(log->check_cursor(100) == CursorCheck::replay);
  CHECK(log->check_cursor(101) == CursorCheck::future);
  CHECK_EQ(log->written_seq(), 100u);
  CHECK_EQ(log->next_seq(), 101u);
  ReadAll all = read_all(*log, 0);
  CHECK(consecutive(all.seqs, 1, 100));
  CHECK(all.frames_ok);
  CHECK_EQ(log->oldest_seq(), 1u);
  CHECK(log->sync().ok());
  CHECK_EQ(log->durable_seq(), 100u);
  Counters c = log->counters();
  CHECK_EQ(c.records_appended, 100u);
  CHECK_EQ(c.batches_appended, 15u);
  CHECK(c.fsyncs >= 1);
  CHECK_EQ(c.replay_frames, 100u);
}

TEST(log_reader_positions) {
  TempDir d;
  Options o = options_for(d);
  o.segment_max_bytes = 8 * 1024;  // ~30 records per segment
  o.index_interval_bytes = 512;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 200, 9).ok());
  CHECK(log->counters().segments > 5);
  for (uint64_t after : {0u, 1u, 57u, 99u, 150u, 199u}) {
    ReadAll r = read_all(*log, after);
    CHECK(consecutive(r.seqs, after + 1, 200));
    CHECK(r.frames_ok);
  }
  CHECK(read_all(*log, 200).seqs.empty());   // at the head: nothing
  CHECK(read_all(*log, 5000).seqs.empty());  // ahead of the head: nothing
  // Tiny batches still return every frame, one or more per call.
  ReadAll small = read_all(*log, 10, 64);
  CHECK(consecutive(small.seqs, 11, 200));
  // A reader at the head picks up what is appended later, without a gap or duplicate.
  auto reader = log->open_reader(log->written_seq());
  ReplayBatch b;
  CHECK(reader->read(b).state == ReadState::at_head);
  REQUIRE(append_n(*log, 50, 4).ok());
  std::vector<uint64_t> seen;
  while (reader->read(b).state == ReadState::frames) {
    for (const auto& f : b.frames) seen.push_back(f.seq);
  }
  CHECK(consecutive(seen, 201, 250));
  CHECK_EQ(reader->position(), 250u);
}

TEST(log_segments_are_named_by_first_seq_and_survive_reopen) {
  TempDir d;
  Options o = options_for(d);
  o.segment_max_records = 10;
  Status st;
  {
    auto log = EventLog::open(o, &st);
    REQUIRE(log != nullptr);
    REQUIRE(append_n(*log, 35, 4).ok());
    CHECK_EQ(log->counters().segments, 4u);
    CHECK(log->close().ok());
  }
  auto files = segment_files(d.events());
  REQUIRE(files.size() == 4);
  CHECK(files[0].ends_with("00000000000000000001.seg"));
  CHECK(files[1].ends_with("00000000000000000011.seg"));
  CHECK(files[3].ends_with("00000000000000000031.seg"));
  RecoveryReport rep;
  auto log = EventLog::open(o, &st, &rep);
  REQUIRE(log != nullptr);
  CHECK_EQ(rep.segments, 4u);
  CHECK_EQ(rep.last_seq, 35u);
  CHECK(rep.clean_shutdown);
  CHECK_EQ(rep.torn_bytes_cut, 0u);
  CHECK_EQ(rep.index_rebuilds, 0u);  // every sealed segment had its .idx
  CHECK_EQ(log->next_seq(), 36u);    // clean close: no gap
  REQUIRE(append_n(*log, 5).ok());
  ReadAll all = read_all(*log, 0);
  CHECK(consecutive(all.seqs, 1, 40));
  CHECK(all.frames_ok);
}

TEST(log_missing_index_is_rebuilt) {
  TempDir d;
  Options o = options_for(d);
  o.segment_max_records = 10;
  Status st;
  {
    auto log = EventLog::open(o, &st);
    REQUIRE(log != nullptr);
    REQUIRE(append_n(*log, 30, 5).ok());
  }
  ::unlink((d.events() + "/" + index_file_name(11)).c_str());
  RecoveryReport rep;
  auto log = EventLog::open(o, &st, &rep);
  REQUIRE(log != nullptr);
  CHECK_EQ(rep.index_rebuilds, 1u);
  CHECK(consecutive(read_all(*log, 14).seqs, 15, 30));
}

TEST(log_initial_seq_is_a_floor) {
  TempDir d;
  Options o = options_for(d);
  o.initial_seq = 20000000000ull;
  Status st;
  {
    auto log = EventLog::open(o, &st);
    REQUIRE(log != nullptr);
    CHECK_EQ(log->next_seq(), 20000000000ull);
    REQUIRE(append_n(*log, 3).ok());
  }
  o.initial_seq = 5;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->next_seq(), 20000000003ull);
  o.initial_seq = 30000000000ull;
  log.reset();
  log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  CHECK_EQ(log->next_seq(), 30000000000ull);
}

TEST(log_rejects_bad_batches_whole) {
  TempDir d;
  Status st;
  auto log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 5).ok());
  std::vector<uint8_t> f = frame_for(6);
  std::string did = "did:plc:x";
  AppendRecord below{5, 1, did, f};
  CHECK(log->append({&below, 1}).reason == Reason::seq_order);
  AppendRecord twice[2] = {{6, 1, did, f}, {6, 1, did, f}};
  CHECK(log->append(twice).reason == Reason::seq_order);
  AppendRecord huge{kMaxSeq + 1, 1, did, f};
  CHECK(log->append({&huge, 1}).reason == Reason::seq_limit);
  std::string long_did(kMaxDidBytes + 1, 'a');
  AppendRecord bad_did{6, 1, long_did, f};
  CHECK(log->append({&bad_did, 1}).reason == Reason::did_too_long);
  CHECK_EQ(log->written_seq(), 5u);
  CHECK_EQ(log->next_seq(), 6u);
  // Gaps are allowed.
  std::vector<uint8_t> f9 = frame_for(9);
  AppendRecord gap{9, 1, did, f9};
  CHECK(log->append({&gap, 1}).ok());
  CHECK_EQ(log->next_seq(), 10u);
  ReadAll all = read_all(*log, 4);
  REQUIRE(all.seqs.size() == 2);
  CHECK_EQ(all.seqs[0], 5u);
  CHECK_EQ(all.seqs[1], 9u);
  CHECK(all.frames_ok);
}

TEST(log_second_open_is_locked) {
  TempDir d;
  Status st;
  auto a = EventLog::open(options_for(d), &st);
  REQUIRE(a != nullptr);
  auto b = EventLog::open(options_for(d), &st);
  CHECK(b == nullptr);
  CHECK_EQ(std::string(name(st.reason)), std::string("locked"));
  CHECK(a->close().ok());
  CHECK(a->append({}).reason == Reason::closed);
  b = EventLog::open(options_for(d), &st);
  CHECK(b != nullptr);
}

TEST(log_large_frame_is_returned_whole) {
  TempDir d;
  Status st;
  auto log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  std::vector<uint8_t> big(300 * 1024);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
  std::vector<uint8_t> small = frame_for(2);
  std::string did = "did:plc:big";
  AppendRecord recs[3] = {{1, 1, did, big}, {2, 1, did, small}, {3, 1, did, big}};
  REQUIRE(log->append(recs).ok());
  auto reader = log->open_reader(0);
  ReplayBatch b;
  std::vector<size_t> sizes;
  while (reader->read(b, 4096).state == ReadState::frames) {
    for (size_t i = 0; i < b.frames.size(); ++i) {
      sizes.push_back(b.frames[i].size);
      if (b.frames[i].seq != 2) CHECK(std::memcmp(b.frame(i).data(), big.data(), big.size()) == 0);
      BytesRef copy = b.copy_frame(i);
      CHECK(std::memcmp(copy.data(), b.frame(i).data(), copy.size()) == 0);
    }
  }
  REQUIRE(sizes.size() == 3);
  CHECK_EQ(sizes[0], big.size());
  CHECK_EQ(sizes[1], small.size());
}

TEST(log_reader_follows_a_concurrent_writer) {
  TempDir d;
  Options o = options_for(d);
  o.segment_max_bytes = 16 * 1024;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  constexpr uint64_t kTotal = 3000;
  std::atomic<bool> ok{true};
  std::thread writer([&] {
    for (uint64_t done = 0; done < kTotal; done += 10) {
      if (!append_n(*log, 10, 10).ok()) ok = false;
    }
  });
  auto reader = log->open_reader(0);
  ReplayBatch b;
  uint64_t expect = 1;
  bool bytes_ok = true;
  // A deadline, not a spin count: the writer's pace depends on the machine's load.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (expect <= kTotal && std::chrono::steady_clock::now() < deadline) {
    ReadResult r = reader->read(b, 2048);
    if (r.state == ReadState::error) break;
    if (r.state == ReadState::at_head) std::this_thread::yield();
    for (size_t i = 0; i < b.frames.size(); ++i) {
      if (b.frames[i].seq != expect) bytes_ok = false;
      std::vector<uint8_t> want = frame_for(expect);
      if (b.frame(i).size() != want.size() || std::memcmp(b.frame(i).data(), want.data(), want.size()) != 0) {
        bytes_ok = false;
      }
      ++expect;
    }
  }
  writer.join();
  CHECK(ok.load());
  CHECK(bytes_ok);
  CHECK_EQ(expect, kTotal + 1);
}
