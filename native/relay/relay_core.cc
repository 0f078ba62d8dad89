// SPDX-License-Identifier: MIT
#include "relay/relay_core.h"

#include <pthread.h>

#include <cerrno>

#include "relay/relay_engine.h"
#include "util/assert.h"

namespace ringlay::relay {

std::shared_ptr<RelayCore> RelayCore::open(const RelayOptions& options, std::shared_ptr<verify::KeyCache> keys,
                                           Notify notify, log_store::Status* status,
                                           log_store::RecoveryReport* report) {
  std::shared_ptr<RelayCore> core(new RelayCore());
  core->inbox_ = Inbox::create();
  if (!core->inbox_) {
    *status = log_store::Status::from_errno(errno);
    return nullptr;
  }
  core->published_ = std::make_shared<PublishQueue>();
  std::unique_ptr<log_store::EventLog> log = log_store::EventLog::open(options.log, status, report);
  if (!log) return nullptr;
  core->log_ = std::shared_ptr<log_store::EventLog>(std::move(log));
  core->engine_ = std::make_unique<Engine>(options, core->log_, core->inbox_, core->published_, &core->output_,
                                           std::move(notify));
  if (!core->engine_->start(std::move(keys), status)) {
    core->engine_.reset();
    core->log_->close();
    return nullptr;
  }
  RelayCore* raw = core.get();
  core->thread_ = std::thread([raw] { raw->run(); });
  pthread_setname_np(core->thread_.native_handle(), "rl-relay");
  return core;
}

RelayCore::~RelayCore() {
  close();
  join();
}

void RelayCore::run() {
  for (;;) {
    inbox_->wait(-1);
    if (!engine_->round()) break;
  }
  engine_->finish();
}

void RelayCore::ingest(uint32_t host, uint64_t conn, std::vector<BytesRef> frames) {
  if (frames.empty()) return;
  Inbound in;
  in.kind = Inbound::Kind::frames;
  in.host = host;
  in.conn = conn;
  in.frames = std::move(frames);
  inbox_->push(std::move(in));
}

void RelayCore::connection_closed(uint64_t conn) {
  Inbound in;
  in.kind = Inbound::Kind::conn_closed;
  in.conn = conn;
  inbox_->push(std::move(in));
}

void RelayCore::decide(DecisionBatch batch) {
  if (batch.decisions.empty()) return;
  Inbound in;
  in.kind = Inbound::Kind::decisions;
  in.decisions = std::move(batch);
  inbox_->push(std::move(in));
}

void RelayCore::attach(std::shared_ptr<Downstream> downstream) {
  Inbound in;
  in.kind = Inbound::Kind::attach;
  in.downstream = std::move(downstream);
  inbox_->push(std::move(in));
}

void RelayCore::close() {
  if (close_posted_.exchange(true) || !thread_.joinable()) return;
  Inbound in;
  in.kind = Inbound::Kind::close;
  inbox_->push(std::move(in));
  // What others push from now on is dropped (frames from the ring, late decisions).
  inbox_->close_intake();
}

void RelayCore::join() {
  if (thread_.joinable()) thread_.join();
}

Stats RelayCore::stats() const {
  Stats s;
  if (!engine_) return s;
  const AtomicStats& c = engine_->counters;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.ingested = get(c.ingested);
  s.out_of_order = get(c.out_of_order);
  s.validated = get(c.validated);
  s.rejected_verdicts = get(c.rejected_verdicts);
  s.accepted = get(c.accepted);
  s.dropped = get(c.dropped);
  s.retried = get(c.retried);
  s.replaced = get(c.replaced);
  s.emitted = get(c.emitted);
  s.written = get(c.written);
  s.log_rejected = get(c.log_rejected);
  s.published = get(c.published);
  s.bad_decisions = get(c.bad_decisions);
  s.synth_errors = get(c.synth_errors);
  s.pending = get(c.pending);
  s.pending_bytes = get(c.pending_bytes);
  s.backlog = get(c.backlog);
  s.paused_hosts = get(c.paused_hosts);
  s.pauses = get(c.pauses);
  s.outputs = get(c.outputs);
  s.ingest_after_close = get(c.ingest_after_close);
  for (size_t i = 0; i < s.verdicts.size(); ++i) s.verdicts[i] = get(c.verdicts[i]);
  s.written_seq = log_->written_seq();
  s.durable_seq = log_->durable_seq();
  return s;
}

}  // namespace ringlay::relay
