// SPDX-License-Identifier: MIT
// The fan-out core driven by a simulated socket layer: each consumer's "socket" accepts a
// random part of every send, and what it accepted is parsed back as WebSocket frames.
#include "fanout/fanout.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fanout/error_frame.h"
#include "fanout/fanout_sim.h"
#include "harness.h"
#include "ws/frame_parser.h"

using namespace ringlay;
using namespace ringlay::fanout;
using namespace ringlay::fanout_sim;

namespace {

struct Peer {
  ConsumerId id = 0;
  bool sending = false;
  bool closed = false;
  SendBatch batch;
  std::string wire;  // bytes the socket accepted
};

struct Decoded {
  std::vector<std::string> messages;
  std::vector<std::string> controls;  // "ping:..", "pong:..", "close:code:reason"
  ws::FeedStatus status = ws::FeedStatus::ok;
};

Decoded decode(const std::string& wire) {
  ws::FrameParser p({ws::Role::client, 100 << 20, false});
  std::vector<ws::Event> events;
  Decoded d;
  d.status = p.feed(ws::as_bytes(wire), events);
  for (const ws::Event& e : events) {
    if (e.kind == ws::EventKind::message) d.messages.emplace_back(e.data.view());
    if (e.kind == ws::EventKind::pong) d.controls.push_back("pong:" + std::string(e.data.view()));
    if (e.kind == ws::EventKind::close) {
      d.controls.push_back("close:" + std::to_string(e.close_code) + ":" + e.close_reason);
    }
  }
  return d;
}

std::string random_payload(std::mt19937& rng, size_t max) {
  size_t n = rng() % 8 == 0 ? rng() % max : rng() % 300;
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string frame_bytes(std::string_view payload) {
  ws::FrameHeader h = ws::server_frame_header(ws::Opcode::binary, payload.size());
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.size) + std::string(payload);
}

}  // namespace

TEST(fanout_random_completions_deliver_every_frame_in_order) {
  std::mt19937 rng(42);
  Limits lim;
  lim.queue_bytes = 1 << 30;  // nobody is evicted here
  lim.batch_bytes = 8 * 1024;
  Fanout f(lim);
  std::map<ConsumerId, Peer> peers;
  std::map<ConsumerId, size_t> first_frame;  // index into `published` at attach time
  std::vector<std::string> published;
  for (int step = 0; step < 3000; ++step) {
    int r = rng() % 10;
    if (r == 0 && peers.size() < 24) {
      ConsumerId id = f.attach();
      peers[id].id = id;
      first_frame[id] = published.size();
    } else if (r < 4) {
      std::vector<PublishFrame> batch;
      for (int k = rng() % 4; k >= 0; --k) {
        published.push_back(random_payload(rng, 70000));
        batch.push_back({BytesRef::copy_of(published.back()), published.size()});
      }
      f.publish(batch);
    } else {
      for (auto& [id, p] : peers) {
        if (p.sending && rng() % 3 == 0) settle(f, p, rng() % 2 ? p.batch.bytes : rng() % (p.batch.bytes + 1));
      }
    }
    turn(f, peers);
  }
  // Drain: every socket now accepts everything.
  for (int round = 0; round < 100000; ++round) {
    bool any = false;
    for (auto& [id, p] : peers) {
      if (p.sending) {
        settle(f, p, p.batch.bytes);
        any = true;
      }
    }
    turn(f, peers);
    if (!any) break;
  }
  CHECK_EQ(f.stats().too_slow_evictions, 0u);
  CHECK_EQ(f.stats().queued_bytes, 0u);
  REQUIRE(peers.size() >= 10);
  for (auto& [id, p] : peers) {
    Decoded d = decode(p.wire);
    REQUIRE(d.status == ws::FeedStatus::ok);
    std::vector<std::string> want(published.begin() + first_frame[id], published.end());
    REQUIRE(d.messages.size() == want.size());
    CHECK(d.messages == want);
  }
  for (auto& [id, p] : peers) f.remove(id);
  CHECK_EQ(f.stats().retained_frames, 0u);
  CHECK_EQ(f.stats().retained_bytes, 0u);
  CHECK_EQ(f.stats().frames_published, published.size());
}

