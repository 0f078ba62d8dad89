// SPDX-License-Identifier: MIT
// The fan-out core's disk catch-up (fanout.h, "Cursors and disk catch-up") against a fake log
// held in memory: reads are served late and out of order, sockets accept random amounts or
// stall, publishing never stops, and every consumer must end with exactly the frames after
// its cursor, in order, byte-exact: no gap and no duplicate at any hand-off.
#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fanout/error_frame.h"
#include "fanout/fanout_sim.h"
#include "fanout/fanout.h"
#include "harness.h"
#include "ws/frame_parser.h"

using namespace ringlay;
using namespace ringlay::fanout;

namespace {

// Payload for a seq: the seq in text, then a seq-dependent filler of varying length.
std::string payload_for(uint64_t seq) {
  std::string s = "seq:" + std::to_string(seq) + ":";
  size_t n = 20 + (seq * 7919) % 3000;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + (seq + i) % 26));
  return s;
}

// The log: frames in seq order; reads make one buffer per chunk, frames as slices of it.
struct FakeLog {
  std::vector<uint64_t> seqs;
  uint64_t deleted_through = 0;  // retention: frames <= it are gone (a reader behind gets gap)
  bool fail = false;

  // As log_store::Reader: below the window a gap, unless the read asks for the whole window
  // (from_oldest: it starts at the window instead).
  DiskChunk read(const ReadRequest& r) const {
    DiskChunk c;
    uint64_t after = r.after_seq;
    const size_t max_bytes = r.max_bytes;
    if (fail) {
      c.state = ChunkState::error;
      return c;
    }
    if (after < deleted_through) {
      if (!r.from_oldest) {
        c.state = ChunkState::gap;
        return c;
      }
      after = deleted_through;
    }
    auto it = std::upper_bound(seqs.begin(), seqs.end(), after);
    c.position = after;
    if (it == seqs.end()) {
      c.state = ChunkState::at_head;
      return c;
    }
    std::string buf;
    for (; it != seqs.end(); ++it) {
      std::string p = payload_for(*it);
      if (!c.frames.empty() && buf.size() + p.size() > max_bytes) break;
      c.frames.push_back(DiskFrame{*it, static_cast<uint32_t>(buf.size()), static_cast<uint32_t>(p.size())});
      buf += p;
      c.position = *it;
    }
    c.state = ChunkState::frames;
    c.buffer = BytesRef::copy_of(buf);
    return c;
  }
};

struct Peer {
  ConsumerId id = 0;
  uint64_t cursor = 0;  // expected: every seq > cursor
  bool sending = false;
  bool closed = false;
  int stalled = 0;      // steps left without accepting anything
  SendBatch batch;
  std::string wire;
};

struct Sim {
  explicit Sim(Limits l) : f(l) {}
  Fanout f;
  FakeLog log;
  uint64_t last_seq = 0;
  std::map<ConsumerId, Peer> peers;
  std::deque<ReadRequest> queued_reads;                        // asked, not yet read
  std::vector<std::pair<ConsumerId, DiskChunk>> read_done;     // read, not yet supplied
  size_t max_frame = 0;

  // Write to the log, then publish: the relay's order.
  void publish(int n) {
    std::vector<PublishFrame> batch;
    for (int i = 0; i < n; ++i) {
      uint64_t seq = ++last_seq;
      log.seqs.push_back(seq);
      std::string p = payload_for(seq);
      max_frame = std::max(max_frame, p.size() + 4);
      batch.push_back({BytesRef::copy_of(p), seq});
    }
    f.publish(batch);
  }

  Peer& attach(Start start, uint64_t cursor) {
    ConsumerId id = f.attach_from({start, cursor, last_seq});
    Peer& p = peers[id];
    p.id = id;
    p.cursor = start == Start::live ? last_seq : cursor;
    return p;
  }

  // Collects read requests; reads some now, supplies some done ones (random order).
  void reads(std::mt19937& rng, int read_chance, int supply_chance) {
    std::vector<ReadRequest> reqs;
    f.take_reads(reqs);
    for (ReadRequest& r : reqs) {
      if (!r.release) queued_reads.push_back(r);
    }
    for (auto it = queued_reads.begin(); it != queued_reads.end();) {
      if (static_cast<int>(rng() % 100) < read_chance) {
        read_done.emplace_back(it->id, log.read(*it));
        it = queued_reads.erase(it);
      } else {
        ++it;
      }
    }
    std::shuffle(read_done.begin(), read_done.end(), rng);
    for (auto it = read_done.begin(); it != read_done.end();) {
      if (static_cast<int>(rng() % 100) < supply_chance) {
        f.supply(it->first, std::move(it->second));
        it = read_done.erase(it);
      } else {
        ++it;
      }
    }
  }

