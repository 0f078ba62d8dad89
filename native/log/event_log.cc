// SPDX-License-Identifier: MIT
// EventLog: opening and recovery, appending, group commit, close. Retention and scrubbing are
// in event_log_maint.cc, readers in reader.cc.
#include "log/event_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log/reader.h"
#include "util/assert.h"
#include "util/log.h"

namespace ringlay::log_store {

EventLog::EventLog(const Options& o) : opts_(o) {
  if (opts_.did_hasher == nullptr) opts_.did_hasher = did_hash;
  replay_window_ms_.store(o.replay_window_ms);
  max_disk_bytes_.store(o.max_disk_bytes);
  sync_interval_ms_.store(o.sync_interval_ms);
  sync_bytes_.store(o.sync_bytes);
}

EventLog::~EventLog() {
  RL_ASSERT(readers_open_.load() == 0);
  if (!closed_) close();
}

std::unique_ptr<EventLog> EventLog::open(const Options& o, Status* status, RecoveryReport* report) {
  if (o.data_dir.empty() || o.initial_seq == 0 || o.initial_seq > kMaxSeq ||
      o.segment_max_bytes < 4096 || o.lease_block < 2 || o.lease_block > (uint64_t{1} << 40) ||
      o.read_chunk_bytes < 4096) {
    *status = Status::of(Reason::invalid_argument);
    return nullptr;
  }
  std::unique_ptr<EventLog> log(new EventLog(o));
  RecoveryReport rep;
  *status = log->open_dir(&rep);
  if (!status->ok()) {
    log->closed_ = true;  // nothing to close cleanly; the lease stays as it was
    return nullptr;
  }
  log->recovery_ = rep;
  if (report != nullptr) *report = rep;
  {
    // What was deleted before this process is unknown: the window starts at the oldest record
    // kept (0 for an empty log: the first append sets it).
    uint64_t oldest = log->oldest_seq();
    std::lock_guard<std::mutex> lock(log->dir_mu_);
    log->window_start_.store(oldest, std::memory_order_release);
  }
  return log;
}

Status EventLog::open_dir(RecoveryReport* rep) {
  dir_ = opts_.data_dir + "/events";
  int err = make_dir(dir_);
  if (err != 0) return Status::from_errno(err);
  lock_fd_ = open_fd(dir_ + "/LOCK", O_RDWR | O_CREAT, 0644, &err);
  if (!lock_fd_) return Status::from_errno(err);
  // One process per log directory: two writers would hand out the same seqs.
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return errno == EWOULDBLOCK ? Status::of(Reason::locked) : Status::from_errno(errno);
  }
  boot_id_ = opts_.boot_id.empty() ? read_boot_id() : opts_.boot_id;
  bool lease_found = false;
  Status st = SeqLease::open(dir_ + "/seq.lease", &lease_, &lease_found);
  if (!st.ok()) return st;
  rep->lease_found = lease_found;
  st = takedowns_.open(dir_ + "/takedowns", opts_.did_hasher);
  if (!st.ok()) return st;

  std::vector<uint64_t> bases;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Status::from_errno(errno);
  while (dirent* e = ::readdir(d)) {
    uint64_t base = 0;
    if (parse_segment_file_name(e->d_name, &base)) bases.push_back(base);
    // Leftover temporary files of an interrupted .idx replacement.
    if (std::strstr(e->d_name, ".idx.") != nullptr) ::unlinkat(::dirfd(d), e->d_name, 0);
  }
  ::closedir(d);
  std::sort(bases.begin(), bases.end());
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    st = load_sealed(segment_file_name(bases[i]), bases[i], rep);
    if (!st.ok()) return st;
  }
  if (!bases.empty()) {
    st = recover_tail(segment_file_name(bases.back()), bases.back(), rep);
    if (!st.ok()) return st;
  }
  rep->segments = segments_.size();
  return choose_next_seq(rep);
}

std::shared_ptr<Segment> EventLog::make_segment(Fd fd, const SegmentHeader& h, SegmentSummary sum) {
  sum.base_seq = h.base_seq;
  return std::make_shared<Segment>(dir_, next_ordinal_++, std::move(fd), h, std::move(sum));
}

