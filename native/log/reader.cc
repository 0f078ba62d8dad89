// SPDX-License-Identifier: MIT
#include "log/reader.h"

#include <algorithm>
#include <cerrno>

#include "log/event_log.h"

namespace ringlay::log_store {

size_t ReplayBatch::bytes() const {
  size_t n = 0;
  for (const ReplayFrame& f : frames) n += f.size;
  return n;
}

Reader::Reader(EventLog* log, uint64_t after_seq, bool clamp) : log_(log), after_(after_seq), clamp_(clamp) {
  log_->readers_open_.fetch_add(1);
}

Reader::~Reader() { log_->readers_open_.fetch_sub(1); }

std::unique_ptr<Reader> EventLog::open_reader(uint64_t after_seq, ReaderStart start) {
  return std::unique_ptr<Reader>(new Reader(this, after_seq, start == ReaderStart::clamp));
}

std::shared_ptr<Segment> EventLog::locate(uint64_t* after_seq, bool clamp, bool* gap) const {
  std::lock_guard<std::mutex> lock(dir_mu_);
  if (segments_.empty()) return nullptr;
  // Under the same lock as the list: retention moves both together, so a position checked
  // here is never below a segment that is already gone from the list.
  uint64_t start = window_start_.load(std::memory_order_relaxed);
  if (*after_seq + 1 < start) {
    *gap = !clamp;
    *after_seq = start - 1;
  }
  // The last segment whose first seq is <= after_seq + 1 holds the first frame we want (or
  // ends before it, and the reader walks on); before the oldest: the oldest (seqs between
  // were never written: numbering may skip, e.g. after a power loss).
  auto it = std::upper_bound(segments_.begin(), segments_.end(), *after_seq + 1,
                             [](uint64_t s, const std::shared_ptr<Segment>& g) { return s < g->base_seq(); });
  return it == segments_.begin() ? segments_.front() : *std::prev(it);
}

std::shared_ptr<Segment> EventLog::segment_after(const Segment& seg, bool* gap) const {
  std::lock_guard<std::mutex> lock(dir_mu_);
  for (const auto& s : segments_) {
    if (s->base_seq() > seg.base_seq()) {
      *gap = s->ordinal() != seg.ordinal() + 1;
      return s;
    }
  }
  return nullptr;
}

bool Reader::taken_down(const RecordHeader& h, const uint8_t* record) const {
  if (h.scrubbed()) return true;
  if (snap_ == nullptr || snap_->empty() || !snap_->hash_listed(h.did_hash)) return false;
  std::string_view did(reinterpret_cast<const char*>(record + kRecordHeaderSize), h.did_len);
  return snap_->matches(h.did_hash, did);
}

ReadResult Reader::read(ReplayBatch& out, size_t max_bytes) {
  out.clear();
  ReadResult res;
  if (max_bytes == 0) max_bytes = log_->opts_.read_chunk_bytes;
  if (log_->takedowns_.generation() != snap_gen_) {
    snap_ = log_->takedowns_.snapshot();
    snap_gen_ = snap_->generation;
  }
  // Records below the window start were declared gone: a reader still holding one of their
  // segments (deleted, open) must not return them. It locates again, which reports the gap.
  if (seg_ != nullptr && after_ + 1 < log_->window_start()) seg_ = nullptr;
  if (seg_ == nullptr) {
    bool gap = false;
    seg_ = log_->locate(&after_, clamp_, &gap);
    res.gap = gap;
    if (seg_ == nullptr) return res;  // empty log
    clamp_ = false;
    offset_ = seg_->seek_offset(after_);
  }
  // Bounds the work of one call when long stretches are skipped (takedowns, damage).
  const uint64_t budget = std::max<uint64_t>(uint64_t{16} * max_bytes, uint64_t{64} << 20);
  uint64_t scanned = 0;
  size_t need = 0;
  for (;;) {
    const bool sealed = seg_->sealed();  // before end(): when sealed, end() is final
    const uint64_t end = seg_->end();
    if (offset_ >= end) {
      if (!sealed) return res;
      bool gap = false;
      auto next = log_->segment_after(*seg_, &gap);
      if (next == nullptr) return res;
      res.gap |= gap;
      seg_ = std::move(next);
      offset_ = seg_->seek_offset(after_);
      continue;
    }
    if (scanned >= budget) {
      res.state = ReadState::frames;
      return res;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(end - offset_, std::max(max_bytes, need)));
    SharedBytes* raw = SharedBytes::create(n);
    if (raw == nullptr) return {ReadState::error, Status::of(Reason::no_memory), res.gap};
    BytesRef chunk = BytesRef::adopt(raw);
    size_t got = 0;
    int err = pread_full(seg_->fd(), chunk.mutable_data(), n, offset_, &got);
    if (err != 0) return {ReadState::error, Status::from_errno(err), res.gap};
    if (got < n) return {ReadState::error, Status::of(Reason::corrupt), res.gap};
    need = 0;
    size_t used = parse_chunk(chunk.data(), n, offset_ + n == end, max_bytes, out, &need);
    offset_ += used;
    scanned += used;
    if (!out.frames.empty()) {
      out.buffer = std::move(chunk);
      log_->c_.replay_frames += out.frames.size();
      log_->c_.replay_bytes += out.bytes();
      res.state = ReadState::frames;
      return res;
    }
  }
}

size_t Reader::parse_chunk(const uint8_t* p, size_t n, bool to_end, size_t max_bytes,
                           ReplayBatch& out, size_t* need) {
  const uint32_t salt = seg_->salt();
  size_t pos = 0, taken = 0;
  while (pos < n) {
    RecordHeader h;
    HeaderCheck hc = parse_record_header(p + pos, n - pos, salt, &h);
    if (hc == HeaderCheck::ok && pos + h.total_size() > n && offset_ + pos + h.total_size() > seg_->end()) {
      hc = HeaderCheck::bad;  // claims more bytes than were ever written: damage
    }
    if (hc == HeaderCheck::need_more && !to_end) {
      if (pos == 0) *need = kRecordHeaderSize + kMaxDidBytes;
      return pos;
    }
    if (hc != HeaderCheck::ok) {
      // Damage inside the written region (it ends on record boundaries): step to the next
      // record magic, or to the end of the chunk.
      size_t q = find_record_magic(p, pos + 1, n);
      size_t next = q < n ? q : (to_end ? n : std::max(pos + 1, n - 3));
      log_->c_.damaged_skipped += 1;
      pos = next;
      continue;
    }
    const uint64_t total = h.total_size();
    if (pos + total > n) {
      if (pos == 0) *need = static_cast<size_t>(total);
      return pos;
    }
    const uint8_t* rec = p + pos;
    if (h.seq > after_) {
      if (!record_payload_ok(h, rec)) {
        log_->c_.damaged_skipped += 1;
      } else if (taken_down(h, rec)) {
        log_->c_.takedown_skipped += 1;
      } else {
        if (!out.frames.empty() && taken + h.payload_len > max_bytes) return pos;
        out.frames.push_back({h.seq, h.time_ms, static_cast<uint32_t>(pos + h.payload_offset()),
                              h.payload_len});
        taken += h.payload_len;
      }
      after_ = h.seq;
    }
    pos += static_cast<size_t>(total);
  }
  return pos;
}

}  // namespace ringlay::log_store
