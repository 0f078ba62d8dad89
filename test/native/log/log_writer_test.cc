// SPDX-License-Identifier: MIT
// The log thread: seqs assigned in append order, frames patched before they are written,
// completions report exactly what is in the log, patch failures leave no hole, and durable
// completions follow the group-commit policy.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "harness.h"
#include "log/log_writer.h"
#include "log_test_util.h"

using namespace ringlay::log_test;

namespace {

// The test's stand-in for firehose::patch_seq: the seq goes into the first 8 bytes. Tags that
// are multiples of 17 are "unpatchable".
BytesRef patch_first8(const BytesRef& frame, uint64_t hint, uint64_t seq) {
  if (hint % 17 == 0) return BytesRef();
  BytesRef out = BytesRef::copy_of(frame.data(), frame.size());
  for (int i = 0; i < 8; ++i) out.mutable_data()[i] = static_cast<uint8_t>(seq >> (8 * i));
  return out;
}

}  // namespace

TEST(log_writer_sequences_patches_and_reports) {
  TempDir d;
  Options o = options_for(d);
  o.sync_interval_ms = 5;
  o.segment_max_bytes = 64 * 1024;
  Status st;
  auto log = EventLog::open(o, &st);
  REQUIRE(log != nullptr);
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  REQUIRE(efd >= 0);
  std::atomic<int> wakes{0};
  LogWriter::Config cfg;
  cfg.patch = patch_first8;
  cfg.wake = [&] {
    ++wakes;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(efd, &one, sizeof one);
  };
  cfg.max_group_events = 64;
  auto writer = LogWriter::start(log.get(), cfg, &st);
  REQUIRE(writer != nullptr);

  constexpr uint64_t kPerThread = 600;
  auto produce = [&](uint64_t base) {
    for (uint64_t i = 0; i < kPerThread; i += 20) {
      std::vector<SubmitEvent> batch;
      for (uint64_t k = i; k < i + 20; ++k) {
        uint64_t tag = base + k;
        std::vector<uint8_t> f = frame_for(tag);
        batch.push_back({BytesRef::copy_of(f.data(), f.size()), tag, did_for(tag), 1000, tag});
      }
      writer->submit(std::move(batch));
    }
  };
  std::thread a(produce, 1), b(produce, 100001);
  std::map<uint64_t, uint64_t> seq_of_tag;
  std::vector<uint64_t> seqs;
  size_t rejected = 0, expected_rejects = 0;
  for (uint64_t t = 1; t <= kPerThread; ++t) expected_rejects += (t % 17 == 0) + ((100000 + t) % 17 == 0);
  uint64_t durable = 0;
  std::vector<Completion> done;
  for (int spins = 0; seqs.size() + rejected < 2 * kPerThread && spins < 20000; ++spins) {
    pollfd p{efd, POLLIN, 0};
    ::poll(&p, 1, 5);
    uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(efd, &v, sizeof v);
    writer->take(done);
    for (Completion& c : done) {
      CHECK(c.status.ok());
      for (const WrittenEvent& w : c.written) {
        CHECK(w.seq <= c.written_seq);            // only written frames are handed back
        CHECK(w.seq <= log->written_seq());
        seqs.push_back(w.seq);
        seq_of_tag[w.tag] = w.seq;
        CHECK(w.frame.size() >= 8 && w.frame.data()[0] == static_cast<uint8_t>(w.seq));
      }
      for (const RejectedEvent& rj : c.rejected) {
        CHECK(rj.reason == Reason::patch_failed);
        CHECK(rj.tag % 17 == 0);
        ++rejected;
      }
      durable = std::max(durable, c.durable_seq);
    }
  }
  a.join();
  b.join();
  CHECK_EQ(rejected, expected_rejects);
  REQUIRE(!seqs.empty());
  CHECK(consecutive(seqs, 1, seqs.size()));  // no hole where a patch failed
  writer->stop();
  writer->take(done);
  for (Completion& c : done) durable = std::max(durable, c.durable_seq);
  CHECK_EQ(log->durable_seq(), log->written_seq());
  CHECK_EQ(durable, log->written_seq());
  CHECK(wakes.load() > 0);
  CHECK(log->counters().fsyncs >= 1);
  // Replay returns the patched bytes: frame_for(tag) with the seq in its first 8 bytes.
  auto reader = log->open_reader(0);
  ReplayBatch rb;
  std::map<uint64_t, uint64_t> tag_of_seq;
  for (auto [tag, seq] : seq_of_tag) tag_of_seq[seq] = tag;
  size_t n = 0;
  bool bytes_ok = true;
  while (reader->read(rb).state == ReadState::frames) {
    for (size_t i = 0; i < rb.frames.size(); ++i, ++n) {
      std::vector<uint8_t> want = frame_for(tag_of_seq[rb.frames[i].seq]);
      for (int k = 0; k < 8; ++k) want[k] = static_cast<uint8_t>(rb.frames[i].seq >> (8 * k));
      auto got = rb.frame(i);
      bytes_ok &= got.size() == want.size() && std::memcmp(got.data(), want.data(), want.size()) == 0;
    }
  }
  CHECK_EQ(n, seqs.size());
  CHECK(bytes_ok);
  reader.reset();
  writer.reset();
  ::close(efd);
}

TEST(log_writer_rejects_everything_after_the_log_failed) {
  TempDir d;
  Status st;
  auto log = EventLog::open(options_for(d), &st);
  REQUIRE(log != nullptr);
  REQUIRE(log->close().ok());  // a closed log refuses appends, like a failed one
  LogWriter::Config cfg;
  auto writer = LogWriter::start(log.get(), cfg, &st);
  REQUIRE(writer != nullptr);
  std::vector<uint8_t> f = frame_for(1);
  std::vector<SubmitEvent> batch;
  batch.push_back({BytesRef::copy_of(f.data(), f.size()), 0, "did:plc:x", 1, 7});
  writer->submit(std::move(batch));
  writer->stop();
  std::vector<Completion> done;
  writer->take(done);
  REQUIRE(done.size() >= 1);
  CHECK(done[0].written.empty());
  REQUIRE(done[0].rejected.size() == 1);
  CHECK_EQ(done[0].rejected[0].tag, 7u);
  CHECK(done[0].rejected[0].reason == Reason::closed);
}