TEST(fanout_coalesces_frames_into_one_send) {
  Limits lim;
  lim.batch_items = 4;
  lim.batch_bytes = 2500;
  Fanout f(lim);
  ConsumerId id = f.attach();
  for (int i = 0; i < 10; ++i) f.publish(BytesRef::copy_of(std::string(10, static_cast<char>('a' + i))));
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  CHECK_EQ(b.items.size(), 4u);  // batch_items
  CHECK_EQ(b.iov.size(), 8u);    // header + payload per frame
  CHECK_EQ(b.bytes, 4u * 12u);
  SendBatch again;
  CHECK(f.next(id, again) == Action::none);  // one send in flight per consumer
  std::string wire;
  accept_bytes(b, b.bytes, wire);
  f.complete(id, b, b.bytes);
  CHECK_EQ(wire, frame_bytes("aaaaaaaaaa") + frame_bytes("bbbbbbbbbb") + frame_bytes("cccccccccc") +
                     frame_bytes("dddddddddd"));
  // Byte budget: 1000-byte frames, 2500-byte budget → three frames (the check is before each).
  Fanout g(lim);
  ConsumerId c = g.attach();
  for (int i = 0; i < 5; ++i) g.publish(BytesRef::copy_of(std::string(1000, 'x')));
  SendBatch gb;
  REQUIRE(g.next(c, gb) == Action::send);
  CHECK_EQ(gb.items.size(), 3u);
  // One frame larger than the budget still goes, alone.
  Fanout h(lim);
  ConsumerId d = h.attach();
  h.publish(BytesRef::copy_of(std::string(10000, 'y')));
  h.publish(BytesRef::copy_of(std::string(10, 'z')));
  SendBatch hb;
  REQUIRE(h.next(d, hb) == Action::send);
  CHECK_EQ(hb.items.size(), 1u);
  CHECK_EQ(hb.bytes, 10004u);
}

TEST(fanout_partial_sends_resume_mid_frame) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string(300, 'p')));
  f.publish(BytesRef::copy_of(std::string("second")));
  std::string wire;
  SendBatch b;
  // 0 bytes accepted: the same bytes come again.
  REQUIRE(f.next(id, b) == Action::send);
  size_t total = b.bytes;
  f.complete(id, b, 0);
  REQUIRE(f.next(id, b) == Action::send);
  CHECK_EQ(b.bytes, total);
  // Then one byte at a time.
  while (true) {
    accept_bytes(b, 1, wire);
    f.complete(id, b, 1);
    if (f.next(id, b) != Action::send) break;
  }
  CHECK_EQ(wire, frame_bytes(std::string(300, 'p')) + frame_bytes("second"));
  CHECK_EQ(f.queued_bytes(id), 0u);
}

TEST(fanout_attached_consumer_gets_only_later_frames) {
  Fanout f;
  ConsumerId early = f.attach();
  f.publish(BytesRef::copy_of(std::string("one")));
  ConsumerId late = f.attach();
  f.publish(BytesRef::copy_of(std::string("two")));
  SendBatch a, b;
  REQUIRE(f.next(early, a) == Action::send);
  REQUIRE(f.next(late, b) == Action::send);
  std::string wa, wb;
  accept_bytes(a, a.bytes, wa);
  accept_bytes(b, b.bytes, wb);
  CHECK_EQ(wa, frame_bytes("one") + frame_bytes("two"));
  CHECK_EQ(wb, frame_bytes("two"));
  CHECK_EQ(f.stats().consumers, 2u);
}

