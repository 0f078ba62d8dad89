// SPDX-License-Identifier: MIT
// LogWriter: the log thread. It owns the EventLog's writer role and is the relay's sequencer.
//
// Why a thread of its own: appending is cheap (a pwritev into the page cache) but fdatasync
// takes milliseconds and the seq lease occasionally fsyncs too; neither may run on the ring
// thread or the JS thread. Making this thread also the sequencer means seq order is append
// order by construction: nobody else hands out seqs, so no lock orders them.
//
// Flow:
//   submit(events)   any thread; events are accepted frames still carrying the upstream seq.
//                    Queued (MpscQueue); the log thread is woken by an eventfd.
//   log thread       takes everything queued, and per event: seq = next seq, frame =
//                    patch(frame, seq) (firehose::patch_seq in the relay), then one append()
//                    (one pwritev) for the whole group. Then it posts a Completion and calls
//                    `wake` (an eventfd write for the ring thread, a uv_async for JS).
//                    While idle it runs the group-commit policy: fdatasync when sync_due(),
//                    then posts a Completion carrying the new durable_seq.
//   take(out)        the consumer (the fan-out's owner) takes completions and broadcasts
//                    exactly `written` frames: they are in the file, so "write before send"
//                    holds, and a frame the log refused is never sent.
//
// A patch failure rejects only that event (its seq is not used, the next event gets it). An
// append failure rejects the rest of the group; after a fatal one (fsync, lease) every later
// event is rejected with `failed` until restart.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "log/event_log.h"
#include "util/mpsc_queue.h"
#include "util/shared_bytes.h"

namespace ringlay::log_store {

struct SubmitEvent {
  BytesRef frame;           // the frame as accepted (upstream seq inside)
  uint64_t patch_hint = 0;  // opaque to the log, passed to the patcher (e.g. the seq location)
  std::string did;
  uint64_t time_ms = 0;     // relay receive time
  uint64_t tag = 0;         // the caller's id for this event, returned in the Completion
};

struct WrittenEvent {
  uint64_t seq;
  uint64_t tag;
  BytesRef frame;  // the final wire frame, as stored
};

struct RejectedEvent {
  uint64_t tag;
  Reason reason;
};

struct Completion {
  std::vector<WrittenEvent> written;  // seq order; all in the log, safe to broadcast
  std::vector<RejectedEvent> rejected;
  uint64_t written_seq = 0;  // the log's watermarks after this step
  uint64_t durable_seq = 0;
  Status status;  // the append or fsync failure, if any
};

// Returns the frame with `seq` written into it, or an empty BytesRef to reject the event.
using SeqPatcher = std::function<BytesRef(const BytesRef& frame, uint64_t hint, uint64_t seq)>;

class LogWriter {
 public:
  struct Config {
    SeqPatcher patch;             // null: frames are stored as given (tests, tools)
    std::function<void()> wake;   // called after posting completions (from the log thread)
    size_t max_group_events = 8192;
  };

  // The log must outlive the writer; nothing else may append while it runs.
  static std::unique_ptr<LogWriter> start(EventLog* log, Config config, Status* status);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  void submit(std::vector<SubmitEvent> events);
  void take(std::vector<Completion>& out) { completions_.take_all(out); }
  // Appends everything submitted before the call, fdatasyncs, joins the thread.
  void stop();

 private:
  LogWriter(EventLog* log, Config config) : log_(log), config_(std::move(config)) {}
  static void* thread_main(void* self);
  void run();
  void process(std::vector<std::vector<SubmitEvent>>& batches);
  void append_group(std::vector<SubmitEvent*>& group);
  void sync_and_report();
  void post(Completion c);
  void wait(int timeout_ms);

  EventLog* log_;
  Config config_;
  int efd_ = -1;
  pthread_t thread_{};
  bool running_ = false;
  std::atomic<bool> stop_{false};
  MpscQueue<std::vector<SubmitEvent>> queue_;
  MpscQueue<Completion> completions_;
  uint64_t reported_durable_ = 0;  // log thread only

  // Log-thread scratch.
  std::vector<AppendRecord> records_;
  std::vector<WrittenEvent> pending_;
};

}  // namespace ringlay::log_store
