// SPDX-License-Identifier: MIT
// Helpers for the event-log tests: a temporary data directory removed on scope exit,
// deterministic frames derived from their seq (so any stored byte can be checked), and small
// wrappers for appending and reading everything.
#pragma once

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "log/event_log.h"
#include "log/reader.h"

namespace ringlay::log_test {

using namespace ringlay::log_store;
using ringlay::BytesRef;

class TempDir : public ringlay::test::TempDir {
 public:
  TempDir() : ringlay::test::TempDir("ringlay-log") {}
  std::string events() const { return path() + "/events"; }
};

// Frame bytes for a seq: the seq in the first 8 bytes, then a seq-dependent pattern. Sizes
// vary between min_size and min_size + spread.
inline std::vector<uint8_t> frame_for(uint64_t seq, size_t min_size = 40, size_t spread = 300) {
  size_t n = min_size + static_cast<size_t>((seq * 7919) % (spread + 1));
  std::vector<uint8_t> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<uint8_t>(seq * 31 + i * 7 + (i >> 8));
  for (size_t i = 0; i < 8 && i < n; ++i) f[i] = static_cast<uint8_t>(seq >> (8 * i));
  return f;
}

inline std::string did_for(uint64_t seq, int accounts = 5) {
  return "did:plc:account" + std::to_string(seq % static_cast<uint64_t>(accounts));
}

inline Options options_for(const TempDir& d) {
  Options o;
  o.data_dir = d.path();
  o.boot_id = "boot-A";
  o.sync_interval_ms = 1000000;  // tests sync explicitly
  o.sync_bytes = uint64_t{1} << 40;
  return o;
}

// Appends `count` records with consecutive seqs from next_seq(), in batches of `batch`.
inline Status append_n(EventLog& log, size_t count, size_t batch = 16, uint64_t time_ms = 1000,
                       int accounts = 5) {
  size_t done = 0;
  while (done < count) {
    size_t n = std::min(batch, count - done);
    uint64_t seq = log.next_seq();
    std::vector<std::vector<uint8_t>> frames;
    std::vector<std::string> dids;
    for (size_t i = 0; i < n; ++i) {
      frames.push_back(frame_for(seq + i));
      dids.push_back(did_for(seq + i, accounts));
    }
    std::vector<AppendRecord> recs;
    for (size_t i = 0; i < n; ++i) recs.push_back({seq + i, time_ms, dids[i], frames[i]});
    Status st = log.append(recs);
    if (!st.ok()) return st;
    done += n;
  }
  return {};
}

struct ReadAll {
  std::vector<uint64_t> seqs;
  bool frames_ok = true;  // every frame equals frame_for(seq)
  bool gap = false;
  Reason error = Reason::ok;
};

inline ReadAll read_all(EventLog& log, uint64_t after, size_t max_bytes = 0) {
  ReadAll out;
  auto reader = log.open_reader(after);
  ReplayBatch batch;
  for (int guard = 0; guard < 1000000; ++guard) {
    ReadResult r = reader->read(batch, max_bytes);
    out.gap |= r.gap;
    if (r.state == ReadState::error) {
      out.error = r.status.reason;
      break;
    }
    if (r.state == ReadState::at_head) break;
    for (size_t i = 0; i < batch.frames.size(); ++i) {
      uint64_t seq = batch.frames[i].seq;
      out.seqs.push_back(seq);
      std::vector<uint8_t> want = frame_for(seq);
      auto got = batch.frame(i);
      if (got.size() != want.size() || std::memcmp(got.data(), want.data(), want.size()) != 0) {
        out.frames_ok = false;
      }
    }
  }
  return out;
}

inline bool consecutive(const std::vector<uint64_t>& seqs, uint64_t first, uint64_t last) {
  if (seqs.size() != last - first + 1) return false;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] != first + i) return false;
  }
  return true;
}

inline uint64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Segment file paths, oldest first.
std::vector<std::string> segment_files(const std::string& events_dir);

// Copies <src>/events/* to <dst>/events/: taken while a log is open, it is exactly what a
// kill -9 at that moment leaves behind (same bytes, unclean lease, no lock held).
bool copy_events(const std::string& src_data_dir, const std::string& dst_data_dir);

bool truncate_file(const std::string& path, uint64_t size);
bool flip_byte(const std::string& path, uint64_t offset, uint8_t mask);

}  // namespace ringlay::log_test
