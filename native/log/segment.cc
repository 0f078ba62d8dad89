// SPDX-License-Identifier: MIT
#include "log/segment.h"

#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ringlay::log_store {

Segment::Segment(std::string dir, uint64_t ordinal, Fd fd, const SegmentHeader& header,
                 SegmentSummary sum)
    : dir_(std::move(dir)), ordinal_(ordinal), fd_(std::move(fd)), header_(header),
      end_(sum.end_offset), sum_(std::move(sum)) {}

std::string Segment::path() const { return dir_ + "/" + segment_file_name(header_.base_seq); }
std::string Segment::index_path() const { return dir_ + "/" + index_file_name(header_.base_seq); }

void Segment::publish(uint64_t new_end, const BatchInfo& b) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sum_.records == 0) {
      sum_.first_seq = b.first_seq;
      sum_.first_time_ms = b.first_time_ms;
    }
    sum_.records += b.records;
    sum_.last_seq = b.last_seq;
    sum_.last_time_ms = std::max(sum_.last_time_ms, b.last_time_ms);
    sum_.end_offset = new_end;
    sum_.index.insert(sum_.index.end(), b.index, b.index + b.index_count);
  }
  // After the summary: a reader that sees the new end also finds the index entries.
  end_.store(new_end, std::memory_order_release);
}

SegmentSummary Segment::meta() const {
  std::lock_guard<std::mutex> lock(mu_);
  SegmentSummary s;
  s.base_seq = sum_.base_seq;
  s.end_offset = sum_.end_offset;
  s.records = sum_.records;
  s.first_seq = sum_.first_seq;
  s.last_seq = sum_.last_seq;
  s.first_time_ms = sum_.first_time_ms;
  s.last_time_ms = sum_.last_time_ms;
  s.scrub_gen = sum_.scrub_gen;
  return s;
}

SegmentSummary Segment::summary() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_;
}

uint64_t Segment::last_index_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_.index.empty() ? 0 : sum_.index.back().offset;
}

uint64_t Segment::seek_offset(uint64_t after_seq) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Last entry whose record has seq <= after_seq: every record before it is <= after_seq too.
  auto it = std::upper_bound(sum_.index.begin(), sum_.index.end(), after_seq,
                             [](uint64_t s, const IndexEntry& e) { return s < e.seq; });
  if (it == sum_.index.begin()) return kSegmentHeaderSize;
  return std::prev(it)->offset;
}

uint64_t Segment::scrub_gen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_.scrub_gen;
}

void Segment::set_scrub_gen(uint64_t gen) {
  std::lock_guard<std::mutex> lock(mu_);
  sum_.scrub_gen = gen;
}

int Segment::write_index(const char* tmp_suffix) const {
  std::string bytes = encode_summary(summary());
  return write_file_replace(index_path(), bytes.data(), bytes.size(), tmp_suffix);
}

Status create_segment_file(const std::string& dir, uint64_t base_seq, uint64_t created_ms, Fd* fd,
                           SegmentHeader* header) {
  header->base_seq = base_seq;
  header->created_ms = created_ms;
  uint32_t salt = 0;
  if (getrandom(&salt, sizeof salt, 0) != static_cast<ssize_t>(sizeof salt)) {
    salt = static_cast<uint32_t>(monotonic_ns() ^ (base_seq * 0x9E3779B97F4A7C15ull));
  }
  header->salt = salt;
  int err = 0;
  // O_EXCL: a name clash means two segments would claim the same first seq, a bug.
  *fd = open_fd(dir + "/" + segment_file_name(base_seq), O_RDWR | O_CREAT | O_EXCL, 0644, &err);
  if (!*fd) return Status::from_errno(err);
  uint8_t buf[kSegmentHeaderSize];
  encode_segment_header(buf, *header);
  err = pwrite_full(fd->get(), buf, sizeof buf, 0);
  if (err != 0) return Status::from_errno(err);
  return {};
}

size_t find_record_magic(const uint8_t* p, size_t from, size_t n) {
  static const uint8_t kMagic[4] = {0x52, 0x4C, 0x43, 0x31};
  if (from >= n) return n;
  const void* hit = memmem(p + from, n - from, kMagic, sizeof kMagic);
  return hit == nullptr ? n : static_cast<size_t>(static_cast<const uint8_t*>(hit) - p);
}

namespace {

// Sliding read window over [start, end) of the file.
class Window {
 public:
  Window(int fd, uint64_t end, size_t chunk) : fd_(fd), end_(end), chunk_(chunk) {}

