// SPDX-License-Identifier: MIT
// Takedowns: replay skips the account at once, maintenance scrubs its payloads from sealed
// segments, the set survives restarts, and a DID hash collision hides nobody else.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "harness.h"
#include "log_test_util.h"

using namespace ringlay::log_test;

namespace {

const std::string kTaken = "did:plc:account1";  // did_for(seq, 3) for seq % 3 == 1

bool file_contains(const std::string& path, const std::vector<uint8_t>& needle) {
  std::string bytes;
  if (read_small_file(path, &bytes, size_t{1} << 30) != 0) return false;
  return memmem(bytes.data(), bytes.size(), needle.data(), needle.size()) != nullptr;
}

bool contains_file_of(const TempDir& d, uint64_t seq) {
  for (const auto& f : segment_files(d.events())) {
    if (file_contains(f, frame_for(seq))) return true;
  }
  return false;
}

std::vector<uint64_t> expected_without_taken(uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = 1; s <= last; ++s) {
    if (s % 3 != 1) out.push_back(s);
  }
  return out;
}

Options takedown_options(const TempDir& d) {
  Options o = options_for(d);
  o.segment_max_records = 10;
  o.replay_window_ms = 0;
  return o;
}

}  // namespace

TEST(log_takedown_skips_scrubs_and_persists) {
  TempDir d;
  Status st;
  auto log = EventLog::open(takedown_options(d), &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 60, 5, 1000, 3).ok());  // segments 1..50 sealed, 51..60 active
  bool changed = false;
  REQUIRE(log->takedown(kTaken, &changed).ok());
  CHECK(changed);
  REQUIRE(log->takedown(kTaken, &changed).ok());
  CHECK(!changed);
  CHECK(log->is_taken_down(kTaken));
  // Replay skips the account at once, before any scrub.
  ReadAll r = read_all(*log, 0);
  CHECK(r.seqs == expected_without_taken(60));
  CHECK(r.frames_ok);
  CHECK(contains_file_of(d, 4));
  // Scrub: sealed segments only (seqs 1..50: 17 records of account1).
  MaintenanceResult m = log->run_maintenance(100000);
  CHECK(m.status.ok());
  CHECK_EQ(m.records_scrubbed, 17u);
  CHECK(!contains_file_of(d, 4));   // gone from disk
  CHECK(!contains_file_of(d, 49));
  CHECK(contains_file_of(d, 52));   // active segment: not yet (replay still skips it)
  CHECK(contains_file_of(d, 5));    // other accounts untouched
  CHECK(read_all(*log, 0).seqs == expected_without_taken(60));
  CHECK_EQ(log->counters().takedown_records_scrubbed, 17u);
  // Nothing new to scrub: segments remember the takedown generation they were scrubbed at.
  CHECK_EQ(log->run_maintenance(100000).records_scrubbed, 0u);
  CHECK(log->close().ok());
  log.reset();

  RecoveryReport rep;
  log = EventLog::open(takedown_options(d), &st, &rep);
  REQUIRE(log != nullptr);
  CHECK(log->is_taken_down(kTaken));
  CHECK(read_all(*log, 0).seqs == expected_without_taken(60));
  // The former active segment is sealed now; only its 3 records of account1 are scrubbed,
  // the .idx files kept the others from being rescanned.
  m = log->run_maintenance(100000);
  CHECK_EQ(m.records_scrubbed, 3u);
  CHECK_EQ(m.segments_scrubbed, 1u);
  CHECK(!contains_file_of(d, 52));
  // Reversing restores replay of what was not scrubbed (nothing, here) and of new frames.
  REQUIRE(log->reverse_takedown(kTaken, &changed).ok());
  CHECK(changed);
  REQUIRE(append_n(*log, 3, 3, 1000, 3).ok());  // 61 (account1), 62, 63
  ReadAll after = read_all(*log, 55);
  CHECK(after.seqs == (std::vector<uint64_t>{56, 57, 59, 60, 61, 62, 63}));
}

TEST(log_takedown_hash_collision_keeps_other_dids) {
  TempDir d;
  Options o = takedown_options(d);
  o.did_hasher = [](std::string_view) -> uint64_t { return 42; };  // every DID collides
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  REQUIRE(append_n(*log, 30, 4, 1000, 3).ok());
  bool changed = false;
  REQUIRE(log->takedown(kTaken, &changed).ok());
  CHECK(!log->is_taken_down("did:plc:account2"));
  ReadAll r = read_all(*log, 0);
  CHECK(r.seqs == expected_without_taken(30));
  CHECK(r.frames_ok);
  MaintenanceResult m = log->run_maintenance(100000);
  CHECK_EQ(m.records_scrubbed, 7u);  // account1 among seqs 1..20 (sealed)
  CHECK(contains_file_of(d, 2));
  CHECK(contains_file_of(d, 3));
  CHECK(!contains_file_of(d, 1));
  ReadAll again = read_all(*log, 0);
  CHECK(again.seqs == expected_without_taken(30));
  CHECK(again.frames_ok);
}

TEST(log_takedown_file_survives_a_torn_append) {
  TempDir d;
  Status st;
  {
    auto log = EventLog::open(options_for(d), &st);
    REQUIRE(log != nullptr);
    bool changed = false;
    REQUIRE(log->takedown("did:plc:one", &changed).ok());
    REQUIRE(log->takedown("did:plc:two", &changed).ok());
    REQUIRE(log->reverse_takedown("did:plc:one", &changed).ok());
  }
  // A crash in the middle of appending a fourth entry.
  std::string path = d.events() + "/takedowns";
  uint64_t good = file_size(path);
  int err = 0;
  Fd fd = open_fd(path, O_WRONLY | O_APPEND, 0, &err);
  REQUIRE(fd);
  const char torn[] = {0x11, 0x22, 0x33, 0x44, 0x01, 0x30};
  REQUIRE(::write(fd.get(), torn, sizeof torn) == static_cast<ssize_t>(sizeof torn));
  fd.reset();
  auto log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  CHECK(!log->is_taken_down("did:plc:one"));
  CHECK(log->is_taken_down("did:plc:two"));
  CHECK(log->takedown_list() == std::vector<std::string>{"did:plc:two"});
  CHECK_EQ(file_size(path), good);
  bool changed = false;
  REQUIRE(log->takedown("did:plc:three", &changed).ok());
  CHECK(changed);
  log.reset();
  log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  CHECK(log->is_taken_down("did:plc:three"));
}
