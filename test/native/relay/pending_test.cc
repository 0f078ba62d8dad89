// SPDX-License-Identifier: MIT
// The relay thread's bookkeeping on its own: pending ids (stale ids never find a reused slot),
// the per-connection seq check, and flow control (pause above the bound, resume below half,
// reconnects of a paused host, the table-wide byte bound).
#include <algorithm>

#include "cbor/encoder.h"
#include "harness.h"
#include "relay/pending.h"

using namespace ringlay;
using namespace ringlay::relay;

namespace {

BytesRef frame_with_seq(int64_t seq) {
  std::vector<uint8_t> out;
  cbor::Encoder e(out);
  e.map(2);
  e.key("t");
  e.text("#identity");
  e.key("op");
  e.int64(1);
  e.finish();
  e.map(3);
  e.key("did");
  e.text("did:plc:abc");
  e.key("seq");
  e.uint64(static_cast<uint64_t>(seq));
  e.key("time");
  e.text("2024-01-01T00:00:00.000Z");
  e.finish();
  return BytesRef::copy_of(out.data(), out.size());
}

size_t count(const std::vector<PauseChange>& v, uint64_t conn, bool pause) {
  return static_cast<size_t>(std::count_if(v.begin(), v.end(), [&](const PauseChange& p) { return p.conn == conn && p.pause == pause; }));
}

}  // namespace

TEST(pending_table_ids_are_unique_and_stale_ids_miss) {
  PendingTable t;
  uint64_t a = t.insert(BytesRef::copy_of("a"), 1, 10, 5, 100);
  uint64_t b = t.insert(BytesRef::copy_of("b"), 2, 11, 6, 100);
  REQUIRE(a != 0 && b != 0 && a != b);
  CHECK_EQ(t.size(), size_t{2});
  REQUIRE(t.find(a) != nullptr);
  CHECK_EQ(t.find(a)->host, 1u);
  CHECK_EQ(t.find(b)->upstream_seq, int64_t{6});
  t.release(a);
  CHECK(t.find(a) == nullptr);
  // The slot is reused with a new generation: the old id still misses.
  uint64_t c = t.insert(BytesRef::copy_of("c"), 3, 12, 7, 100);
  CHECK(c != a);
  CHECK(t.find(a) == nullptr);
  REQUIRE(t.find(c) != nullptr);
  CHECK_EQ(t.find(c)->host, 3u);
  CHECK(c < (uint64_t{1} << 53));
  t.release(a);  // releasing a stale id changes nothing
  CHECK_EQ(t.size(), size_t{2});
}

TEST(peek_upstream_seq_reads_every_head_size) {
  for (int64_t seq : {int64_t{0}, int64_t{23}, int64_t{24}, int64_t{255}, int64_t{256}, int64_t{65536},
                      int64_t{1} << 40, (int64_t{1} << 53) - 1}) {
    BytesRef f = frame_with_seq(seq);
    firehose::SeqLocation loc;
    CHECK_EQ(peek_upstream_seq(f.span(), &loc), seq);
    CHECK(loc.size >= 1);
  }
  const uint8_t junk[] = {0xa1, 0x61};
  CHECK_EQ(peek_upstream_seq(junk), int64_t{-1});
}

TEST(seq_order_is_per_connection_and_forgotten_on_close) {
  SeqOrder o;
  CHECK(o.admit(1, 5));
  CHECK(o.admit(1, 6));
  CHECK(!o.admit(1, 6));  // repeated
  CHECK(!o.admit(1, 3));  // older
  CHECK(o.admit(1, 7));
  CHECK(o.admit(2, 3));   // another connection has its own order
  CHECK(o.admit(1, -1));  // no seq (#info, error frames)
  o.forget(1);
  CHECK(o.admit(1, 2));   // a new connection with the same id starts afresh
  CHECK_EQ(o.connections(), size_t{2});
}

TEST(flow_control_pauses_above_the_bound_and_resumes_below_half) {
  FlowControl f(4, 0);
  std::vector<PauseChange> pauses;
  std::vector<HostCount> hosts;
  for (int i = 0; i < 4; ++i) f.add(7, 100, 10);
  f.take_changes(pauses, hosts);
  CHECK(pauses.empty());
  REQUIRE(hosts.size() == 1);
  CHECK_EQ(hosts[0].pending, 4u);
  CHECK(!hosts[0].paused);
  f.add(7, 100, 10);  // the fifth: over the bound
  pauses.clear();
  hosts.clear();
  f.take_changes(pauses, hosts);
  CHECK_EQ(count(pauses, 100, true), size_t{1});
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0].paused);
  CHECK_EQ(f.paused_hosts(), size_t{1});
  // A reconnect while paused starts paused.
  f.connection_closed(100);
  f.add(7, 101, 10);
  pauses.clear();
  f.take_changes(pauses, hosts);
  CHECK_EQ(count(pauses, 101, true), size_t{1});
  // Down to 3 (not yet half of 4): still paused; at 2 it resumes.
  for (int i = 0; i < 3; ++i) f.remove(7, 10);
  pauses.clear();
  f.take_changes(pauses, hosts);
  CHECK(pauses.empty());
  f.remove(7, 10);
  pauses.clear();
  hosts.clear();
  f.take_changes(pauses, hosts);
  CHECK_EQ(count(pauses, 101, false), size_t{1});
  CHECK_EQ(count(pauses, 100, false), size_t{0});  // closed: not resumed
  REQUIRE(hosts.size() == 1);
  CHECK_EQ(hosts[0].pending, 2u);
  CHECK(!hosts[0].paused);
  CHECK_EQ(f.pending(7), 2u);
}

TEST(flow_control_total_bytes_bound_pauses_delivering_hosts) {
  FlowControl f(1000, 100);
  std::vector<PauseChange> pauses;
  std::vector<HostCount> hosts;
  f.add(1, 10, 60);
  f.add(2, 20, 30);
  f.take_changes(pauses, hosts);
  CHECK(pauses.empty());
  f.add(2, 20, 30);  // total 120 > 100: host 2 (the one delivering) pauses
  f.take_changes(pauses, hosts);
  CHECK_EQ(count(pauses, 20, true), size_t{1});
  CHECK_EQ(count(pauses, 10, true), size_t{0});
  // Host 2's own count is small, but it resumes only when the total is at most half.
  pauses.clear();
  f.remove(2, 30);  // 90
  f.take_changes(pauses, hosts);
  CHECK(pauses.empty());
  f.remove(1, 60);  // 30: below half
  f.take_changes(pauses, hosts);
  CHECK_EQ(count(pauses, 20, false), size_t{1});
  CHECK_EQ(f.total_bytes(), uint64_t{30});
  CHECK_EQ(f.total_events(), uint64_t{1});
}
