// SPDX-License-Identifier: MIT
// EventLog maintenance: retention (whole sealed segments, oldest first) and takedown
// scrubbing (zeroing the payloads of taken-down accounts in sealed segments). Runs on one
// maintenance thread, concurrently with the writer and readers: it only ever touches sealed
// segments. A reader holding a deleted segment keeps its fd (no read fails), but stops
// returning its records once the window start has moved past them.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "log/event_log.h"
#include "util/log.h"

namespace ringlay::log_store {
namespace {

bool payload_zero(const ScanRecord& r) {
  const uint8_t* p = r.bytes + r.h.payload_offset();
  for (uint32_t i = 0; i < r.h.payload_len; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

MaintenanceResult EventLog::run_maintenance(uint64_t now_ms) {
  MaintenanceResult res;
  if (maint_busy_.exchange(true, std::memory_order_acquire)) {
    res.status = Status::of(Reason::busy);
    return res;
  }
  res = run_retention(now_ms);
  scrub_segments(&res);
  maint_busy_.store(false, std::memory_order_release);
  return res;
}

MaintenanceResult EventLog::run_retention(uint64_t now_ms) {
  MaintenanceResult res;
  const uint64_t window = replay_window_ms_.load();
  const uint64_t cap = max_disk_bytes_.load();
  std::vector<std::shared_ptr<Segment>> victims;
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    uint64_t total = c_.bytes_on_disk.load();
    size_t n = 0;
    // Oldest first and never the newest segment: the newest holds the last seq, which must
    // survive for numbering (and the active segment is the newest).
    while (n + 1 < segments_.size()) {
      const Segment& s = *segments_[n];
      if (!s.sealed()) break;
      SegmentSummary m = s.meta();
      bool old = window > 0 && now_ms > window &&
                 (m.records == 0 || m.last_time_ms < now_ms - window);
      bool over = cap > 0 && total > cap;
      if (!old && !over) break;
      total -= s.end();
      ++n;
    }
    victims.assign(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
    // The window moves past the victims in the same critical section as the list: from here
    // on cursors below it are outdated and no reader returns their records, not even one
    // that still holds a victim open (reader.cc checks window_start() on every read).
    uint64_t start = window_start_.load(std::memory_order_relaxed);
    for (const auto& v : victims) {
      SegmentSummary m = v->meta();
      if (m.records > 0) start = std::max(start, m.last_seq + 1);
    }
    window_start_.store(start, std::memory_order_release);
  }
  for (const auto& v : victims) {
    // Readers still holding v keep its fd: unlink frees the space when they let go.
    if (::unlink(v->path().c_str()) != 0 && errno != ENOENT) {
      res.status = Status::from_errno(errno);
      RL_LOG_WARN("eventlog", "retention: unlink %s failed (errno %d)", v->path().c_str(), errno);
    }
    ::unlink(v->index_path().c_str());
    ++res.segments_deleted;
    res.bytes_deleted += v->end();
    c_.bytes_on_disk -= v->end();
  }
  c_.segments_deleted += res.segments_deleted;
  c_.bytes_deleted += res.bytes_deleted;
  if (res.segments_deleted > 0) {
    RL_LOG_INFO("eventlog", "retention deleted %llu segments (%llu bytes)",
                static_cast<unsigned long long>(res.segments_deleted),
                static_cast<unsigned long long>(res.bytes_deleted));
  }
  return res;
}

void EventLog::scrub_segments(MaintenanceResult* res) {
  auto snap = takedowns_.snapshot();
  const uint64_t gen = snap->add_generation;
  std::vector<std::shared_ptr<Segment>> sealed;
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    for (const auto& s : segments_) {
      if (s->sealed() && s->scrub_gen() < gen) sealed.push_back(s);
    }
  }
  for (const auto& seg : sealed) {
    uint64_t n = 0;
    if (!snap->empty()) {
      Status st;
      n = scrub_one(*seg, *snap, &st);
      if (!st.ok()) {
        res->status = st;
        RL_LOG_WARN("eventlog", "scrub of %s failed (%s)", seg->path().c_str(), name(st.reason));
        return;  // retried at the next maintenance run: scrub_gen did not advance
      }
    }
    // Recorded in the .idx so a restart does not rescan segments already scrubbed.
    seg->set_scrub_gen(gen);
    seg->write_index(".idx.m");
    ++res->segments_scrubbed;
    res->records_scrubbed += n;
  }
}

uint64_t EventLog::scrub_one(Segment& seg, const TakedownSnapshot& snap, Status* st) {
  struct Hit {
    uint64_t offset;
    RecordHeader h;
  };
  std::vector<Hit> hits;
  ScanOptions so;
  so.visit = [&](const ScanRecord& r) {
    bool listed = snap.hash_listed(r.h.did_hash) && snap.matches(r.h.did_hash, r.did());
    // A flagged record whose payload is not zero yet was interrupted mid-scrub: finish it.
    if ((listed && !r.h.scrubbed()) || (r.h.scrubbed() && !payload_zero(r))) {
      hits.push_back({r.offset, r.h});
    }
    return true;
  };
  ScanResult sr = scan_segment(seg.fd(), seg.salt(), kSegmentHeaderSize, seg.end(), so);
  if (sr.err != 0) {
    *st = Status::from_errno(sr.err);
    return 0;
  }
  static const uint8_t kZeros[64 * 1024] = {};
  for (const Hit& hit : hits) {
    // Flag first: from this single-byte write on, readers skip the record whatever state its
    // payload is in; a crash before the zeroing leaves a flagged record that the next pass
    // (scrub_gen did not advance) zeroes.
    const uint8_t flag = kFlagScrubbed;
    int err = pwrite_full(seg.fd(), &flag, 1, hit.offset + kFlagsOffset);
    uint64_t at = hit.offset + hit.h.payload_offset();
    uint64_t left = hit.h.payload_len;
    while (err == 0 && left > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, sizeof kZeros));
      err = pwrite_full(seg.fd(), kZeros, n, at);
      at += n;
      left -= n;
    }
    if (err != 0) {
      *st = Status::from_errno(err);
      return 0;
    }
  }
  if (!hits.empty() && ::fdatasync(seg.fd()) != 0) {
    *st = {Reason::fsync_failed, errno};
    return 0;
  }
  c_.scrubbed += hits.size();
  return hits.size();
}

}  // namespace ringlay::log_store