  void turn() { fanout_sim::turn(f, peers); }
  void accept(Peer& p, size_t n) { fanout_sim::settle(f, p, n); }

  // Every socket and read completes until nothing moves.
  void drain() {
    std::mt19937 rng(1);
    for (int round = 0; round < 200000; ++round) {
      reads(rng, 100, 100);
      for (auto& [id, p] : peers) {
        if (p.sending) accept(p, p.batch.bytes);
      }
      turn();
      bool busy = !queued_reads.empty() || !read_done.empty();
      for (auto& [id, p] : peers) busy |= p.sending;
      std::vector<ReadRequest> pending;
      f.take_reads(pending);
      for (ReadRequest& r : pending) {
        if (!r.release) queued_reads.push_back(r);
      }
      busy |= !queued_reads.empty();
      if (!busy) return;
    }
    ringlay::test::fail(__FILE__, __LINE__, "drain did not settle");
  }
};

struct Decoded {
  std::vector<std::string> messages;
  std::vector<std::string> closes;
  ws::FeedStatus status = ws::FeedStatus::ok;
};

Decoded decode(std::string_view wire) {
  ws::FrameParser p({ws::Role::client, 100 << 20, false});
  std::vector<ws::Event> events;
  Decoded d;
  d.status = p.feed(ws::as_bytes(wire), events);
  for (const ws::Event& e : events) {
    if (e.kind == ws::EventKind::message) d.messages.emplace_back(e.data.view());
    if (e.kind == ws::EventKind::close) d.closes.push_back(std::to_string(e.close_code) + ":" + e.close_reason);
  }
  return d;
}

// Messages must be exactly payload_for(cursor + 1 ... last).
bool exact_stream(const std::vector<std::string>& got, uint64_t cursor, uint64_t last, size_t skip = 0) {
  if (got.size() != skip + (last - cursor)) {
    ringlay::test::fail(__FILE__, __LINE__, "got " + std::to_string(got.size() - skip) + " frames, want " +
                                                std::to_string(last - cursor) + " (cursor " + std::to_string(cursor) + ")");
    return false;
  }
  for (uint64_t s = cursor + 1; s <= last; ++s) {
    if (got[skip + (s - cursor - 1)] != payload_for(s)) {
      ringlay::test::fail(__FILE__, __LINE__, "frame for seq " + std::to_string(s) + " differs");
      return false;
    }
  }
  return true;
}

Limits catch_up_limits() {
  Limits l;
  l.catch_up = true;
  l.queue_bytes = 64 * 1024;
  l.batch_bytes = 8 * 1024;
  l.read_bytes = 16 * 1024;
  l.min_window_bytes = 16 * 1024;
  l.max_lag_seqs = 1000000;
  return l;
}

}  // namespace

