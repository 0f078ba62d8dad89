// SPDX-License-Identifier: MIT
// The subscribeRepos cursor decision (relay/replay_cursor.h, protocol.md §1.6): the query
// parsing table, then the decision against a real event log as it grows and as retention
// deletes its oldest segments.
#include "relay/replay_cursor.h"

#include "harness.h"
#include "log/log_test_util.h"

using namespace ringlay;
using namespace ringlay::log_test;
using relay::CursorOutcome;

namespace {

struct Row {
  const char* query;
  bool present;
  bool bad;
  uint64_t value;
};

CursorOutcome outcome(std::string_view query, const EventLog* log, uint64_t* after = nullptr) {
  relay::StartDecision d = relay::decide_start(relay::parse_cursor(query), log);
  if (after != nullptr) *after = d.after_seq;
  return d.outcome;
}

}  // namespace

TEST(replay_cursor_parse_table) {
  const Row rows[] = {
      {"", false, false, 0},
      {"cursor=", false, false, 0},  // empty: no cursor (as indigo reads it)
      {"cursor", false, false, 0},
      {"xcursor=5&cursorx=6", false, false, 0},
      {"cursor=0", true, false, 0},
      {"cursor=42", true, false, 42},
      {"a=1&cursor=42&cursor=7", true, false, 42},  // the first one counts
      {"cursor=007", true, false, 7},
      {"cursor=%31%32", true, false, 12},
      {"cursor=9223372036854775807", true, false, 9223372036854775807ull},
      {"cursor=9223372036854775808", true, true, 0},
      {"cursor=99999999999999999999999", true, true, 0},
      {"cursor=-1", true, true, 0},
      {"cursor=%2D1", true, true, 0},
      {"cursor=1.5", true, true, 0},
      {"cursor=abc", true, true, 0},
      {"cursor=+5", true, true, 0},
      {"cursor=5%", true, true, 0},
      {"cursor=%zz", true, true, 0},
      {"cursor= 5", true, true, 0},
  };
  for (const Row& r : rows) {
    relay::CursorParam p = relay::parse_cursor(r.query);
    if (!CHECK(p.present == r.present && p.bad == r.bad && p.value == r.value)) {
      ringlay::test::fail(__FILE__, __LINE__, std::string("query: ") + r.query);
    }
  }
  CHECK_EQ(std::string_view(relay::name(CursorOutcome::bad)), "bad");
  CHECK(relay::bad_cursor_body().find("\"error\":\"BadRequest\"") != std::string::npos);
}

TEST(replay_cursor_decision_against_a_log) {
  TempDir d;
  Options o = options_for(d);
  o.segment_max_records = 10;
  o.replay_window_ms = 0;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  // Empty log: nothing was ever sent, so any cursor above 0 is in the future.
  CHECK(outcome("", log.get()) == CursorOutcome::live);
  CHECK(outcome("cursor=0", log.get()) == CursorOutcome::replay);
  CHECK(outcome("cursor=1", log.get()) == CursorOutcome::future);
  CHECK(outcome("cursor=x", log.get()) == CursorOutcome::bad);
  // Records 1..50, record k received at k seconds.
  for (uint64_t k = 1; k <= 50; ++k) REQUIRE(append_n(*log, 1, 1, k * 1000).ok());
  uint64_t after = 0;
  CHECK(outcome("cursor=0", log.get(), &after) == CursorOutcome::replay && after == 0);
  CHECK(outcome("cursor=20", log.get(), &after) == CursorOutcome::replay && after == 20);
  CHECK(outcome("cursor=50", log.get()) == CursorOutcome::replay);  // the head itself is valid
  CHECK(outcome("cursor=51", log.get()) == CursorOutcome::future);
  relay::StartDecision dec = relay::decide_start(relay::parse_cursor("cursor=20"), log.get());
  CHECK(dec.start == fanout::Start::replay);
  CHECK_EQ(dec.head_seq, 50u);
  // Retention deletes 1..30.
  log->set_retention(15000, 0);
  REQUIRE(log->run_maintenance(50001).segments_deleted == 3);
  CHECK_EQ(log->oldest_seq(), 31u);
  dec = relay::decide_start(relay::parse_cursor("cursor=5"), log.get());
  // Outdated: the whole window, exactly as cursor 0 (after the window start - 1, following it
  // should retention move it before the first read), not "after 5".
  CHECK(dec.outcome == CursorOutcome::outdated && dec.start == fanout::Start::outdated);
  CHECK_EQ(dec.after_seq, 30u);
  CHECK(dec.from_oldest);
  CHECK(outcome("cursor=29", log.get()) == CursorOutcome::outdated);
  CHECK(outcome("cursor=30", log.get()) == CursorOutcome::replay);  // nothing after 30 is gone
  // Cursor 0 asks for the whole window: no #info, although the log's check_cursor says outdated.
  CHECK(log->check_cursor(0) == CursorCheck::outdated);
  CHECK(outcome("cursor=0", log.get()) == CursorOutcome::replay);
  CHECK(outcome("cursor=51", log.get()) == CursorOutcome::future);
  // Without a log (no pipeline): 0 replays the (empty) window, anything else is in the future.
  CHECK(outcome("cursor=0", nullptr) == CursorOutcome::replay);
  CHECK(outcome("cursor=3", nullptr) == CursorOutcome::future);
  CHECK(outcome("", nullptr) == CursorOutcome::live);
  CHECK(log->close().ok());
}
