// SPDX-License-Identifier: MIT
// RelayCore: the native relay pipeline between the transports and the policy layer
// (design.md "The data path"; lib/relay/pipeline-types.ts is its JS contract).
//
//   upstream frames ──ingest()──▶ relay thread: per-connection seq check (arrival order)
//        (ring thread or JS)          │ submit to the Validator (verify workers)
//                                     ▼
//                                 pending table: id → frame (BytesRef), until decided
//                                     │ summaries ──take_output()──▶ JS (one TSFN call)
//   JS decisions ──decide()──────▶ relay thread: accept/replace/emit → LogWriter (log thread:
//                                     │ seq assigned, patched, appended); drop → release;
//                                     │ retry → Validator again
//                                     ▼
//                                 log completions: written frames → Downstream::publish (the
//                                 fan-out's owner) → WrittenNotice{ids, seqs, durableSeq} to JS
//
// Threads and why. One dedicated relay thread owns the Validator (whose submit and
// take_results must come from one owner thread), the pending table, the per-connection seq
// state, the flow-control counts and the LogWriter's submit side. Everybody else only pushes
// into its Inbox (MpscQueue + one eventfd): the ring thread (upstream messages), JS (uWS
// ingest, decisions, close), the verify workers (results ready) and the log thread (writes
// done). The ring thread therefore does nothing per frame but one queue push per turn, JS does
// nothing per frame but build its summaries, and the same code serves both transports.
// Written frames go to the fan-out's owner thread (the ring thread through a Driver command,
// or the uWS FanoutCore's next pump through PublishQueue), before JS hears they are written.
//
// Ordering: one DID's summaries reach JS in upstream order (Validator delivery order); the
// decisions of one batch are applied in order, and accepted events are handed to the LogWriter
// in that order, so the log appends in decision order. "Written before published": only what a
// Completion reports written is published.
//
// Flow control: each event counts against its host from ingest until it is dropped or written
// (undecided and unwritten both count). Past `host_pending_limit` events (or, for any host that
// delivers while the whole table holds more than `total_pending_bytes`) the host's upstream
// connections are paused; they resume below half. Paused io_uring upstreams stop receiving
// natively; uWS upstreams are paused by JS (Output::pauses).
//
// Sharing the event log (consumer replay, native/relay/replay*): log() is the EventLog this core
// opened; readers may be opened on any thread (event_log.h). It stays open until close() has
// finished (the Output with `closed`); the shared_ptr keeps the object alive after that.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fanout/fanout.h"
#include "firehose/validate.h"
#include "log/event_log.h"
#include "log/log_writer.h"
#include "relay/decision.h"
#include "relay/inbox.h"
#include "relay/publish_queue.h"
#include "util/mpsc_queue.h"
#include "util/shared_bytes.h"
#include "verify/key_cache.h"
#include "verify/validator.h"