TEST(catchup_random_hand_offs_have_no_gap_or_duplicate) {
  for (uint32_t seed : {7u, 8u, 9u}) {
    std::mt19937 rng(seed);
    Limits lim = catch_up_limits();
    Sim sim(lim);
    sim.publish(400);  // history: only the newest min_window_bytes stay in memory
    CHECK(sim.f.stats().retained_bytes < lim.min_window_bytes + sim.max_frame);
    for (int step = 0; step < 5000; ++step) {
      int r = static_cast<int>(rng() % 100);
      if (r < 3 && sim.peers.size() < 16) {
        int kind = static_cast<int>(rng() % 4);
        uint64_t cursor = sim.last_seq == 0 ? 0 : rng() % (sim.last_seq + 1);
        if (kind == 0) sim.attach(Start::live, 0);
        else if (kind == 1) sim.attach(Start::replay, 0);
        else sim.attach(Start::replay, kind == 2 ? cursor : sim.last_seq - std::min<uint64_t>(sim.last_seq, rng() % 30));
      } else if (r < 40) {
        sim.publish(1 + static_cast<int>(rng() % 4));
      } else if (r < 42) {
        // Somebody stops reading for a while.
        if (!sim.peers.empty()) {
          auto it = sim.peers.begin();
          std::advance(it, rng() % sim.peers.size());
          it->second.stalled = 50 + static_cast<int>(rng() % 400);
        }
      } else {
        for (auto& [id, p] : sim.peers) {
          if (p.stalled > 0) {
            --p.stalled;
            continue;
          }
          if (p.sending && rng() % 2 == 0) sim.accept(p, rng() % 3 ? p.batch.bytes : rng() % (p.batch.bytes + 1));
        }
      }
      sim.reads(rng, 30, 30);
      sim.turn();
      // Memory bound: live consumers pin at most their bound (and the fixed minimum window);
      // catching-up ones hold one chunk (plus a partial frame and control frames).
      Stats st = sim.f.stats();
      REQUIRE(st.retained_bytes <= lim.queue_bytes + lim.min_window_bytes + 2 * sim.max_frame);
      for (auto& [id, p] : sim.peers) {
        if (sim.f.mode(id) == Mode::catching_up) {
          REQUIRE(sim.f.queued_bytes(id) <= lim.read_bytes + 2 * sim.max_frame + lim.control_bytes);
        }
      }
    }
    sim.drain();
    Stats st = sim.f.stats();
    CHECK_EQ(st.too_slow_evictions, 0u);
    CHECK(st.fallbacks > 0);  // stalls really pushed consumers to disk...
    CHECK(st.handoffs > st.fallbacks);  // ...and every one (and every replay) came back
    CHECK(st.catch_up_frames_sent > 0);
    CHECK_EQ(st.consumers_catching_up, 0u);
    CHECK_EQ(st.queued_bytes, 0u);
    REQUIRE(sim.peers.size() >= 8);
    for (auto& [id, p] : sim.peers) {
      CHECK(sim.f.mode(id) == Mode::live);
      Decoded d = decode(p.wire);
      REQUIRE(d.status == ws::FeedStatus::ok);
      REQUIRE(exact_stream(d.messages, p.cursor, sim.last_seq));
    }
  }
}

TEST(catchup_stalled_consumer_falls_back_to_disk_then_rejoins) {
  Limits lim = catch_up_limits();
  Sim sim(lim);
  Peer& fast = sim.attach(Start::live, 0);
  Peer& slow = sim.attach(Start::live, 0);
  ConsumerId fast_id = fast.id, slow_id = slow.id;
  std::mt19937 rng(3);
  // The slow socket takes nothing while 300 frames (~450 KB) go by.
  for (int i = 0; i < 300; ++i) {
    sim.publish(1);
    sim.turn();
    if (sim.peers[fast_id].sending) sim.accept(sim.peers[fast_id], sim.peers[fast_id].batch.bytes);
  }
  CHECK(sim.f.mode(slow_id) == Mode::catching_up);
  CHECK_EQ(sim.f.stats().fallbacks, 1u);
  // It pins nothing: only the fast consumer's needs and the fixed minimum remain.
  CHECK(sim.f.stats().retained_bytes <= lim.min_window_bytes + sim.max_frame);
  // Its first send was cut after 100 bytes; its position is that frame.
  sim.accept(sim.peers[slow_id], 100);
  uint64_t first_seq = sim.f.after_seq(slow_id);
  CHECK(first_seq >= 1 && first_seq < 10);
  // It reads again, while publishing goes on; reads are served late.
  for (int i = 0; i < 2000 && sim.f.mode(slow_id) != Mode::live; ++i) {
    if (i % 3 == 0) sim.publish(1);
    sim.reads(rng, 50, 50);
    sim.turn();
    for (auto& [id, p] : sim.peers) {
      if (p.sending) sim.accept(p, p.batch.bytes);
    }
  }
  CHECK(sim.f.mode(slow_id) == Mode::live);
  CHECK(sim.f.stats().handoffs >= 1);
  CHECK(sim.f.stats().catch_up_reads >= 5);
  sim.drain();
  CHECK(exact_stream(decode(sim.peers[slow_id].wire).messages, 0, sim.last_seq));
  CHECK(exact_stream(decode(sim.peers[fast_id].wire).messages, 0, sim.last_seq));
  CHECK_EQ(sim.f.stats().too_slow_evictions, 0u);
}