namespace {

// Opens a segment and reads its header; *size = file size.
Status open_segment(const std::string& path, Fd* fd, SegmentHeader* h, uint64_t* size, bool* header_ok) {
  int err = 0;
  *fd = open_fd(path, O_RDWR, 0, &err);
  if (!*fd) return Status::from_errno(err);
  struct stat stbuf;
  if (::fstat(fd->get(), &stbuf) != 0) return Status::from_errno(errno);
  *size = static_cast<uint64_t>(stbuf.st_size);
  uint8_t buf[kSegmentHeaderSize];
  size_t got = 0;
  err = pread_full(fd->get(), buf, sizeof buf, 0, &got);
  if (err != 0) return Status::from_errno(err);
  *header_ok = parse_segment_header(buf, got, h);
  return {};
}

SegmentSummary summary_from_scan(const ScanResult& r, uint64_t end, std::vector<IndexEntry> index) {
  SegmentSummary s;
  s.end_offset = end;
  s.records = r.records;
  s.first_seq = r.first_seq;
  s.last_seq = r.last_seq;
  s.first_time_ms = r.first_time_ms;
  s.last_time_ms = r.last_time_ms;
  s.index = std::move(index);
  return s;
}

void unlink_segment_files(const std::string& dir, uint64_t base) {
  ::unlink((dir + "/" + segment_file_name(base)).c_str());
  ::unlink((dir + "/" + index_file_name(base)).c_str());
}

}  // namespace

Status EventLog::load_sealed(const std::string& name, uint64_t base, RecoveryReport* rep) {
  Fd fd;
  SegmentHeader h;
  uint64_t size = 0;
  bool header_ok = false;
  Status st = open_segment(dir_ + "/" + name, &fd, &h, &size, &header_ok);
  if (!st.ok()) return st;
  if (!header_ok || h.base_seq != base) {
    // Not ours to delete: an operator should look at it. Replay skips it.
    ++rep->bad_segments;
    RL_LOG_ERROR("eventlog", "segment %s has an unreadable header; ignored", name.c_str());
    return {};
  }
  SegmentSummary sum;
  std::string idx;
  bool idx_ok = read_small_file(dir_ + "/" + index_file_name(base), &idx, size_t{64} << 20) == 0 &&
                decode_summary(idx, &sum) && sum.base_seq == base && sum.end_offset == size &&
                sum.records > 0;
  if (!idx_ok) {
    std::vector<IndexEntry> index;
    ScanOptions so;
    so.index_interval_bytes = opts_.index_interval_bytes;
    so.index = &index;
    ScanResult r = scan_segment(fd.get(), h.salt, kSegmentHeaderSize, size, so);
    if (r.err != 0) return Status::from_errno(r.err);
    if (r.records == 0) {
      ++rep->removed_empty;
      unlink_segment_files(dir_, base);
      return {};
    }
    sum = summary_from_scan(r, size, std::move(index));
    ++rep->index_rebuilds;
  }
  auto seg = make_segment(std::move(fd), h, std::move(sum));
  seg->seal();
  if (!idx_ok) seg->write_index(".idx.open");
  c_.bytes_on_disk += size;
  segments_.push_back(std::move(seg));
  return {};
}

