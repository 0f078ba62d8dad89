// SPDX-License-Identifier: MIT
// Engine: the relay thread's state and rounds (relay_core.h describes the data path). One
// round takes everything the inbox, the Validator and the LogWriter have for it, in this order:
//   inbound items (frames, decisions, connection ends, attach, close), in push order;
//   validator results → pending table + summaries; backlog → validator;
//   accepted frames → LogWriter (one submit per round, decision order);
//   log completions → publish → WrittenNotice; flow-control changes; one Output to JS.
// Relay thread only, except `counters`, which anyone may read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "relay/pending.h"
#include "relay/relay_core.h"
#include "relay/synth.h"

namespace ringlay::relay {

struct AtomicStats {
  std::atomic<uint64_t> ingested{0}, out_of_order{0}, validated{0}, rejected_verdicts{0};
  std::atomic<uint64_t> accepted{0}, dropped{0}, retried{0}, replaced{0}, emitted{0};
  std::atomic<uint64_t> written{0}, log_rejected{0}, published{0}, bad_decisions{0}, synth_errors{0};
  std::atomic<uint64_t> pending{0}, pending_bytes{0}, backlog{0}, paused_hosts{0}, pauses{0};
  std::atomic<uint64_t> outputs{0}, ingest_after_close{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(firehose::Reason::cancelled) + 1> verdicts{};
};

class Engine {
 public:
  Engine(const RelayOptions& options, std::shared_ptr<log_store::EventLog> log, std::shared_ptr<Inbox> inbox,
         std::shared_ptr<PublishQueue> published, MpscQueue<Output>* output, RelayCore::Notify notify);
  ~Engine();

  // Starts the LogWriter and the Validator (on the caller's thread, before the relay thread).
  bool start(std::shared_ptr<verify::KeyCache> keys, log_store::Status* status);
  // One round; false once a close was handled (then call finish()).
  bool round();
  // The close: decisions given are applied, accepted events written and fsync'd, reported,
  // the log closed, and the last Output posted.
  void finish();

  AtomicStats counters;

 private:
  void handle(Inbound& in);
  void ingest(Inbound& in);
  void decide(DecisionBatch& batch);
  void decide_one(const Decision& d, DecisionBatch& batch, uint64_t now);
  void submit_synth(const SynthFrame& f, uint64_t tag, Entry* replaced, uint64_t now);
  void validate(uint64_t id);
  void submit_backlog();
  void collect_results();
  void on_result(verify::FrameResult& r);
  void flush_log();
  void collect_completions();
  void publish();
  void release(uint64_t id);
  void report(bool closed);
  void push_output();
  Output& out();

  RelayOptions options_;
  std::shared_ptr<log_store::EventLog> log_;
  std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<PublishQueue> published_;
  MpscQueue<Output>* output_;
  RelayCore::Notify notify_;
  std::unique_ptr<log_store::LogWriter> writer_;
  std::unique_ptr<verify::Validator> validator_;
  std::shared_ptr<Downstream> downstream_;

  PendingTable table_;
  SeqOrder order_;
  FlowControl flow_;
  SynthEncoder synth_;
  std::deque<uint64_t> backlog_;  // ids waiting for validator capacity, in arrival order
  bool closing_ = false;
  uint64_t reported_durable_ = 0;

  // Scratch, reused every round.
  std::vector<Inbound> inbound_;
  std::vector<verify::FrameResult> results_;
  std::vector<log_store::SubmitEvent> to_log_;
  std::vector<log_store::Completion> completions_;
  std::vector<fanout::PublishFrame> publish_;
  std::vector<PauseChange> pause_changes_;
  std::vector<HostCount> host_changes_;
  std::unique_ptr<Output> cur_;
};

}  // namespace ringlay::relay
