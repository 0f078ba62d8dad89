// SPDX-License-Identifier: MIT
// RelayCore end to end, with its real threads (relay, verify workers, log) and a real log:
// summaries in per-DID order with verdicts, decisions applied in order (the log appends in
// decision order, seqs patched and every other byte kept), per-connection seq checks, retry
// after a key arrives, replace/emit with relay-built frames, flow control, publishing through a
// Downstream, restart continuing seqs, and close with events in flight.
#include <algorithm>
#include <mutex>
#include <set>

#include "firehose/frame.h"
#include "firehose/seq_patch.h"
#include "harness.h"
#include "relay_test_util.h"

using namespace ringlay;
using namespace ringlay::relay_test;

namespace {

const SummaryRecord* find_event(const Pipeline& p, uint64_t id) {
  for (const SummaryRecord& r : p.events) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// Records what the relay publishes and pauses, as the ring thread would see it.
struct FakeDownstream final : Downstream {
  std::mutex mu;
  std::vector<fanout::PublishFrame> frames;
  std::vector<std::pair<uint64_t, bool>> pauses;
  void publish(std::vector<fanout::PublishFrame>& f) override {
    std::lock_guard<std::mutex> l(mu);
    for (auto& x : f) frames.push_back(std::move(x));
    f.clear();
  }
  bool pause_upstream(uint64_t conn, bool pause) override {
    std::lock_guard<std::mutex> l(mu);
    pauses.emplace_back(conn, pause);
    return true;
  }
  size_t published() {
    std::lock_guard<std::mutex> l(mu);
    return frames.size();
  }
};

// The upstream frame with `seq` patched in, as the log must hold it.
std::vector<uint8_t> patched(const BytesRef& frame, uint64_t seq) {
  firehose::Parser p;
  firehose::Frame f;
  RL_ASSERT(p.parse(frame.span(), &f) == firehose::Error::ok);
  firehose::PatchError err;
  BytesRef b = firehose::patch_seq(frame.span(), f.seq_location, static_cast<int64_t>(seq), &err);
  return std::vector<uint8_t>(b.data(), b.data() + b.size());
}

}  // namespace

TEST(relay_core_accepts_in_decision_order_with_seqs_patched) {
  TempDir d;
  Pipeline p;
  REQUIRE(p.open(options_for(d)));
  auto down = std::make_shared<FakeDownstream>();
  p.core->attach(down);
  Accounts acc(3);
  acc.set_keys(*p.keys);
  std::vector<BytesRef> frames;
  for (int round = 0; round < 4; ++round) {
    for (size_t a = 0; a < 3; ++a) frames.push_back(acc.commit(a));
  }
  std::vector<BytesRef> sent = frames;
  p.core->ingest(7, 1, std::move(frames));
  REQUIRE(p.wait_for([&] { return p.events.size() == 12; }));

  // Per DID, summaries come in upstream order; every verdict is ok.
  std::map<std::string, std::vector<int64_t>> seqs_by_did;
  for (const SummaryRecord& r : p.events) {
    CHECK_EQ(std::string(firehose::name(r.verdict.reason)), std::string("ok"));
    CHECK(r.verdict.summary.type == firehose::Type::commit);
    CHECK_EQ(r.host, 7u);
    CHECK(r.verdict.key_version > 0);
    seqs_by_did[std::string(r.verdict.summary.did)].push_back(r.upstream_seq);
  }
  for (auto& [did, seqs] : seqs_by_did) CHECK(std::is_sorted(seqs.begin(), seqs.end()));

  // Decide account 2's events first, then 1's, then 0's: the log follows the decisions.
  std::vector<uint64_t> order;
  for (int a = 2; a >= 0; --a) {
    for (const SummaryRecord& r : p.events) {
      if (r.verdict.summary.did == acc.repos[static_cast<size_t>(a)]->did()) order.push_back(r.id);
    }
  }
  std::vector<Decision> ds;
  for (uint64_t id : order) ds.push_back(accept(id));
  p.decide(ds);
  REQUIRE(p.wait_for([&] { return p.written.size() == 12 && down->published() == 12; }));
  for (size_t i = 0; i < order.size(); ++i) {
    CHECK_EQ(p.written[i].first, order[i]);
    if (i > 0) CHECK(p.written[i].second > p.written[i - 1].second);
  }
  // The log holds each upstream frame with only the seq changed; the fan-out got the same.
  std::map<uint64_t, std::vector<uint8_t>> log = read_log(*p.core->log());
  CHECK_EQ(log.size(), size_t{12});
  for (size_t i = 0; i < order.size(); ++i) {
    const SummaryRecord* r = find_event(p, order[i]);
    REQUIRE(r != nullptr);
    const BytesRef& orig = sent[static_cast<size_t>(r->upstream_seq - 1)];
    CHECK(log[p.written[i].second] == patched(orig, p.written[i].second));
    std::lock_guard<std::mutex> l(down->mu);
    CHECK_EQ(down->frames[i].seq, p.written[i].second);
    CHECK(std::vector<uint8_t>(down->frames[i].payload.data(), down->frames[i].payload.data() + down->frames[i].payload.size()) ==
          log[p.written[i].second]);
  }
  REQUIRE(p.wait_for([&] { return p.durable >= p.written.back().second; }));
  relay::Stats s = p.core->stats();
  CHECK_EQ(s.accepted, uint64_t{12});
  CHECK_EQ(s.written, uint64_t{12});
  CHECK_EQ(s.pending, uint64_t{0});
  CHECK(p.close_and_wait());
}

TEST(relay_core_drops_replays_of_a_connection_before_validation) {
  TempDir d;
  Pipeline p;
  REQUIRE(p.open(options_for(d)));
  Accounts acc(1);
  acc.set_keys(*p.keys);
  BytesRef f1 = acc.commit(0), f2 = acc.commit(0), f3 = acc.commit(0);
  p.core->ingest(1, 40, {f1, f2, f1, f3, f2});
  REQUIRE(p.wait_for([&] { return p.events.size() == 5; }));
  size_t out_of_order = 0;
  std::vector<int64_t> ok_seqs;
  for (const SummaryRecord& r : p.events) {
    if (r.out_of_order) {
      ++out_of_order;
      CHECK(!r.frame);
    } else {
      ok_seqs.push_back(r.upstream_seq);
    }
  }
  CHECK_EQ(out_of_order, size_t{2});
  CHECK(ok_seqs == std::vector<int64_t>({1, 2, 3}));
  // A new connection (same id after the old one ended) starts afresh.
  p.core->connection_closed(40);
  p.core->ingest(1, 40, {f1});
  REQUIRE(p.wait_for([&] { return p.events.size() == 6; }));
  CHECK(!p.events.back().out_of_order);
  CHECK_EQ(p.core->stats().out_of_order, uint64_t{2});
  std::vector<Decision> ds;
  for (const SummaryRecord& r : p.events) ds.push_back(drop(r.id));
  p.decide(ds);
  REQUIRE(p.wait_for([&] { return p.core->stats().pending == 0; }));
  CHECK(p.close_and_wait());
}

TEST(relay_core_retry_after_key_replace_and_emit) {
  TempDir d;
  Pipeline p;
  REQUIRE(p.open(options_for(d)));
  Accounts acc(1);
  BytesRef f = acc.commit(0);
  p.core->ingest(3, 1, {f});
  REQUIRE(p.wait_for([&] { return p.events.size() == 1; }));
  CHECK_EQ(std::string(firehose::name(p.events[0].verdict.reason)), std::string("no_key"));
  uint64_t id = p.events[0].id;
  // The key arrives; the same event comes back validated under the same id.
  acc.set_keys(*p.keys);
  p.decide({{Action::retry, id, -1}});
  REQUIRE(p.wait_for([&] { return p.events.size() == 2; }));
  CHECK_EQ(p.events[1].id, id);
  CHECK_EQ(std::string(firehose::name(p.events[1].verdict.reason)), std::string("ok"));

  // replace: a relay-built #account is written under the event's id; emit: one more, no id.
  SynthFrame account;
  account.did = acc.repos[0]->did();
  account.time = "2024-01-01T00:00:00.000Z";
  account.active = false;
  account.status = "takendown";
  SynthFrame identity;
  identity.kind = SynthFrame::Kind::identity;
  identity.did = acc.repos[0]->did();
  identity.time = "2024-01-01T00:00:01.000Z";
  identity.handle = "alice.test";
  p.decide({{Action::replace, id, 0}, {Action::emit, 0, 1}}, {account, identity});
  REQUIRE(p.wait_for([&] { return p.written.size() == 1 && p.core->stats().written == 2; }));
  CHECK_EQ(p.written[0].first, id);
  std::map<uint64_t, std::vector<uint8_t>> log = read_log(*p.core->log());
  REQUIRE(log.size() == 2);
  firehose::Parser parser;
  firehose::Frame fr;
  auto it = log.begin();
  REQUIRE(parser.parse(it->second, &fr) == firehose::Error::ok);
  CHECK(fr.type == firehose::Type::account);
  CHECK_EQ(fr.seq, static_cast<int64_t>(it->first));
  CHECK_EQ(it->first, p.written[0].second);
  ++it;
  REQUIRE(parser.parse(it->second, &fr) == firehose::Error::ok);
  CHECK(fr.type == firehose::Type::identity);
  CHECK(fr.handle.has_value() && *fr.handle == "alice.test");
  // A decision for an id that is gone is counted, not applied.
  p.decide({accept(id)});
  REQUIRE(p.wait_for([&] { return p.core->stats().bad_decisions == 1; }));
  CHECK_EQ(p.core->stats().pending, uint64_t{0});
  CHECK(p.close_and_wait());
}

TEST(relay_core_flow_control_pauses_the_host_and_resumes_below_half) {
  TempDir d;
  Pipeline p;
  RelayOptions o = options_for(d);
  o.host_pending_limit = 4;
  REQUIRE(p.open(o));
  Accounts acc(2);
  acc.set_keys(*p.keys);
  std::vector<BytesRef> frames;
  for (int i = 0; i < 10; ++i) frames.push_back(acc.commit(static_cast<size_t>(i % 2)));
  // No downstream: pauses go to JS (the uWS transport pauses the socket).
  p.core->ingest(9, 77, std::move(frames));
  REQUIRE(p.wait_for([&] { return p.events.size() == 10; }));
  REQUIRE(!p.pauses.empty());
  CHECK_EQ(p.pauses[0].conn, uint64_t{77});
  CHECK(p.pauses[0].pause);
  CHECK(p.hosts[9].paused);
  CHECK_EQ(p.hosts[9].pending, 10u);
  CHECK_EQ(p.core->stats().paused_hosts, uint64_t{1});
  std::vector<Decision> ds;
  for (size_t i = 0; i < 8; ++i) ds.push_back(drop(p.events[i].id));
  p.decide(ds);
  REQUIRE(p.wait_for([&] { return p.hosts[9].pending == 2; }));
  CHECK(!p.hosts[9].paused);
  CHECK(!p.pauses.back().pause);
  CHECK_EQ(p.core->stats().paused_hosts, uint64_t{0});
  CHECK(p.close_and_wait());
}

TEST(relay_core_restart_continues_seqs) {
  TempDir d;
  Accounts acc(1);
  uint64_t last = 0;
  for (int run = 0; run < 2; ++run) {
    Pipeline p;
    RelayOptions o = options_for(d);
    o.log.initial_seq = 1000;
    REQUIRE(p.open(o));
    acc.set_keys(*p.keys);
    p.core->ingest(1, 1, {acc.commit(0), acc.commit(0)});
    REQUIRE(p.wait_for([&] { return p.events.size() == 2; }));
    p.decide({accept(p.events[0].id), accept(p.events[1].id)});
    REQUIRE(p.wait_for([&] { return p.written.size() == 2; }));
    CHECK(p.written[0].second > last);
    if (run == 0) CHECK_EQ(p.written[0].second, uint64_t{1000});
    last = p.written[1].second;
    CHECK(p.close_and_wait());
    // close() fsyncs: the last notice says everything written is durable.
    CHECK_EQ(p.durable, last);
  }
}

// close() while frames are being validated, decided and written: what was accepted before
// close is written, fsync'd and reported; the rest is let go; nothing leaks (ASan).
TEST(relay_core_close_with_events_in_flight) {
  TempDir d;
  Accounts acc(4);
  size_t accepted = 0;
  {
    Pipeline p;
    RelayOptions o = options_for(d);
    o.validator.pool.capacity = 16;  // most frames wait in the backlog
    REQUIRE(p.open(o));
    acc.set_keys(*p.keys);
    for (int batch = 0; batch < 10; ++batch) {
      std::vector<BytesRef> frames;
      for (int i = 0; i < 20; ++i) frames.push_back(acc.commit(static_cast<size_t>(i % 4)));
      p.core->ingest(2, 5, std::move(frames));
    }
    REQUIRE(p.wait_for([&] { return p.events.size() >= 30; }));
    std::vector<Decision> ds;
    for (const SummaryRecord& r : p.events) ds.push_back(accept(r.id));
    accepted = ds.size();
    p.decide(ds);
    p.core->close();  // right behind the decisions
    REQUIRE(p.wait_for([&] { return p.closed; }));
    p.core->join();
    CHECK_EQ(p.written.size(), accepted);
    CHECK(!p.written.empty() && p.durable == p.written.back().second);
    // Late calls are ignored.
    p.core->ingest(2, 5, {acc.commit(0)});
    p.decide({accept(1)});
  }
  // Everything reported written is in the log after a reopen.
  log_store::Status st;
  log_store::Options lo;
  lo.data_dir = d.path();
  lo.boot_id = "boot-test";
  auto log = log_store::EventLog::open(lo, &st);
  REQUIRE(log != nullptr);
  CHECK_EQ(read_log(*log).size(), accepted);
  CHECK(log->recovery().clean_shutdown);
}

TEST(relay_core_open_fails_cleanly_on_a_locked_log) {
  TempDir d;
  Pipeline a, b;
  REQUIRE(a.open(options_for(d)));
  log_store::Status st;
  CHECK(!b.open(options_for(d), &st));
  CHECK_EQ(std::string(log_store::name(st.reason)), std::string("locked"));
  CHECK(a.close_and_wait());
}

// A short --replay-window needs short-lived segments (retention deletes whole sealed ones):
// segment_max_age_ms rotates by age, so old frames leave replay and old cursors are outdated.
TEST(relay_log_rotates_by_age_so_retention_follows_a_short_window) {
  TempDir d;
  log_store::Options o;
  o.data_dir = d.path();
  o.boot_id = "boot-test";
  o.replay_window_ms = 1000;
  o.segment_max_age_ms = 100;
  log_store::Status st;
  auto log = log_store::EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  const std::string did = "did:plc:aging";
  const uint8_t frame[] = {1, 2, 3, 4};
  auto append_at = [&](uint64_t time_ms) {
    uint64_t seq = log->next_seq();
    log_store::AppendRecord r{seq, time_ms, did, frame};
    return log->append({&r, 1}).ok();
  };
  const uint64_t t0 = 1'700'000'000'000;
  REQUIRE(append_at(t0));
  REQUIRE(append_at(t0 + 50));   // same segment (younger than 100 ms)
  REQUIRE(append_at(t0 + 200));  // a new segment
  REQUIRE(append_at(t0 + 2000)); // and another
  CHECK_EQ(log->counters().segments, uint64_t{3});
  // At t0 + 1100 the first segment (newest record t0 + 50) is out of the 1 s window.
  log_store::MaintenanceResult m = log->run_maintenance(t0 + 1100);
  CHECK(m.status.ok());
  CHECK_EQ(m.segments_deleted, uint64_t{1});
  CHECK_EQ(log->oldest_seq(), uint64_t{3});
  CHECK_EQ(std::string(log_store::name(log->check_cursor(1))), std::string("outdated"));
  CHECK_EQ(std::string(log_store::name(log->check_cursor(2))), std::string("replay"));
  CHECK(log->close().ok());
}
