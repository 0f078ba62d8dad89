// SPDX-License-Identifier: MIT
#include "relay/replay_reader.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log/event_log.h"
#include "log/file_io.h"
#include "log/reader.h"
#include "util/assert.h"

namespace ringlay::relay {

namespace {

// The log reader's answer in the fan-out core's terms: the chunk is handed over as is, each
// frame a slice of it.
fanout::DiskChunk to_chunk(const log_store::ReadResult& r, log_store::ReplayBatch& batch,
                           uint64_t position) {
  fanout::DiskChunk chunk;
  chunk.position = position;
  if (r.state == log_store::ReadState::error) {
    chunk.state = fanout::ChunkState::error;
    return chunk;
  }
  if (r.gap) {
    chunk.state = fanout::ChunkState::gap;
    return chunk;
  }
  chunk.state = r.state == log_store::ReadState::at_head ? fanout::ChunkState::at_head
                                                         : fanout::ChunkState::frames;
  chunk.frames.reserve(batch.frames.size());
  for (const log_store::ReplayFrame& f : batch.frames) {
    chunk.frames.push_back(fanout::DiskFrame{f.seq, f.offset, f.size});
  }
  chunk.buffer = std::move(batch.buffer);
  return chunk;
}

}  // namespace

ReplayReader::ReplayReader(std::shared_ptr<log_store::EventLog> log, std::function<void()> wake)
    : log_(std::move(log)), wake_(std::move(wake)) {}

std::unique_ptr<ReplayReader> ReplayReader::start(std::shared_ptr<log_store::EventLog> log,
                                                  std::function<void()> wake, std::string* error) {
  RL_ASSERT(log != nullptr);
  std::unique_ptr<ReplayReader> r(new ReplayReader(std::move(log), std::move(wake)));
  r->efd_ = ::eventfd(0, EFD_CLOEXEC);
  if (r->efd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  int err = pthread_create(&r->thread_, nullptr, &ReplayReader::thread_main, r.get());
  if (err != 0) {
    *error = std::string("pthread_create: ") + std::strerror(err);
    return nullptr;
  }
  r->running_ = true;
  return r;
}

ReplayReader::~ReplayReader() {
  if (running_) {
    stop_.store(true, std::memory_order_release);
    signal();
    pthread_join(thread_, nullptr);
  }
  if (efd_ >= 0) ::close(efd_);
}

void ReplayReader::signal() {
  uint64_t one = 1;
  while (::write(efd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void ReplayReader::post(std::vector<fanout::ReadRequest>& requests) {
  if (requests.empty()) return;
  bool was_empty = requests_.push_many(requests.begin(), requests.end());
  requests.clear();
  if (was_empty) signal();
}

void* ReplayReader::thread_main(void* self) {
  pthread_setname_np(pthread_self(), "ringlay-replay");
  static_cast<ReplayReader*>(self)->run();
  return nullptr;
}

void ReplayReader::run() {
  std::vector<fanout::ReadRequest> batch;
  std::vector<ReplayResult> out;
  while (!stop_.load(std::memory_order_acquire)) {
    requests_.take_all(batch);
    if (batch.empty()) {
      uint64_t n;
      // Blocks until post() or the destructor writes; a wake that raced the take above is
      // kept in the counter, so nothing is missed.
      while (::read(efd_, &n, sizeof n) < 0 && errno == EINTR) {
      }
      continue;
    }
    for (const fanout::ReadRequest& req : batch) {
      if (stop_.load(std::memory_order_acquire)) break;
      serve(req, out);
    }
    if (!out.empty() && results_.push_many(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()))) {
      if (wake_) wake_();
    }
    out.clear();
  }
  readers_.clear();  // on the thread that used them, before the log can go
  c_.readers.store(0, std::memory_order_relaxed);
}

void ReplayReader::serve(const fanout::ReadRequest& req, std::vector<ReplayResult>& out) {
  if (req.release) {
    readers_.erase(req.id);
    c_.readers.store(readers_.size(), std::memory_order_relaxed);
    return;
  }
  std::unique_ptr<log_store::Reader>& reader = readers_[req.id];
  if (reader == nullptr || reader->position() != req.after_seq) {
    if (reader != nullptr) c_.reopens.fetch_add(1, std::memory_order_relaxed);
    // A consumer's position is a promise that it has everything up to it: below the window
    // that is a gap, unless it asked for the whole window (fanout::ReadRequest::from_oldest).
    reader = log_->open_reader(req.after_seq, req.from_oldest ? log_store::ReaderStart::clamp
                                                              : log_store::ReaderStart::exact);
    c_.readers.store(readers_.size(), std::memory_order_relaxed);
  }
  log_store::ReplayBatch batch;
  uint64_t t0 = log_store::monotonic_ns();
  log_store::ReadResult r = reader->read(batch, req.max_bytes);
  uint64_t ns = log_store::monotonic_ns() - t0;
  c_.reads.fetch_add(1, std::memory_order_relaxed);
  c_.bytes.fetch_add(batch.buffer.size(), std::memory_order_relaxed);
  c_.read_ns_total.fetch_add(ns, std::memory_order_relaxed);
  if (ns > c_.read_ns_max.load(std::memory_order_relaxed)) c_.read_ns_max.store(ns, std::memory_order_relaxed);
  out.push_back(ReplayResult{req.id, to_chunk(r, batch, reader->position())});
  // After an error or a gap the consumer is closed: its reader is of no further use.
  if (r.state == log_store::ReadState::error || r.gap) readers_.erase(req.id);
}

ReplayReaderStats ReplayReader::stats() const {
  ReplayReaderStats s;
  s.reads = c_.reads.load(std::memory_order_relaxed);
  s.bytes = c_.bytes.load(std::memory_order_relaxed);
  s.read_ns_total = c_.read_ns_total.load(std::memory_order_relaxed);
  s.read_ns_max = c_.read_ns_max.load(std::memory_order_relaxed);
  s.readers_open = c_.readers.load(std::memory_order_relaxed);
  s.reopens = c_.reopens.load(std::memory_order_relaxed);
  return s;
}

}  // namespace ringlay::relay