TEST(catchup_consumer_past_the_hard_bound_gets_consumer_too_slow) {
  Limits lim = catch_up_limits();
  lim.max_lag_seqs = 500;
  Sim sim(lim);
  std::mt19937 rng(5);
  ConsumerId stuck = sim.attach(Start::live, 0).id;
  ConsumerId ok = sim.attach(Start::live, 0).id;
  for (int i = 0; i < 3000 && sim.f.mode(stuck) != Mode::closing; ++i) {
    sim.publish(1);
    sim.reads(rng, 100, 100);
    sim.turn();
    if (sim.peers[ok].sending) sim.accept(sim.peers[ok], sim.peers[ok].batch.bytes);
    // The stuck socket never takes anything; while catching up it holds one chunk at most.
    if (sim.f.mode(stuck) == Mode::catching_up) {
      REQUIRE(sim.f.queued_bytes(stuck) <= lim.read_bytes + 2 * sim.max_frame);
    }
  }
  REQUIRE(sim.f.mode(stuck) == Mode::closing);
  Stats st = sim.f.stats();
  CHECK_EQ(st.fallbacks, 1u);
  CHECK_EQ(st.too_slow_lag, 1u);
  CHECK_EQ(st.too_slow_evictions, 1u);
  CHECK_EQ(std::string_view(sim.f.close_reason(stuck)), "too_slow");
  CHECK_EQ(sim.f.close_code(stuck), 1008);
  // It lagged by more than its allowance (the lag when it fell) + 500 before the eviction.
  CHECK(sim.last_seq - sim.f.after_seq(stuck) > 500);
  sim.drain();
  Decoded d = decode(sim.peers[stuck].wire);
  REQUIRE(!d.messages.empty());
  CHECK(d.messages.back() == std::string(too_slow_payload().view()));
  CHECK(d.closes == std::vector<std::string>{"1008:ConsumerTooSlow"});
  // Up to the error frame: a prefix of the stream, in order (nothing skipped before it).
  d.messages.pop_back();
  CHECK(exact_stream(d.messages, 0, d.messages.size()));
  CHECK(exact_stream(decode(sim.peers[ok].wire).messages, 0, sim.last_seq));
}

TEST(catchup_retention_gap_gets_consumer_too_slow) {
  Limits lim = catch_up_limits();
  Sim sim(lim);
  sim.publish(200);
  Peer& p = sim.attach(Start::replay, 10);
  std::mt19937 rng(1);
  sim.reads(rng, 100, 100);  // first chunk
  sim.turn();
  REQUIRE(p.sending);
  sim.accept(p, p.batch.bytes);
  sim.log.deleted_through = 150;  // retention ran past it
  for (int i = 0; i < 50 && sim.f.mode(p.id) != Mode::closing; ++i) {
    sim.reads(rng, 100, 100);
    sim.turn();
    if (p.sending) sim.accept(p, p.batch.bytes);
  }
  CHECK(sim.f.mode(p.id) == Mode::closing);
  CHECK_EQ(sim.f.stats().too_slow_gap, 1u);
  sim.drain();
  Decoded d = decode(p.wire);
  REQUIRE(d.messages.size() >= 2);
  CHECK(d.messages.back() == std::string(too_slow_payload().view()));
  CHECK(d.closes == std::vector<std::string>{"1008:ConsumerTooSlow"});
}

TEST(catchup_read_error_closes_with_1011) {
  Sim sim(catch_up_limits());
  sim.publish(50);
  sim.log.fail = true;
  Peer& p = sim.attach(Start::replay, 0);
  sim.drain();
  CHECK(p.closed);
  CHECK_EQ(sim.f.stats().read_errors, 1u);
  CHECK(decode(p.wire).closes == std::vector<std::string>{"1011:InternalError"});
}

