// SPDX-License-Identifier: MIT
// Event-log throughput: appended records/s and MB/s with group commit, for 1 KB and 5 KB
// frames, three ways:
//   sync      EventLog::append() batches of --batch records on this thread, fdatasync when the
//             group-commit policy says so (default 100 ms / 8 MiB), as a caller-owned writer
//   strict    the same with fdatasync after every batch (sync_interval_ms = 0), rainbow-like
//   thread    through LogWriter (the log thread: seq assignment, a patch copy per frame,
//             completions), producers submitting batches of --batch events
// then replay: a Reader from seq 0 over everything written, 1 MiB per read (page cache warm).
// Wall-clock figures on a shared machine: compare runs made side by side, not across days.
//
//   node scripts/build-native.mjs --mode release --core-only --out build/bench
//   g++ -std=c++20 -O2 -fno-exceptions -pthread -Inative bench/native/log_append_bench.cc
//       build/bench/libringlay_core.a -lcrypto -o build/bench/log_append_bench
//   build/bench/log_append_bench [seconds=2] [batch=64] [dir=/tmp]
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "log/crc32c.h"
#include "log/event_log.h"
#include "log/log_writer.h"
#include "log/reader.h"

using namespace ringlay;
using namespace ringlay::log_store;

namespace {

double now_s() { return static_cast<double>(monotonic_ns()) / 1e9; }

struct Pool {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<std::string> dids;
  Pool(size_t size) {
    for (int i = 0; i < 256; ++i) {
      std::vector<uint8_t> f(size);
      for (size_t k = 0; k < size; ++k) f[k] = static_cast<uint8_t>(k * 131 + i);
      frames.push_back(std::move(f));
      dids.push_back("did:plc:" + std::to_string(100000000 + i * 7919) + "abcdefghijklmnop");
    }
  }
};

std::string make_dir(const std::string& base) {
  std::string t = base + "/ringlay-log-bench-XXXXXX";
  char* p = mkdtemp(t.data());
  return p != nullptr ? p : "";
}

void remove_dir(const std::string& dir) {
  nftw(dir.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

void report(const char* mode, size_t size, uint64_t records, uint64_t bytes, double secs, const EventLog& log) {
  Counters c = log.counters();
  double avg_ms = c.fsyncs > 0 ? static_cast<double>(c.fsync_ns_total) / 1e6 / static_cast<double>(c.fsyncs) : 0;
  std::printf("%-7s %5zu B  %10.0f records/s  %8.1f MB/s  fsyncs %5llu (avg %.2f ms, max %.2f ms)  "
              "lease renewals %llu\n",
              mode, size, static_cast<double>(records) / secs, static_cast<double>(bytes) / secs / 1e6,
              static_cast<unsigned long long>(c.fsyncs), avg_ms, static_cast<double>(c.fsync_ns_max) / 1e6,
              static_cast<unsigned long long>(c.lease_renewals));
}

void run_sync(const char* mode, const std::string& base, size_t size, size_t batch, double seconds, bool strict) {
  Pool pool(size);
  std::string dir = make_dir(base);
  Options o;
  o.data_dir = dir;
  if (strict) o.sync_interval_ms = 0;
  Status st;
  auto log = EventLog::open(o, &st);
  if (log == nullptr) {
    std::printf("open failed: %s\n", name(st.reason));
    return;
  }
  std::vector<AppendRecord> recs(batch);
  uint64_t records = 0, bytes = 0, i = 0;
  double t0 = now_s(), t = t0;
  while (t - t0 < seconds) {
    uint64_t seq = log->next_seq();
    for (size_t k = 0; k < batch; ++k, ++i) {
      recs[k] = {seq + k, 1700000000000 + i, pool.dids[i % 256], pool.frames[i % 256]};
    }
    if (!log->append(recs).ok()) break;
    if (log->sync_due(monotonic_ns()) && !log->sync().ok()) break;
    records += batch;
    bytes += batch * size;
    if ((records & 1023) < batch) t = now_s();
  }
  log->sync();
  double secs = now_s() - t0;
  report(mode, size, records, bytes, secs, *log);
  // Replay everything just written.
  auto reader = log->open_reader(0);
  ReplayBatch rb;
  uint64_t frames = 0, fbytes = 0;
  double r0 = now_s();
  while (reader->read(rb, 1 << 20).state == ReadState::frames) {
    frames += rb.frames.size();
    fbytes += rb.bytes();
  }
  double rs = now_s() - r0;
  if (!strict) {
    std::printf("replay  %5zu B  %10.0f frames/s   %8.1f MB/s  (%llu frames)\n", size,
                static_cast<double>(frames) / rs, static_cast<double>(fbytes) / rs / 1e6,
                static_cast<unsigned long long>(frames));
  }
  reader.reset();
  log.reset();
  remove_dir(dir);
}

void run_thread(const std::string& base, size_t size, size_t batch, double seconds) {
  Pool pool(size);
  std::string dir = make_dir(base);
  Options o;
  o.data_dir = dir;
  Status st;
  auto log = EventLog::open(o, &st);
  if (log == nullptr) return;
  LogWriter::Config cfg;
  // Stand-in for firehose::patch_seq: one allocation and copy per frame, as the real one does.
  cfg.patch = [](const BytesRef& f, uint64_t, uint64_t seq) {
    BytesRef out = BytesRef::copy_of(f.data(), f.size());
    std::memcpy(out.mutable_data(), &seq, sizeof seq);
    return out;
  };
  auto writer = LogWriter::start(log.get(), cfg, &st);
  std::vector<BytesRef> shared;
  for (auto& f : pool.frames) shared.push_back(BytesRef::copy_of(f.data(), f.size()));
  std::vector<Completion> done;
  uint64_t submitted = 0, written = 0, i = 0;
  double t0 = now_s();
  while (now_s() - t0 < seconds) {
    // Keep at most ~64 batches in flight, as a pipeline with bounded queues would.
    while (submitted - written < 64 * batch) {
      std::vector<SubmitEvent> evs(batch);
      for (auto& e : evs) {
        e = {shared[i % 256], 0, pool.dids[i % 256], 1700000000000 + i, i};
        ++i;
      }
      writer->submit(std::move(evs));
      submitted += batch;
    }
    writer->take(done);
    for (auto& c : done) written += c.written.size();
    if (done.empty()) usleep(50);
  }
  writer->stop();
  writer->take(done);
  for (auto& c : done) written += c.written.size();
  double secs = now_s() - t0;
  report("thread", size, written, written * size, secs, *log);
  writer.reset();
  log.reset();
  remove_dir(dir);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  size_t batch = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 64;
  std::string base = argc > 3 ? argv[3] : "/tmp";
  std::printf("event log bench: %.1f s per run, batches of %zu, crc32c %s, dir %s\n", seconds, batch,
              crc32c_hardware() ? "sse4.2" : "table", base.c_str());
  for (size_t size : {size_t{1024}, size_t{5120}}) {
    run_sync("sync", base, size, batch, seconds, false);
    run_sync("strict", base, size, batch, seconds, true);
    run_thread(base, size, batch, seconds);
  }
  return 0;
}
