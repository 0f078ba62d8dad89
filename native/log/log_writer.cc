// SPDX-License-Identifier: MIT
#include "log/log_writer.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "util/assert.h"

namespace ringlay::log_store {

std::unique_ptr<LogWriter> LogWriter::start(EventLog* log, Config config, Status* status) {
  std::unique_ptr<LogWriter> w(new LogWriter(log, std::move(config)));
  if (w->config_.max_group_events == 0) w->config_.max_group_events = 1;
  w->efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->efd_ < 0) {
    *status = Status::from_errno(errno);
    return nullptr;
  }
  w->reported_durable_ = log->durable_seq();
  int err = pthread_create(&w->thread_, nullptr, &LogWriter::thread_main, w.get());
  if (err != 0) {
    *status = Status::from_errno(err);
    return nullptr;
  }
  w->running_ = true;
  *status = {};
  return w;
}

LogWriter::~LogWriter() {
  stop();
  if (efd_ >= 0) ::close(efd_);
}

void* LogWriter::thread_main(void* self) {
  static_cast<LogWriter*>(self)->run();
  return nullptr;
}

void LogWriter::submit(std::vector<SubmitEvent> events) {
  if (events.empty()) return;
  if (queue_.push(std::move(events))) {
    uint64_t one = 1;
    // EAGAIN only when the counter is saturated: the writer is awake anyway.
    [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
  }
}

void LogWriter::stop() {
  if (!running_) return;
  stop_.store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof one);
  pthread_join(thread_, nullptr);
  running_ = false;
}

void LogWriter::wait(int timeout_ms) {
  pollfd p{efd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r > 0) {
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(efd_, &v, sizeof v);
  }
}

void LogWriter::run() {
  std::vector<std::vector<SubmitEvent>> batches;
  for (;;) {
    // The stop flag is read before draining: everything submitted before stop() is written.
    const bool stopping = stop_.load(std::memory_order_acquire);
    queue_.take_all(batches);
    if (!batches.empty()) process(batches);
    const bool failed = log_->failure() != Reason::ok;
    if (!failed && log_->sync_due(monotonic_ns())) sync_and_report();
    if (!batches.empty()) continue;  // look for more work before sleeping
    if (stopping) break;
    // A failed log has nothing to sync any more: sleep until work (to reject) arrives.
    wait(failed ? -1 : static_cast<int>(log_->ms_until_sync_due(monotonic_ns())));
  }
  if (log_->failure() == Reason::ok) sync_and_report();
}

void LogWriter::process(std::vector<std::vector<SubmitEvent>>& batches) {
  std::vector<SubmitEvent*> group;
  for (auto& batch : batches) {
    for (SubmitEvent& ev : batch) {
      group.push_back(&ev);
      if (group.size() >= config_.max_group_events) append_group(group);
    }
  }
  if (!group.empty()) append_group(group);
  batches.clear();
}

void LogWriter::append_group(std::vector<SubmitEvent*>& group) {
  Completion c;
  records_.clear();
  pending_.clear();
  uint64_t seq = log_->next_seq();
  for (SubmitEvent* ev : group) {
    BytesRef frame = config_.patch ? config_.patch(ev->frame, ev->patch_hint, seq) : ev->frame;
    if (!frame) {
      c.rejected.push_back({ev->tag, Reason::patch_failed});  // seq stays for the next event
      continue;
    }
    records_.push_back({seq, ev->time_ms, ev->did, frame.span()});
    pending_.push_back({seq, ev->tag, std::move(frame)});
    ++seq;
  }
  group.clear();
  if (!records_.empty()) {
    c.status = log_->append(records_);
    // On failure some leading records may still be in the log (a rotation boundary): exactly
    // those at or below written_seq() are, and they must be reported as written.
    const uint64_t written = log_->written_seq();
    for (WrittenEvent& w : pending_) {
      if (c.status.ok() || w.seq <= written) {
        c.written.push_back(std::move(w));
      } else {
        c.rejected.push_back({w.tag, c.status.reason});
      }
    }
  }
  post(std::move(c));
}

void LogWriter::sync_and_report() {
  Completion c;
  c.status = log_->sync();
  if (c.status.ok() && log_->durable_seq() == reported_durable_) return;
  post(std::move(c));
}

void LogWriter::post(Completion c) {
  c.written_seq = log_->written_seq();
  c.durable_seq = log_->durable_seq();
  reported_durable_ = c.durable_seq;
  if (completions_.push(std::move(c)) && config_.wake) config_.wake();
}

}  // namespace ringlay::log_store