  // Makes [pos, pos + need) resident if the file has it; returns the bytes available from
  // pos (less than need only at the end of data), or -1 with *err set.
  int64_t fill(uint64_t pos, size_t need, int* err) {
    uint64_t have_end = off_ + len_;
    if (pos >= off_ && (pos + need <= have_end || have_end >= end_)) {
      return static_cast<int64_t>(have_end - pos);
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(end_ - pos, std::max(need, chunk_)));
    if (buf_.size() < n) buf_.resize(n);
    size_t got = 0;
    *err = pread_full(fd_, buf_.data(), n, pos, &got);
    if (*err != 0) return -1;
    off_ = pos;
    len_ = got;
    if (got < n) end_ = pos + got;  // the file is shorter than the caller thought
    return static_cast<int64_t>(got);
  }
  const uint8_t* at(uint64_t pos) const { return buf_.data() + (pos - off_); }
  uint64_t end() const { return end_; }

 private:
  int fd_;
  uint64_t end_;
  size_t chunk_;
  std::vector<uint8_t> buf_;
  uint64_t off_ = 0;
  size_t len_ = 0;
};

// Records seen since the last fully valid one: they count only once a valid record follows.
struct Pending {
  uint64_t records = 0, damaged = 0, skipped = 0;
  uint64_t first_seq = 0, first_time_ms = 0, max_time_ms = 0;
  std::vector<IndexEntry> index;
};

}  // namespace

ScanResult scan_segment(int fd, uint32_t salt, uint64_t start, uint64_t end, ScanOptions& o) {
  ScanResult r;
  r.valid_end = start;
  Window w(fd, end, std::max<size_t>(o.chunk_bytes, 64));
  Pending pend;
  uint64_t pos = start, last_seq = 0, last_index_off = 0;
  bool have_last = false, incomplete = false;
  while (pos < w.end()) {
    int64_t avail = w.fill(pos, kRecordHeaderSize + kMaxDidBytes, &r.err);
    if (avail < 0) return r;
    if (avail == 0) break;
    RecordHeader h;
    HeaderCheck hc = parse_record_header(w.at(pos), static_cast<size_t>(avail), salt, &h);
    if (hc == HeaderCheck::ok && have_last && h.seq <= last_seq) hc = HeaderCheck::bad;
    if (hc == HeaderCheck::need_more) {
      incomplete = true;  // a header cut by the end of data: the start of a torn tail
      break;
    }
    if (hc == HeaderCheck::bad) {
      size_t q = find_record_magic(w.at(pos), 1, static_cast<size_t>(avail));
      // No magic in the window: move on but keep 3 bytes that may start a split magic.
      uint64_t step = q < static_cast<size_t>(avail) ? q : std::max<int64_t>(1, avail - 3);
      if (pos + avail >= w.end() && q >= static_cast<size_t>(avail)) step = static_cast<uint64_t>(avail);
      pend.skipped += step;
      pos += step;
      continue;
    }
    uint64_t total = h.total_size();
    avail = w.fill(pos, total, &r.err);
    if (avail < 0) return r;
    if (static_cast<uint64_t>(avail) < total) {
      incomplete = true;  // header intact, payload cut by the end of data
      break;
    }
    const uint8_t* p = w.at(pos);
    ScanRecord rec{h, pos, p, record_payload_ok(h, p)};
    bool go_on = !o.visit || o.visit(rec);
    if (pend.records == 0) {
      pend.first_seq = h.seq;
      pend.first_time_ms = h.time_ms;
    }
    ++pend.records;
    pend.damaged += rec.payload_ok ? 0 : 1;
    pend.max_time_ms = std::max(pend.max_time_ms, h.time_ms);
    if (o.index != nullptr && (last_index_off == 0 || pos - last_index_off >= o.index_interval_bytes)) {
      pend.index.push_back({h.seq, pos});
      last_index_off = pos;
    }
    have_last = true;
    last_seq = h.seq;
    pos += total;
    if (rec.payload_ok) {
      if (r.records == 0) {
        r.first_seq = pend.first_seq;
        r.first_time_ms = pend.first_time_ms;
      }
      r.records += pend.records;
      r.damaged += pend.damaged;
      r.skipped_bytes += pend.skipped;
      r.last_seq = h.seq;
      r.last_time_ms = std::max(r.last_time_ms, pend.max_time_ms);
      r.valid_end = pos;
      if (o.index != nullptr) o.index->insert(o.index->end(), pend.index.begin(), pend.index.end());
      pend = Pending{};
    }
    if (!go_on) return r;
  }
  r.tail_records = pend.records + (incomplete ? 1 : 0);
  if (r.tail_records == 0 && pend.skipped > 0) r.tail_records = 1;
  return r;
}

}  // namespace ringlay::log_store