TEST(catchup_outdated_and_future_starts) {
  Sim sim(catch_up_limits());
  sim.publish(100);
  std::string resp = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  // Outdated: the 101, the #info, then the window from the oldest kept frame.
  ConsumerId out = sim.f.attach_from({Start::outdated, 3, sim.last_seq}, BytesRef::copy_of(resp));
  sim.peers[out].id = out;
  // Future: the 101, FutureCursor, close 1008.
  ConsumerId fut = sim.f.attach_from({Start::future, 500, sim.last_seq}, BytesRef::copy_of(resp));
  sim.peers[fut].id = fut;
  sim.publish(5);
  sim.drain();
  std::string& ow = sim.peers[out].wire;
  REQUIRE(ow.compare(0, resp.size(), resp) == 0);
  Decoded od = decode(std::string_view(ow).substr(resp.size()));
  REQUIRE(!od.messages.empty());
  CHECK(od.messages[0] == std::string(outdated_cursor_payload().view()));
  CHECK(exact_stream(od.messages, 3, sim.last_seq, 1));
  std::string& fw = sim.peers[fut].wire;
  REQUIRE(fw.compare(0, resp.size(), resp) == 0);
  Decoded fd = decode(std::string_view(fw).substr(resp.size()));
  REQUIRE(fd.messages.size() == 1);
  CHECK(fd.messages[0] == std::string(future_cursor_payload().view()));
  CHECK(fd.closes == std::vector<std::string>{"1008:FutureCursor"});
  CHECK(sim.peers[fut].closed);
  CHECK_EQ(std::string_view(sim.f.close_reason(fut)), "future_cursor");
  Stats st = sim.f.stats();
  CHECK_EQ(st.cursor_outdated, 1u);
  CHECK_EQ(st.cursor_future, 1u);
}

TEST(catchup_cursor_inside_the_window_needs_no_read) {
  Limits lim = catch_up_limits();
  Sim sim(lim);
  ConsumerId keeper = sim.attach(Start::live, 0).id;  // never reads: pins the window
  (void)keeper;
  sim.publish(20);
  Peer& p = sim.attach(Start::replay, 12);
  CHECK(sim.f.mode(p.id) == Mode::live);
  std::vector<ReadRequest> reads;
  sim.f.take_reads(reads);
  CHECK(reads.empty());
  sim.publish(3);
  sim.drain();
  CHECK(exact_stream(decode(p.wire).messages, 12, sim.last_seq));
  CHECK_EQ(sim.f.stats().catch_up_reads, 0u);
}

TEST(catchup_info_frame_bytes) {
  // {t: "#info", op: 1} then {"name": "OutdatedCursor"} in DAG-CBOR (protocol.md §1.2, §1.5).
  CHECK_EQ(ringlay::test::hex(info_frame_payload("OutdatedCursor", "").view()),
           ringlay::test::hex("\xa2\x61t\x65#info\x62op\x01\xa1\x64name\x6e" "OutdatedCursor"));
  CHECK_EQ(ringlay::test::hex(future_cursor_payload().view()),
           ringlay::test::hex("\xa1\x62op\x20\xa2\x65" "error\x6c" "FutureCursor\x67" "message\x75" "Cursor in the future."));
}

// After a restart the fan-out's window is empty while the log holds everything the previous
// process wrote (replay.test.ts, "a cursor from before a restart"). An empty window must not
// pass for "nothing after this cursor": cursor 0 was attached live and got only what was
// written after the restart.
TEST(catchup_after_a_restart_cursors_read_what_the_previous_process_wrote) {
  Sim sim(catch_up_limits());
  for (uint64_t s = 1; s <= 30; ++s) sim.log.seqs.push_back(s);  // on disk, never published here
  sim.last_seq = 30;
  sim.f.start_after(30);  // what both drivers do when the replay log is set
  CHECK(!sim.f.index_after_seq(0).has_value());
  CHECK(!sim.f.index_after_seq(29).has_value());
  REQUIRE(sim.f.index_after_seq(30).has_value());
  CHECK_EQ(*sim.f.index_after_seq(30), sim.f.head_index());
  Peer& whole = sim.attach(Start::replay, 0);
  Peer& middle = sim.attach(Start::replay, 17);
  Peer& head = sim.attach(Start::replay, 30);
  Peer& live = sim.attach(Start::live, 0);
  CHECK(sim.f.mode(whole.id) == Mode::catching_up);
  CHECK(sim.f.mode(middle.id) == Mode::catching_up);
  CHECK(sim.f.mode(head.id) == Mode::live);  // nothing after it, in memory or on disk
  CHECK_EQ(sim.f.after_seq(live.id), 30u);   // the log's frames are before a live start
  sim.drain();
  CHECK(exact_stream(decode(whole.wire).messages, 0, 30));
  CHECK(exact_stream(decode(middle.wire).messages, 17, 30));
  CHECK(decode(head.wire).messages.empty());
  CHECK(decode(live.wire).messages.empty());
  sim.publish(12);
  sim.drain();
  for (Peer* p : {&whole, &middle, &head, &live}) {
    CHECK(sim.f.mode(p->id) == Mode::live);
    CHECK(exact_stream(decode(p->wire).messages, p->cursor, 42));
  }
  CHECK_EQ(sim.f.stats().too_slow_evictions, 0u);
}