Status EventLog::recover_tail(const std::string& name, uint64_t base, RecoveryReport* rep) {
  Fd fd;
  SegmentHeader h;
  uint64_t size = 0;
  bool header_ok = false;
  Status st = open_segment(dir_ + "/" + name, &fd, &h, &size, &header_ok);
  if (!st.ok()) return st;
  ScanResult r;
  std::vector<IndexEntry> index;
  if (header_ok && h.base_seq == base) {
    ScanOptions so;
    so.index_interval_bytes = opts_.index_interval_bytes;
    so.index = &index;
    r = scan_segment(fd.get(), h.salt, kSegmentHeaderSize, size, so);
    if (r.err != 0) return Status::from_errno(r.err);
  } else {
    r.tail_records = size > 0 ? 1 : 0;  // the file never got a whole header
  }
  uint64_t keep = r.records > 0 ? r.valid_end : 0;
  // Bytes of records cut (a file with no whole record is removed, header and all).
  uint64_t cut = size - std::max<uint64_t>(keep, std::min<uint64_t>(size, kSegmentHeaderSize));
  if (cut > 0) {
    rep->torn_bytes_cut = cut;
    rep->torn_records_cut = std::max<uint64_t>(r.tail_records, 1);
    ++c_.torn_truncations;
    c_.torn_bytes += cut;
    RL_LOG_WARN("eventlog", "torn tail in %s: cut %llu bytes (%llu records)", name.c_str(),
                static_cast<unsigned long long>(cut),
                static_cast<unsigned long long>(rep->torn_records_cut));
  }
  rep->damaged_records = r.damaged;
  rep->corrupt_bytes = r.skipped_bytes;
  if (r.records == 0) {
    ++rep->removed_empty;
    fd.reset();
    unlink_segment_files(dir_, base);
    return {};
  }
  if (keep < size && ::ftruncate(fd.get(), static_cast<off_t>(keep)) != 0) {
    return Status::from_errno(errno);
  }
  // Durable before anything new is appended: durable_seq() starts at the recovered last seq.
  if (::fdatasync(fd.get()) != 0) return {Reason::fsync_failed, errno};
  auto seg = make_segment(std::move(fd), h, summary_from_scan(r, keep, std::move(index)));
  seg->seal();  // new records go to a new segment: sealed files are never appended to again
  seg->write_index(".idx.open");
  c_.bytes_on_disk += keep;
  segments_.push_back(std::move(seg));
  return {};
}

Status EventLog::choose_next_seq(RecoveryReport* rep) {
  uint64_t last = 0;
  for (const auto& s : segments_) last = std::max(last, s->meta().last_seq);
  const LeaseState& ls = lease_.state();
  rep->last_seq = last;
  rep->same_boot = rep->lease_found && !boot_id_.empty() && ls.boot_id == boot_id_;
  rep->clean_shutdown = rep->lease_found && ls.clean;
  rep->lease_end_found = rep->lease_found ? ls.lease_end : 0;
  uint64_t next = std::max(last + 1, opts_.initial_seq);
  if (rep->lease_found) {
    next = std::max(next, rep->same_boot ? ls.floor : ls.lease_end);
  } else if (last > 0) {
    // Records but no lease: the lease was lost, so nothing bounds what was sent. Skip a block.
    next = std::max(next, last + 1 + opts_.lease_block);
    RL_LOG_WARN("eventlog", "seq lease missing; numbering skips %llu seqs",
                static_cast<unsigned long long>(opts_.lease_block));
  }
  if (next > kMaxSeq) return Status::of(Reason::seq_limit);
  Status st = lease_.write(next, std::min(next + opts_.lease_block, kMaxSeq + 1), boot_id_, false);
  if (!st.ok()) return st;
  // The lease, takedown and LOCK files, and events/ itself, exist durably: losing the lease
  // to a power loss right after the first start would restart numbering from the floor.
  int err = fsync_dir(dir_);
  if (err == 0) err = fsync_dir(opts_.data_dir);
  if (err != 0) return {Reason::fsync_failed, err};
  rep->next_seq = next;
  next_seq_.store(next, std::memory_order_release);
  written_seq_.store(last, std::memory_order_release);
  durable_seq_.store(last, std::memory_order_release);
  return {};
}

Status EventLog::fail(Status st) {
  Reason expected = Reason::ok;
  Reason r = st.reason == Reason::ok ? Reason::failed : st.reason;
  if (failed_.compare_exchange_strong(expected, r)) {
    RL_LOG_ERROR("eventlog", "event log failed (%s, errno %d); refusing writes until restart",
                 name(r), st.err);
  }
  return st;
}

Status EventLog::check_batch(std::span<const AppendRecord> records) const {
  uint64_t prev = next_seq() - 1;
  for (const AppendRecord& r : records) {
    if (r.seq <= prev) return Status::of(Reason::seq_order);
    if (r.seq > kMaxSeq) return Status::of(Reason::seq_limit);
    if (r.frame.size() > kMaxFrameBytes) return Status::of(Reason::frame_too_large);
    if (r.did.size() > kMaxDidBytes) return Status::of(Reason::did_too_long);
    prev = r.seq;
  }
  return {};
}