TEST(fanout_too_slow_consumer_is_evicted_with_error_frame) {
  Limits lim;
  lim.queue_bytes = 64 * 1024;
  lim.batch_bytes = 16 * 1024;
  Fanout f(lim);
  std::map<ConsumerId, Peer> peers;
  ConsumerId slow = f.attach();
  ConsumerId fast = f.attach();
  peers[slow].id = slow;
  peers[fast].id = fast;
  std::string payload(1000, 'f');
  int published = 3;
  for (int i = 0; i < published; ++i) f.publish(BytesRef::copy_of(payload));
  turn(f, peers);
  REQUIRE(peers[slow].sending);
  CHECK_EQ(peers[slow].batch.items.size(), 3u);
  // The slow socket takes one send and never finishes it; the fast one keeps up.
  while (f.mode(slow) == Mode::live) {
    f.publish(BytesRef::copy_of(payload));
    ++published;
    turn(f, peers);
    if (peers[fast].sending) settle(f, peers[fast], peers[fast].batch.bytes);
    turn(f, peers);
    REQUIRE(published < 1000);
  }
  CHECK_EQ(std::string_view(f.close_reason(slow)), "too_slow");
  CHECK_EQ(f.close_code(slow), 1008);
  CHECK_EQ(f.stats().too_slow_evictions, 1u);
  CHECK(f.mode(fast) == Mode::live);
  CHECK(f.queued_bytes(fast) <= lim.queue_bytes);
  // The evicted consumer no longer pins frames: only what the fast one still needs remains.
  CHECK(f.stats().retained_bytes <= 2 * 1004u);
  // Its first send completes halfway through a frame: the rest of that frame, then the error
  // frame, then the close frame.
  Peer& s = peers[slow];
  REQUIRE(s.sending);
  settle(f, s, 1500);
  for (int i = 0; i < 10 && !s.closed; ++i) {
    turn(f, peers);
    if (s.sending) settle(f, s, s.batch.bytes);
  }
  turn(f, peers);
  REQUIRE(s.closed);
  Decoded d = decode(s.wire);
  REQUIRE(d.status == ws::FeedStatus::closed);
  REQUIRE(d.messages.size() == 3);  // two data frames (one finished after eviction) + error
  CHECK(d.messages[0] == payload);
  CHECK(d.messages[1] == payload);
  CHECK(d.messages[2] == std::string(too_slow_payload().view()));
  REQUIRE(d.controls.size() == 1);
  CHECK_EQ(d.controls[0], "close:1008:ConsumerTooSlow");
  f.remove(slow);
  CHECK_EQ(f.stats().consumers, 1u);
}

TEST(fanout_never_sending_consumer_releases_memory) {
  Limits lim;
  lim.queue_bytes = 100 * 1024;
  Fanout f(lim);
  ConsumerId stuck = f.attach();  // the driver never even asks for a batch
  for (int i = 0; i < 1000; ++i) {
    f.publish(BytesRef::copy_of(std::string(1000, 'm')));
    CHECK(f.stats().retained_bytes <= lim.queue_bytes);
  }
  CHECK(f.mode(stuck) == Mode::closing);
  CHECK_EQ(f.stats().retained_frames, 0u);  // nobody else needs them
  // What it still holds: the error frame and the close frame, nothing else.
  size_t error_frame = too_slow_payload().size() + 2;
  CHECK_EQ(f.queued_bytes(stuck), error_frame + 2 + 2 + std::string_view("ConsumerTooSlow").size());
}

TEST(fanout_memory_bound_holds_over_a_long_run) {
  std::mt19937 rng(9);
  Limits lim;
  lim.queue_bytes = 256 * 1024;
  lim.batch_bytes = 32 * 1024;
  Fanout f(lim);
  std::map<ConsumerId, Peer> peers;
  std::map<ConsumerId, int> speed;  // 1..100: chance in 100 that a pending send completes per step
  auto add = [&](int s) {
    ConsumerId id = f.attach();
    peers[id].id = id;
    speed[id] = s;
  };
  for (int s : {100, 60, 30, 5, 1}) add(s);
  uint64_t max_retained = 0;
  for (int step = 0; step < 20000; ++step) {
    f.publish(BytesRef::copy_of(random_payload(rng, 20000)));
    Stats st = f.stats();
    max_retained = std::max(max_retained, st.retained_bytes);
    REQUIRE(st.retained_bytes <= lim.queue_bytes);
    for (auto it = peers.begin(); it != peers.end();) {
      Peer& p = it->second;
      if (p.sending && static_cast<int>(rng() % 100) < speed[p.id]) settle(f, p, rng() % (p.batch.bytes + 1));
      if (p.closed) {
        // Evicted and closed: the slow client reconnects.
        int s = speed[p.id];
        f.remove(p.id);
        speed.erase(p.id);
        it = peers.erase(it);
        add(s);
        continue;
      }
      ++it;
    }
    turn(f, peers);
  }
  Stats st = f.stats();
  CHECK(st.too_slow_evictions > 0);   // the slowest ones were evicted...
  CHECK(max_retained > lim.queue_bytes / 2);  // ...after the window really filled
  CHECK_EQ(st.consumers, 5u);
  for (auto& [id, p] : peers) CHECK(f.queued_bytes(id) <= lim.queue_bytes + 20000);
}