// ?cursor=0 and outdated cursors start at the window start as decided; when retention moves it
// before their first read, that read starts at the new start (from_oldest), where a plain
// cursor that fell out of the window meanwhile is cut (gap), never served with a silent hole.
TEST(catchup_whole_window_start_follows_retention_before_the_first_read) {
  Sim sim(catch_up_limits());
  sim.publish(200);  // only the newest 16 KiB stay in memory
  sim.log.deleted_through = 40;
  std::string resp = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  ConsumerId whole = sim.f.attach_from({Start::replay, 40, sim.last_seq, true});
  ConsumerId outdated = sim.f.attach_from({Start::outdated, 40, sim.last_seq, true});
  sim.peers[whole].id = whole;
  sim.peers[outdated].id = outdated;
  Peer& plain = sim.attach(Start::replay, 60);
  sim.log.deleted_through = 100;  // before any of them has read
  sim.drain();
  CHECK(exact_stream(decode(sim.peers[whole].wire).messages, 100, 200));
  Decoded od = decode(sim.peers[outdated].wire);
  REQUIRE(!od.messages.empty());
  CHECK(od.messages[0] == std::string(outdated_cursor_payload().view()));
  CHECK(exact_stream(od.messages, 100, 200, 1));
  Decoded pd = decode(plain.wire);
  CHECK(pd.messages == std::vector<std::string>{std::string(too_slow_payload().view())});
  CHECK(pd.closes == std::vector<std::string>{"1008:ConsumerTooSlow"});
  CHECK_EQ(sim.f.stats().too_slow_gap, 1u);
  CHECK(sim.f.mode(whole) == Mode::live);
  // Only the first read may move: once it has read, a whole-window consumer's position is a
  // promise like any other (the window passing it is a gap).
  ConsumerId again = sim.f.attach_from({Start::replay, 100, sim.last_seq, true});
  Peer& a = sim.peers[again];
  a.id = again;
  std::vector<ReadRequest> reads;
  sim.f.take_reads(reads);
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].from_oldest);
  sim.f.supply(again, sim.log.read(reads[0]));
  reads.clear();
  for (int i = 0; i < 100 && reads.empty(); ++i) {  // until the chunk is used up
    sim.turn();
    if (a.sending) sim.accept(a, a.batch.bytes);
    sim.f.take_reads(reads);
  }
  REQUIRE(reads.size() == 1);
  CHECK(!reads[0].from_oldest);
  CHECK(reads[0].after_seq > 100);
}

// A live consumer attached to an empty log (after_seq 0) that falls behind before its first
// send continues from its first frame, not from 0: the log never had the seqs in between (here
// --initial-seq-number 1000) and would report them as a gap.
TEST(catchup_live_consumer_falling_behind_before_its_first_send_reads_from_its_first_frame) {
  Limits lim = catch_up_limits();
  Sim sim(lim);
  sim.last_seq = 999;  // the log's first seq will be 1000
  sim.log.deleted_through = 999;
  Peer& p = sim.attach(Start::live, 0);
  CHECK_EQ(sim.f.after_seq(p.id), 0u);
  sim.publish(1);
  sim.turn();
  REQUIRE(p.sending);  // its first send, never accepted
  for (int i = 0; i < 1000 && sim.f.mode(p.id) == Mode::live; ++i) sim.publish(1);
  REQUIRE(sim.f.mode(p.id) == Mode::catching_up);
  sim.accept(p, 0);
  std::vector<ReadRequest> reads;
  sim.f.take_reads(reads);
  REQUIRE(reads.size() == 1);
  CHECK_EQ(reads[0].after_seq, 999u);
  CHECK(!reads[0].from_oldest);
  sim.queued_reads.push_back(reads[0]);
  sim.drain();
  CHECK(exact_stream(decode(p.wire).messages, 999, sim.last_seq));
  CHECK_EQ(sim.f.stats().too_slow_evictions, 0u);
}