namespace ringlay::relay {

class Engine;

struct RelayOptions {
  log_store::Options log;  // data_dir, initial_seq, replay window, byte cap, sync policy
  verify::ValidatorOptions validator;  // pool threads/capacity; validate.lenient
  // Events per host (undecided + unwritten) before its upstream is paused; resumes below half.
  uint32_t host_pending_limit = 10000;
  // Frame bytes in the whole table before hosts that deliver more are paused.
  uint64_t total_pending_bytes = uint64_t{1} << 30;
  // Summaries per Output (a larger backlog goes out in several).
  size_t max_output_events = 4096;
};

// Where the relay thread sends what leaves it besides JS (io_uring: the ring thread, see
// uring_link.h). Called on the relay thread only.
class Downstream {
 public:
  virtual ~Downstream() = default;
  // Written frames (seq order, relay seqs set): hand them to the fan-out.
  virtual void publish(std::vector<fanout::PublishFrame>& frames) = 0;
  // Pause (or resume) receiving on an upstream connection; false when this downstream does
  // not know it (then JS is told through Output::pauses).
  virtual bool pause_upstream(uint64_t conn, bool pause) = 0;
};

// One pending event's summary for JS. `frame` keeps the verdict's views valid.
struct SummaryRecord {
  uint64_t id = 0;
  uint32_t host = 0;
  int64_t upstream_seq = -1;   // -1: the frame has none (#info, error frames)
  uint32_t frame_bytes = 0;
  bool out_of_order = false;   // verdict seq_out_of_order: not validated
  firehose::Verdict verdict;
  BytesRef frame;
};

struct HostUpdate {
  uint32_t host = 0;
  uint32_t pending = 0;
  bool paused = false;
};

struct ConnPause {
  uint64_t conn = 0;
  bool pause = false;
};

// What JS takes in one drain (several may be queued; take them all, in order).
struct Output {
  std::vector<SummaryRecord> events;
  // Log-write notice: ids of written upstream events (replaced ones included) and their seqs.
  std::vector<uint64_t> written_ids;
  std::vector<uint64_t> written_seqs;
  bool notice = false;        // a WrittenNotice (possibly durable-only) is due
  uint64_t durable_seq = 0;   // the log's durable seq when the notice was made
  std::vector<HostUpdate> hosts;  // hosts whose pending count or pause state changed
  std::vector<ConnPause> pauses;  // connections JS must pause/resume (uWS upstreams)
  bool published = false;     // frames were queued on the PublishQueue (uWS: pump now)
  bool closed = false;        // close() finished: nothing follows
  log_store::Status failure;  // the log refused writes (append/fsync failure), if any
};

// Counters (relaxed atomics; readable from any thread).
struct Stats {
  uint64_t ingested = 0, out_of_order = 0, validated = 0, rejected_verdicts = 0;
  uint64_t accepted = 0, dropped = 0, retried = 0, replaced = 0, emitted = 0;
  uint64_t written = 0, log_rejected = 0, published = 0, bad_decisions = 0, synth_errors = 0;
  uint64_t pending = 0, pending_bytes = 0, backlog = 0, paused_hosts = 0, pauses = 0;
  uint64_t outputs = 0, ingest_after_close = 0;
  uint64_t written_seq = 0, durable_seq = 0;
  // Non-ok verdicts by firehose::Reason.
  std::array<uint64_t, static_cast<size_t>(firehose::Reason::cancelled) + 1> verdicts{};
};

class RelayCore : public std::enable_shared_from_this<RelayCore> {
 public:
  using Notify = std::function<void()>;

  // Opens the event log, starts the log thread, the verify workers and the relay thread.
  // `notify` runs on the relay thread when Output goes from empty to waiting (a TSFN call).
  // nullptr on failure (*status says why).
  static std::shared_ptr<RelayCore> open(const RelayOptions& options, std::shared_ptr<verify::KeyCache> keys,
                                         Notify notify, log_store::Status* status,
                                         log_store::RecoveryReport* report = nullptr);
  // Closes (as close() + join()) if that was not done.
  ~RelayCore();
  RelayCore(const RelayCore&) = delete;
  RelayCore& operator=(const RelayCore&) = delete;

  // --- any thread ---
  // Upstream messages of connection `conn` of host `host`, in arrival order.
  void ingest(uint32_t host, uint64_t conn, std::vector<BytesRef> frames);
  // The connection ended: its seq state is forgotten (a new connection starts afresh).
  void connection_closed(uint64_t conn);
  void decide(DecisionBatch batch);
  // Sets where written frames and pauses go (null: PublishQueue and JS).
  void attach(std::shared_ptr<Downstream> downstream);
  // Stops taking frames, applies the decisions already given, writes and fsyncs what was
  // accepted, reports it, closes the log; then the last Output (closed) is posted.
  void close();
  Stats stats() const;
  std::shared_ptr<log_store::EventLog> log() const { return log_; }
  // Where written frames wait for the uWS fan-out (FanoutCore pulls them on its pump).
  std::shared_ptr<PublishQueue> publish_queue() const { return published_; }
  // The relay thread's inbox (the io_uring link delivers upstream messages into it).
  std::shared_ptr<Inbox> inbox() const { return inbox_; }

  // --- the consumer of Output (JS thread) ---
  void take_output(std::vector<Output>& out) { output_.take_all(out); }
  // Joins the relay thread (returns at once after the closed Output).
  void join();

 private:
  RelayCore() = default;
  void run();

  std::shared_ptr<log_store::EventLog> log_;
  std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<PublishQueue> published_;
  MpscQueue<Output> output_;
  std::unique_ptr<Engine> engine_;  // relay-thread state (relay_engine.h)
  std::thread thread_;
  std::atomic<bool> close_posted_{false};
};

}  // namespace ringlay::relay
