// SPDX-License-Identifier: MIT
// Disk catch-up end to end against a real event log: the fan-out core asks, the ReplayReader
// thread reads the segment files, chunks come back late and in any order, sockets accept random
// amounts or stall, the writer keeps appending then publishing (write before publish, as the
// relay does). Every consumer must end with exactly the frames after its cursor, byte-exact.
#include "relay/replay_reader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "fanout/error_frame.h"
#include "fanout/fanout_sim.h"
#include "harness.h"
#include "log/log_test_util.h"
#include "relay/replay_cursor.h"
#include "ws/frame_parser.h"

using namespace ringlay;
using namespace ringlay::log_test;
using namespace ringlay::fanout;

namespace {

struct Peer {
  ConsumerId id = 0;
  uint64_t after = 0;  // expected stream: every seq > after (minus taken-down ones read from disk)
  bool sending = false;
  bool closed = false;
  int stalled = 0;
  SendBatch batch;
  std::string wire;
};

struct RealSim {
  TempDir dir;
  Limits limits;
  Options options;
  std::shared_ptr<EventLog> log;
  Fanout f;
  std::unique_ptr<relay::ReplayReader> reader;
  std::atomic<uint64_t> wakes{0};
  std::map<ConsumerId, Peer> peers;
  size_t reads_out = 0;  // posted, not yet supplied
  size_t max_frame = 0;

  explicit RealSim(Limits lim, uint64_t segment_records = 50) : limits(lim), f(lim) {
    options = options_for(dir);
    options.segment_max_records = segment_records;
    options.read_chunk_bytes = lim.read_bytes;
    Status st;
    log = std::shared_ptr<EventLog>(EventLog::open(options, &st));
    RL_ASSERT(log != nullptr);
    std::string error;
    reader = relay::ReplayReader::start(log, [this] { wakes.fetch_add(1); }, &error);
    RL_ASSERT(reader != nullptr);
  }
  ~RealSim() {
    reader.reset();  // before the log
    log->close();
  }

  // A new process on the same data dir, set up as the drivers do it (Driver::set_replay_log,
  // FanoutCore.setReplayLog): the log reopened, a fresh fan-out whose stream starts after the
  // log's written seq, a new reader thread. Consumers are gone.
  void restart() {
    reader.reset();
    RL_ASSERT(log->close().ok());
    log.reset();
    peers.clear();
    reads_out = 0;
    Status st;
    log = std::shared_ptr<EventLog>(EventLog::open(options, &st));
    RL_ASSERT(log != nullptr);
    f = Fanout(limits);
    std::string error;
    reader = relay::ReplayReader::start(log, [this] { wakes.fetch_add(1); }, &error);
    RL_ASSERT(reader != nullptr);
    f.start_after(log->written_seq());
  }

  void publish(size_t n, int accounts = 5, uint64_t time_ms = 1000) {
    uint64_t first = log->next_seq();
    RL_ASSERT(append_n(*log, n, n, time_ms, accounts).ok());
    std::vector<PublishFrame> frames;
    for (uint64_t s = first; s < first + n; ++s) {
      std::vector<uint8_t> bytes = frame_for(s);
      max_frame = std::max(max_frame, bytes.size() + 4);
      frames.push_back({BytesRef::copy_of(bytes.data(), bytes.size()), s});
    }
    f.publish(frames);
  }

  Peer& attach(std::string_view query) {
    relay::StartDecision d = relay::decide_start(relay::parse_cursor(query), log.get());
    ConsumerId id = f.attach_from(d);
    Peer& p = peers[id];
    p.id = id;
    p.after = d.start == Start::live ? log->written_seq() : d.after_seq;
    return p;
  }

  void service() {
    std::vector<relay::ReplayResult> results;
    reader->take(results);
    for (relay::ReplayResult& r : results) {
      --reads_out;
      f.supply(r.id, std::move(r.chunk));
    }
    std::vector<ReadRequest> reqs;
    f.take_reads(reqs);
    for (const ReadRequest& r : reqs) reads_out += r.release ? 0 : 1;
    reader->post(reqs);
  }

  void turn() { fanout_sim::turn(f, peers); }
  void accept(Peer& p, size_t n) { fanout_sim::settle(f, p, n); }