Status EventLog::ensure_lease(uint64_t last_seq) {
  uint64_t end = lease_.state().lease_end;
  if (last_seq + opts_.lease_block / 2 < end) return {};
  // Renew half a block early so the fsync is rarely in the way; it must precede the write.
  uint64_t new_end = std::min(last_seq + 1 + opts_.lease_block, kMaxSeq + 1);
  Status st = lease_.write(next_seq(), new_end, boot_id_, false);
  if (!st.ok()) return st;
  ++c_.lease_renewals;
  return {};
}

Status EventLog::append(std::span<const AppendRecord> records) {
  if (writer_busy_.exchange(true, std::memory_order_acquire)) return Status::of(Reason::busy);
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  } release{writer_busy_};
  if (closed_) return Status::of(Reason::closed);
  if (failed_.load() != Reason::ok) return Status::of(Reason::failed);
  if (records.empty()) return {};
  Status st = check_batch(records);
  if (!st.ok()) {
    ++c_.append_errors;
    return st;
  }
  st = ensure_lease(records.back().seq);
  if (!st.ok()) return fail(st);
  while (!records.empty()) {
    uint64_t first_bytes = kRecordHeaderSize + records[0].did.size() + records[0].frame.size();
    st = rotate_for(records[0], first_bytes);
    if (st.ok()) {
      size_t n = fits_in_active(records);
      st = write_group(records.first(n));
      records = records.subspan(n);
    }
    if (!st.ok()) {
      ++c_.append_errors;
      return st;
    }
  }
  ++c_.batches;
  return {};
}

Status EventLog::rotate_for(const AppendRecord& first, uint64_t bytes) {
  if (active_ != nullptr && active_records_ > 0 &&
      (active_->end() + bytes > opts_.segment_max_bytes ||
       (opts_.segment_max_records > 0 && active_records_ >= opts_.segment_max_records) ||
       (opts_.segment_max_age_ms > 0 && first.time_ms > active_first_time_ms_ + opts_.segment_max_age_ms))) {
    Status st = seal_active();
    if (!st.ok()) return st;
  }
  if (active_ != nullptr) return {};
  Fd fd;
  SegmentHeader h;
  Status st = create_segment_file(dir_, first.seq, wall_ms(), &fd, &h);
  if (!st.ok()) {
    ::unlink((dir_ + "/" + segment_file_name(first.seq)).c_str());
    return st;
  }
  SegmentSummary sum;
  sum.end_offset = kSegmentHeaderSize;
  auto seg = make_segment(std::move(fd), h, std::move(sum));
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    segments_.push_back(seg);
  }
  active_ = std::move(seg);
  active_records_ = 0;
  active_first_time_ms_ = first.time_ms;
  active_last_index_off_ = 0;
  dir_sync_pending_ = true;  // the new name must be durable before its records count as durable
  c_.bytes_on_disk += kSegmentHeaderSize;
  return {};
}

size_t EventLog::fits_in_active(std::span<const AppendRecord> records) const {
  uint64_t end = active_->end();
  size_t n = 0;
  for (const AppendRecord& r : records) {
    uint64_t b = kRecordHeaderSize + r.did.size() + r.frame.size();
    bool full = end + b > opts_.segment_max_bytes ||
                (opts_.segment_max_records > 0 && active_records_ + n >= opts_.segment_max_records);
    if (n > 0 && full) break;
    end += b;
    ++n;
  }
  return n;
}