TEST(fanout_control_frames_go_at_frame_boundaries) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string(500, 'a')));
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  std::string wire;
  accept_bytes(b, 100, wire);  // mid-frame
  f.complete(id, b, 100);
  BytesRef pong = ws::encode_server_frame(ws::Opcode::pong, ws::as_bytes("hb"));
  REQUIRE(f.queue_control(id, pong));
  f.publish(BytesRef::copy_of(std::string("next")));
  REQUIRE(f.next(id, b) == Action::send);
  CHECK(b.items[0].kind == ItemKind::frame && b.items[0].skip == 100);
  CHECK(b.items[1].kind == ItemKind::control);
  CHECK(b.items[2].kind == ItemKind::frame);
  accept_bytes(b, b.bytes, wire);
  f.complete(id, b, b.bytes);
  CHECK_EQ(wire, frame_bytes(std::string(500, 'a')) + std::string(pong.view()) + frame_bytes("next"));
  // A ping flood cannot grow memory: the control queue is bounded.
  BytesRef big_pong = ws::encode_server_frame(ws::Opcode::pong, ws::as_bytes(std::string(100, 'x')));
  size_t accepted = 0;
  for (int i = 0; i < 1000; ++i) accepted += f.queue_control(id, big_pong) ? 1 : 0;
  CHECK(accepted > 0 && accepted < 1000);
  CHECK(accepted * big_pong.size() <= f.limits().control_bytes);
  CHECK_EQ(f.stats().control_refused, 1000u - accepted);
}

TEST(fanout_untouched_items_survive_a_zero_byte_send) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string(50, 'a')));
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  f.complete(id, b, 20);  // partial frame
  REQUIRE(f.queue_control(id, ws::encode_server_frame(ws::Opcode::pong, {})));
  REQUIRE(f.next(id, b) == Action::send);
  size_t bytes = b.bytes;
  f.complete(id, b, 0);  // nothing accepted: partial and pong must both come back
  REQUIRE(f.next(id, b) == Action::send);
  CHECK_EQ(b.bytes, bytes);
  REQUIRE(b.items.size() == 2);
  CHECK(b.items[0].skip == 20);
  CHECK(b.items[1].kind == ItemKind::control);
}

TEST(fanout_begin_close_finishes_the_frame_then_closes) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string(200, 'a')));
  f.publish(BytesRef::copy_of(std::string(200, 'b')));
  SendBatch b;
  std::string wire;
  REQUIRE(f.next(id, b) == Action::send);
  f.begin_close(id, 1000, "peer_closed");  // while the send is in flight
  accept_bytes(b, 250, wire);               // through the first frame, into the second
  f.complete(id, b, 250);
  REQUIRE(f.next(id, b) == Action::send);
  CHECK_EQ(b.close_code, 1000);
  CHECK_EQ(std::string_view(b.close_reason), "peer_closed");
  CHECK_EQ(b.close_text, "peer_closed");
  accept_bytes(b, b.bytes, wire);
  f.complete(id, b, b.bytes);
  CHECK(f.next(id, b) == Action::close);
  Decoded d = decode(wire);
  CHECK(d.status == ws::FeedStatus::closed);
  CHECK_EQ(d.messages.size(), 2u);
  CHECK_EQ(d.controls.at(0), "close:1000:peer_closed");
  CHECK_EQ(std::string_view(f.close_reason(id)), "peer_closed");
}