  bool drain() {
    for (int round = 0; round < 100000; ++round) {
      service();
      for (auto& [id, p] : peers) {
        if (p.sending) accept(p, p.batch.bytes);
      }
      turn();
      service();
      bool busy = reads_out > 0;
      for (auto& [id, p] : peers) busy |= p.sending;
      if (!busy) return true;
      if (reads_out > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
  }
};

std::vector<std::string> messages_of(const std::string& wire, ws::FeedStatus* status = nullptr) {
  ws::FrameParser p({ws::Role::client, 100 << 20, false});
  std::vector<ws::Event> events;
  ws::FeedStatus st = p.feed(ws::as_bytes(wire), events);
  if (status != nullptr) *status = st;
  std::vector<std::string> out;
  for (const ws::Event& e : events) {
    if (e.kind == ws::EventKind::message) out.emplace_back(e.data.view());
  }
  return out;
}

std::string frame_text(uint64_t seq) {
  std::vector<uint8_t> f = frame_for(seq);
  return std::string(f.begin(), f.end());
}

// Messages are frame_for(s) for every s in `want`, in order.
bool stream_is(const std::vector<std::string>& got, const std::vector<uint64_t>& want, size_t skip = 0) {
  if (got.size() != want.size() + skip) {
    ringlay::test::fail(__FILE__, __LINE__, "got " + std::to_string(got.size() - skip) + " frames, want " + std::to_string(want.size()));
    return false;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[skip + i] != frame_text(want[i])) {
      ringlay::test::fail(__FILE__, __LINE__, "frame " + std::to_string(i) + " is not seq " + std::to_string(want[i]));
      return false;
    }
  }
  return true;
}

std::vector<uint64_t> range(uint64_t after, uint64_t last) {
  std::vector<uint64_t> v;
  for (uint64_t s = after + 1; s <= last; ++s) v.push_back(s);
  return v;
}

Limits limits() {
  Limits l;
  l.catch_up = true;
  l.queue_bytes = 32 * 1024;
  l.batch_bytes = 8 * 1024;
  l.read_bytes = 8 * 1024;
  l.min_window_bytes = 8 * 1024;
  return l;
}

}  // namespace

TEST(replay_reader_random_catch_up_over_a_real_log) {
  std::mt19937 rng(11);
  Limits lim = limits();
  RealSim sim(lim);
  sim.publish(300);  // history on disk, beyond the window
  for (int step = 0; step < 4000; ++step) {
    int r = static_cast<int>(rng() % 100);
    uint64_t head = sim.log->written_seq();
    if (r < 3 && sim.peers.size() < 12) {
      switch (rng() % 4) {
        case 0: sim.attach(""); break;
        case 1: sim.attach("cursor=0"); break;
        case 2: sim.attach("cursor=" + std::to_string(rng() % (head + 1))); break;
        default: sim.attach("cursor=" + std::to_string(head - std::min<uint64_t>(head, rng() % 20))); break;
      }
    } else if (r < 40) {
      sim.publish(1 + rng() % 3);
    } else if (r < 42 && !sim.peers.empty()) {
      auto it = sim.peers.begin();
      std::advance(it, rng() % sim.peers.size());
      it->second.stalled = 100 + static_cast<int>(rng() % 300);
    } else {
      for (auto& [id, p] : sim.peers) {
        if (p.stalled > 0) {
          --p.stalled;
          continue;
        }
        if (p.sending && rng() % 2 == 0) sim.accept(p, rng() % 3 ? p.batch.bytes : rng() % (p.batch.bytes + 1));
      }
    }
    sim.service();
    sim.turn();
    for (auto& [id, p] : sim.peers) {
      if (sim.f.mode(id) == Mode::catching_up) {
        REQUIRE(sim.f.queued_bytes(id) <= lim.read_bytes + 2 * sim.max_frame + lim.control_bytes);
      }
    }
  }
  REQUIRE(sim.drain());
  Stats st = sim.f.stats();
  CHECK_EQ(st.too_slow_evictions, 0u);
  CHECK(st.fallbacks > 0);
  CHECK(st.handoffs > st.fallbacks);
  CHECK(st.catch_up_reads > 20);
  CHECK_EQ(st.consumers_catching_up, 0u);
  relay::ReplayReaderStats rs = sim.reader->stats();
  CHECK(rs.reads >= st.catch_up_reads);
  CHECK(sim.wakes.load() > 0);
  REQUIRE(sim.peers.size() >= 6);
  uint64_t last = sim.log->written_seq();
  for (auto& [id, p] : sim.peers) {
    ws::FeedStatus fs;
    std::vector<std::string> got = messages_of(p.wire, &fs);
    REQUIRE(fs == ws::FeedStatus::ok);
    REQUIRE(stream_is(got, range(p.after, last)));
  }
  // Rejoined consumers gave their readers back.
  for (auto& [id, p] : sim.peers) sim.f.remove(id);
  sim.service();
  for (int i = 0; i < 1000 && sim.reader->stats().readers_open > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK_EQ(sim.reader->stats().readers_open, 0u);
}

TEST(replay_reader_outdated_cursor_and_takedown_over_a_real_log) {
  Limits lim = limits();
  lim.min_window_bytes = 2048;  // about ten frames stay in memory
  RealSim sim(lim, 10);
  // Records 1..100 received long ago, then retention keeps only the newest segment.
  sim.publish(100);
  sim.log->set_retention(1, 0);
  REQUIRE(sim.log->run_maintenance(1000000).segments_deleted == 9);
  sim.publish(40);
  uint64_t oldest = sim.log->oldest_seq();
  CHECK_EQ(oldest, 91u);
  // did:plc:account3 is taken down: replay from disk skips its frames. Frames still in the
  // in-memory window at takedown time may still go out (fanout.h, HACKING.md): they are the
  // newest retained_frames ones.
  uint64_t window_front = sim.log->written_seq() - sim.f.stats().retained_frames + 1;
  CHECK(window_front > oldest + 10);
  bool changed = false;
  REQUIRE(sim.log->takedown("did:plc:account3", &changed).ok() && changed);
  Peer& outdated = sim.attach("cursor=5");
  Peer& whole = sim.attach("cursor=0");
  REQUIRE(sim.drain());
  uint64_t last = sim.log->written_seq();
  std::vector<std::string> got = messages_of(outdated.wire);
  REQUIRE(!got.empty());
  CHECK(got[0] == std::string(outdated_cursor_payload().view()));
  std::vector<std::string> w = messages_of(whole.wire);
  CHECK(std::vector<std::string>(got.begin() + 1, got.end()) == w);
  // Every other account's frame from the oldest on, in order; account3's only from the window
  // (did_for(seq) = account(seq % 5)).
  std::vector<uint64_t> seqs, others;
  for (const std::string& m : w) {
    uint64_t seq = 0;
    for (int i = 7; i >= 0; --i) seq = (seq << 8) | static_cast<uint8_t>(m[static_cast<size_t>(i)]);
    CHECK(m == frame_text(seq));
    CHECK(seqs.empty() || seq > seqs.back());
    seqs.push_back(seq);
    if (seq % 5 == 3) CHECK(seq >= window_front);
    else others.push_back(seq);
  }
  std::vector<uint64_t> want;
  for (uint64_t s = oldest; s <= last; ++s) {
    if (s % 5 != 3) want.push_back(s);
  }
  CHECK(others == want);
  CHECK(sim.log->counters().takedown_frames_skipped > 0);
  CHECK_EQ(sim.f.stats().cursor_outdated, 1u);
}

TEST(replay_reader_stalled_consumer_falls_back_and_rejoins_over_a_real_log) {
  Limits lim = limits();
  RealSim sim(lim);
  Peer& slow = sim.attach("");
  Peer& fast = sim.attach("");
  uint64_t from = sim.log->written_seq();
  for (int i = 0; i < 400; ++i) {
    sim.publish(1);
    sim.service();
    sim.turn();
    if (fast.sending) sim.accept(fast, fast.batch.bytes);
  }
  CHECK(sim.f.mode(slow.id) == Mode::catching_up);
  CHECK(sim.f.stats().retained_bytes <= lim.min_window_bytes + sim.max_frame);
  // It reads again while publishing goes on, until it is live.
  for (int i = 0; i < 20000 && sim.f.mode(slow.id) != Mode::live; ++i) {
    if (i % 4 == 0) sim.publish(1);
    sim.service();
    sim.turn();
    for (Peer* p : {&slow, &fast}) {
      if (p->sending) sim.accept(*p, p->batch.bytes);
    }
    if (sim.reads_out > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  CHECK(sim.f.mode(slow.id) == Mode::live);
  REQUIRE(sim.drain());
  uint64_t last = sim.log->written_seq();
  CHECK(stream_is(messages_of(slow.wire), range(from, last)));
  CHECK(stream_is(messages_of(fast.wire), range(from, last)));
  Stats st = sim.f.stats();
  CHECK_EQ(st.fallbacks, 1u);
  CHECK(st.handoffs >= 1);
  CHECK_EQ(st.too_slow_evictions, 0u);
}

// replay.test.ts "a cursor from before a restart": the new process's fan-out has published
// nothing while the log holds 1..60. Cursors given before anything new is written must get the
// previous process's frames from the log, then live; cursor 0 was attached live (its empty
// window taken for "nothing after 0") and got only what was written after the restart.
TEST(replay_reader_cursors_across_a_restart_get_the_previous_process_frames_then_live) {
  Limits lim = limits();
  RealSim sim(lim, 20);
  sim.publish(60);
  sim.restart();
  REQUIRE(sim.log->written_seq() == 60);
  Peer& whole = sim.attach("cursor=0");
  Peer& middle = sim.attach("cursor=25");
  Peer& head = sim.attach("cursor=60");
  Peer& live = sim.attach("");
  CHECK_EQ(whole.after, 0u);
  CHECK(sim.f.mode(whole.id) == Mode::catching_up);
  CHECK(sim.f.mode(middle.id) == Mode::catching_up);
  CHECK(sim.f.mode(head.id) == Mode::live);
  REQUIRE(sim.drain());
  CHECK(stream_is(messages_of(whole.wire), range(0, 60)));
  CHECK(stream_is(messages_of(middle.wire), range(25, 60)));
  CHECK(messages_of(head.wire).empty());
  CHECK(messages_of(live.wire).empty());
  // Then live: what the new process writes, with no gap or duplicate at the hand-off.
  for (int i = 0; i < 30; ++i) {
    sim.publish(1 + i % 3);
    sim.service();
    sim.turn();
  }
  REQUIRE(sim.drain());
  uint64_t last = sim.log->written_seq();
  for (Peer* p : {&whole, &middle, &head, &live}) {
    CHECK(sim.f.mode(p->id) == Mode::live);
    CHECK(stream_is(messages_of(p->wire), range(p->after, last)));
  }
  CHECK_EQ(sim.f.stats().too_slow_evictions, 0u);
}

// replay.test.ts "#info OutdatedCursor first, then the whole window": the fan-out keeps the
// newest frames in memory whatever the replay window, so it still held frames retention had
// deleted, and the outdated consumer was served "seq > cursor" from there (2..21 where cursor 0
// got 11..21). Both must start at the log's window start.
TEST(replay_reader_outdated_cursor_gets_what_cursor_0_gets_while_memory_holds_older_frames) {
  Limits lim = limits();
  lim.min_window_bytes = 1 << 20;  // every frame stays in memory
  RealSim sim(lim, 10);
  for (uint64_t k = 1; k <= 10; ++k) sim.publish(10, 5, k * 1000);  // segment k: seqs 10k-9..10k, at k s
  sim.log->set_retention(3500, 0);
  REQUIRE(sim.log->run_maintenance(10000).segments_deleted == 6);  // 1..60 end before 6.5 s
  CHECK_EQ(sim.log->window_start(), 61u);
  CHECK_EQ(sim.f.stats().retained_frames, 100u);
  Peer& outdated = sim.attach("cursor=1");
  Peer& whole = sim.attach("cursor=0");
  Peer& inside = sim.attach("cursor=70");
  CHECK_EQ(outdated.after, 60u);
  CHECK_EQ(whole.after, 60u);
  REQUIRE(sim.drain());
  std::vector<std::string> got = messages_of(outdated.wire);
  REQUIRE(!got.empty());
  CHECK(got[0] == std::string(outdated_cursor_payload().view()));
  CHECK(stream_is(got, range(60, 100), 1));
  CHECK(stream_is(messages_of(whole.wire), range(60, 100)));
  CHECK(stream_is(messages_of(inside.wire), range(70, 100)));
  CHECK_EQ(sim.f.stats().catch_up_reads, 0u);  // all from memory, all from the window start
}

// The same decision served from disk, with retention running between the decision and the
// first read: the whole-window consumers follow the window (ReaderStart::clamp on their first
// read), a plain cursor that fell out of it meanwhile is cut with ConsumerTooSlow (a gap),
// never given a silent hole.
TEST(replay_reader_whole_window_follows_retention_between_decision_and_first_read) {
  Limits lim = limits();
  lim.min_window_bytes = 2048;  // about ten frames in memory: the rest comes from disk
  RealSim sim(lim, 10);
  for (uint64_t k = 1; k <= 10; ++k) sim.publish(10, 5, k * 1000);
  sim.log->set_retention(8500, 0);
  REQUIRE(sim.log->run_maintenance(10000).segments_deleted == 1);  // 1..10
  Peer& outdated = sim.attach("cursor=3");
  Peer& whole = sim.attach("cursor=0");
  Peer& plain = sim.attach("cursor=15");
  CHECK_EQ(outdated.after, 10u);
  // The reads are asked for (take_reads) but not yet run when retention deletes 11..40.
  sim.log->set_retention(5500, 0);
  REQUIRE(sim.log->run_maintenance(10000).segments_deleted == 3);
  CHECK_EQ(sim.log->window_start(), 41u);
  REQUIRE(sim.drain());
  std::vector<std::string> got = messages_of(outdated.wire);
  REQUIRE(!got.empty());
  CHECK(got[0] == std::string(outdated_cursor_payload().view()));
  CHECK(stream_is(got, range(40, 100), 1));
  CHECK(stream_is(messages_of(whole.wire), range(40, 100)));
  std::vector<std::string> cut = messages_of(plain.wire);
  CHECK(cut == std::vector<std::string>{std::string(too_slow_payload().view())});
  CHECK_EQ(sim.f.stats().too_slow_gap, 1u);
}