Status EventLog::write_group(std::span<const AppendRecord> records) {
  const uint64_t start = active_->end();
  size_t hdr_bytes = 0;
  for (const AppendRecord& r : records) hdr_bytes += kRecordHeaderSize + r.did.size();
  hdr_buf_.resize(hdr_bytes);
  iov_.clear();
  new_index_.clear();
  const uint64_t prev_index_off = active_last_index_off_;
  uint8_t* h = hdr_buf_.data();
  uint64_t pos = start, max_time = 0;
  for (const AppendRecord& r : records) {
    encode_record_header(h, r.seq, r.time_ms, opts_.did_hasher(r.did), r.did, r.frame, active_->salt());
    if (!r.did.empty()) std::memcpy(h + kRecordHeaderSize, r.did.data(), r.did.size());
    size_t hl = kRecordHeaderSize + r.did.size();
    iov_.push_back({h, hl});
    iov_.push_back({const_cast<uint8_t*>(r.frame.data()), r.frame.size()});
    if (active_last_index_off_ == 0 || pos - active_last_index_off_ >= opts_.index_interval_bytes) {
      new_index_.push_back({r.seq, pos});
      active_last_index_off_ = pos;
    }
    pos += hl + r.frame.size();
    h += hl;
    max_time = std::max(max_time, r.time_ms);
  }
  uint64_t written = 0;
  int err = pwritev_full(active_->fd(), iov_.data(), iov_.size(), start, &written);
  if (err != 0) {
    active_last_index_off_ = prev_index_off;
    // Cut the partial batch so the file still ends on a record boundary.
    if (written > 0 && ::ftruncate(active_->fd(), static_cast<off_t>(start)) != 0) {
      return fail(Status::from_errno(errno));
    }
    return Status::from_errno(err);
  }
  Segment::BatchInfo info{records.front().seq, records.back().seq, records.front().time_ms,
                          max_time, records.size(), new_index_.data(), new_index_.size()};
  active_->publish(pos, info);
  active_records_ += records.size();
  if (window_start_.load(std::memory_order_relaxed) == 0) {
    // A fresh log's window starts at its first record (a cursor below it asks for seqs this
    // log never had: OutdatedCursor, as after a restart). Set before written_seq moves, so a
    // cursor decision that sees the record also sees the window.
    std::lock_guard<std::mutex> lock(dir_mu_);
    window_start_.store(records.front().seq, std::memory_order_release);
  }
  written_seq_.store(records.back().seq, std::memory_order_release);
  next_seq_.store(records.back().seq + 1, std::memory_order_release);
  if (unsynced_bytes_ == 0) first_unsynced_ns_ = monotonic_ns();
  unsynced_bytes_ += pos - start;
  c_.records += records.size();
  c_.bytes += pos - start;
  c_.bytes_on_disk += pos - start;
  return {};
}

Status EventLog::seal_active() {
  Status st = sync();
  if (!st.ok()) return st;
  active_->seal();
  active_->write_index(".idx.w");  // a cache: a failure only costs a rescan at the next open
  active_.reset();
  return {};
}

Status EventLog::sync() {
  if (failed_.load() != Reason::ok) return Status::of(Reason::failed);
  if (active_ == nullptr || (unsynced_bytes_ == 0 && !dir_sync_pending_)) return {};
  uint64_t t0 = monotonic_ns();
  if (::fdatasync(active_->fd()) != 0) return fail({Reason::fsync_failed, errno});
  if (dir_sync_pending_) {
    int err = fsync_dir(dir_);
    if (err != 0) return fail({Reason::fsync_failed, err});
    dir_sync_pending_ = false;
  }
  uint64_t dt = monotonic_ns() - t0;
  ++c_.fsyncs;
  c_.fsync_ns_total += dt;
  if (dt > c_.fsync_ns_max.load()) c_.fsync_ns_max.store(dt);
  unsynced_bytes_ = 0;
  durable_seq_.store(written_seq(), std::memory_order_release);
  return {};
}

bool EventLog::sync_due(uint64_t now_ns) const {
  if (dir_sync_pending_) return true;
  if (unsynced_bytes_ == 0) return false;
  if (unsynced_bytes_ >= sync_bytes_.load(std::memory_order_relaxed)) return true;
  return now_ns - first_unsynced_ns_ >= sync_interval_ms_.load(std::memory_order_relaxed) * 1000000;
}

int64_t EventLog::ms_until_sync_due(uint64_t now_ns) const {
  if (unsynced_bytes_ == 0 && !dir_sync_pending_) return -1;
  if (sync_due(now_ns)) return 0;
  uint64_t due = first_unsynced_ns_ + sync_interval_ms_.load(std::memory_order_relaxed) * 1000000;
  return static_cast<int64_t>((due - now_ns + 999999) / 1000000);
}