TEST(fanout_remove_with_send_in_flight_keeps_batch_bytes_alive) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string(1000, 'k')));
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  f.remove(id);
  f.publish(BytesRef::copy_of(std::string("released")));  // frees the window's copy
  CHECK_EQ(f.stats().retained_frames, 0u);
  std::string wire;
  accept_bytes(b, b.bytes, wire);  // ASan would flag a use-after-free here
  CHECK_EQ(wire, frame_bytes(std::string(1000, 'k')));
  CHECK(!f.contains(id));
  f.complete(id, b, b.bytes);  // ignored for a removed consumer
  // A new consumer in the same slot gets a different id.
  ConsumerId again = f.attach();
  CHECK(again != id);
  CHECK(!f.contains(id));
}

TEST(fanout_seq_lookup_and_attach_at) {
  Fanout f;
  ConsumerId keeper = f.attach();  // holds the window open
  for (uint64_t seq = 10; seq < 20; ++seq) f.publish(BytesRef::copy_of(std::to_string(seq)), seq);
  REQUIRE(f.index_after_seq(14).has_value());
  uint64_t at = *f.index_after_seq(14);
  CHECK_EQ(at, f.base_index() + 5);
  CHECK(!f.index_after_seq(5).has_value());  // older than the window: the log must serve it
  CHECK_EQ(*f.index_after_seq(19), f.head_index());
  // seq 9 may or may not have existed before the window: unknown here, so the log decides.
  CHECK(!f.index_after_seq(9).has_value());
  CHECK_EQ(*f.index_after_seq(10), f.base_index() + 1);
  auto late = f.attach_at(at);
  REQUIRE(late.has_value());
  SendBatch b;
  REQUIRE(f.next(*late, b) == Action::send);
  REQUIRE(b.items.size() == 5);
  CHECK_EQ(b.items[0].seq, 15u);
  CHECK_EQ(b.items[4].seq, 19u);
  CHECK(!f.attach_at(f.head_index() + 1).has_value());
  f.remove(keeper);
  f.remove(*late);
  CHECK_EQ(f.stats().retained_frames, 0u);
  CHECK(!f.index_after_seq(18).has_value());
  CHECK_EQ(*f.index_after_seq(19), f.head_index());
}

TEST(fanout_error_frame_bytes) {
  // {op: -1} then {"error": "ConsumerTooSlow", "message": "..."} in DAG-CBOR.
  std::string want = std::string("\xa1\x62op\x20\xa2\x65" "error\x6f" "ConsumerTooSlow\x67" "message\x78\x2c") +
                     "consumer too slow: send queue over its limit";
  CHECK_EQ(ringlay::test::hex(too_slow_payload().view()), ringlay::test::hex(want));
  CHECK_EQ(ringlay::test::hex(error_frame_payload("FutureCursor", "").view()),
           ringlay::test::hex("\xa1\x62op\x20\xa1\x65" "error\x6c" "FutureCursor"));
}

TEST(fanout_handshake_response_goes_first) {
  Fanout f;
  ConsumerId id = f.attach();
  f.publish(BytesRef::copy_of(std::string("early frame")));  // published before the 101 is sent
  std::string resp = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  REQUIRE(f.queue_control(id, BytesRef::copy_of(resp)));
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  std::string wire;
  accept_bytes(b, b.bytes, wire);
  CHECK_EQ(wire, resp + frame_bytes("early frame"));
}

TEST(fanout_echo_of_a_close_without_code) {
  Fanout f;
  ConsumerId id = f.attach();
  f.begin_close(id, ws::kCloseNoStatus, "peer_closed");
  SendBatch b;
  REQUIRE(f.next(id, b) == Action::send);
  std::string wire;
  accept_bytes(b, b.bytes, wire);
  CHECK_EQ(wire, std::string("\x88\x00", 2));  // a close frame with no status, as received
  f.complete(id, b, b.bytes);
  CHECK(f.next(id, b) == Action::close);
  CHECK_EQ(f.close_code(id), ws::kCloseNoStatus);
  // Closing consumers take no more control frames.
  CHECK(!f.queue_control(id, ws::encode_server_frame(ws::Opcode::pong, {})));
}