Status EventLog::close() {
  if (closed_) return {};
  if (writer_busy_.exchange(true, std::memory_order_acquire)) return Status::of(Reason::busy);
  Status st;
  if (failed_.load() == Reason::ok) {
    st = sync();
    // floor = lease_end = next seq: a restart continues exactly here, even after a reboot.
    if (st.ok()) st = lease_.write(next_seq(), next_seq(), boot_id_, true);
    if (active_ != nullptr) {
      active_->seal();
      active_->write_index(".idx.w");
    }
  }
  active_.reset();
  closed_ = true;
  lock_fd_.reset();  // releases the flock
  writer_busy_.store(false, std::memory_order_release);
  return st;
}

uint64_t EventLog::oldest_seq(uint64_t* time_ms) const {
  std::lock_guard<std::mutex> lock(dir_mu_);
  for (const auto& s : segments_) {
    SegmentSummary m = s->meta();
    if (m.records == 0) continue;
    if (time_ms != nullptr) *time_ms = m.first_time_ms;
    return m.first_seq;
  }
  if (time_ms != nullptr) *time_ms = 0;
  return 0;
}

const char* name(CursorCheck c) {
  switch (c) {
    case CursorCheck::replay: return "replay";
    case CursorCheck::outdated: return "outdated";
    case CursorCheck::future: return "future";
  }
  return "unknown";
}

CursorCheck EventLog::check_cursor(uint64_t cursor) const {
  if (cursor > written_seq()) return CursorCheck::future;
  // Like the reference PDS, cursor 0 is compared with the window too: a relay whose window
  // does not start at seq 1 answers it with OutdatedCursor before replaying everything.
  if (cursor + 1 < window_start()) return CursorCheck::outdated;
  return CursorCheck::replay;
}

Status EventLog::takedown(std::string_view did, bool* changed) {
  Status st = takedowns_.add(did, changed);
  if (st.ok() && *changed) RL_LOG_INFO("eventlog", "takedown recorded for %.*s", static_cast<int>(did.size()), did.data());
  return st;
}

Status EventLog::reverse_takedown(std::string_view did, bool* changed) {
  return takedowns_.remove(did, changed);
}

void EventLog::set_retention(uint64_t replay_window_ms, uint64_t max_disk_bytes) {
  replay_window_ms_.store(replay_window_ms);
  max_disk_bytes_.store(max_disk_bytes);
}

void EventLog::set_sync_policy(uint64_t interval_ms, uint64_t bytes) {
  sync_interval_ms_.store(interval_ms);
  sync_bytes_.store(bytes);
}

Counters EventLog::counters() const {
  Counters c;
  c.records_appended = c_.records.load();
  c.bytes_appended = c_.bytes.load();
  c.batches_appended = c_.batches.load();
  c.append_errors = c_.append_errors.load();
  c.fsyncs = c_.fsyncs.load();
  c.fsync_ns_total = c_.fsync_ns_total.load();
  c.fsync_ns_max = c_.fsync_ns_max.load();
  c.lease_renewals = c_.lease_renewals.load();
  {
    std::lock_guard<std::mutex> lock(dir_mu_);
    c.segments = segments_.size();
  }
  c.bytes_on_disk = c_.bytes_on_disk.load();
  c.oldest_seq = oldest_seq(&c.oldest_time_ms);
  c.written_seq = written_seq();
  c.durable_seq = durable_seq();
  c.next_seq = next_seq();
  c.torn_tail_truncations = c_.torn_truncations.load();
  c.torn_bytes_cut = c_.torn_bytes.load();
  c.segments_deleted = c_.segments_deleted.load();
  c.bytes_deleted = c_.bytes_deleted.load();
  c.takedowns = takedowns_.snapshot()->size();
  c.takedown_records_scrubbed = c_.scrubbed.load();
  c.takedown_frames_skipped = c_.takedown_skipped.load();
  c.damaged_frames_skipped = c_.damaged_skipped.load();
  c.replay_frames = c_.replay_frames.load();
  c.replay_bytes = c_.replay_bytes.load();
  c.failed = failed_.load() != Reason::ok;
  return c;
}

}  // namespace ringlay::log_store
