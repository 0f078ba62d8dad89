// SPDX-License-Identifier: MIT
#include "relay/relay_engine.h"

#include "firehose/seq_patch.h"
#include "log/file_io.h"
#include "util/assert.h"
#include "util/log.h"

namespace ringlay::relay {

namespace {

using log_store::Completion;
using log_store::SubmitEvent;

constexpr uint64_t kEmitTag = 0;  // ids are never 0: an emitted frame has no event behind it

uint64_t patch_hint(firehose::SeqLocation loc) { return (uint64_t{loc.offset} << 32) | loc.size; }

BytesRef patch(const BytesRef& frame, uint64_t hint, uint64_t seq) {
  firehose::SeqLocation loc{static_cast<uint32_t>(hint >> 32), static_cast<uint32_t>(hint & 0xffffffffu)};
  firehose::PatchError err;
  return firehose::patch_seq(frame.span(), loc, static_cast<int64_t>(seq), &err);
}

void bump(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

Engine::Engine(const RelayOptions& options, std::shared_ptr<log_store::EventLog> log, std::shared_ptr<Inbox> inbox,
               std::shared_ptr<PublishQueue> published, MpscQueue<Output>* output, RelayCore::Notify notify)
    : options_(options),
      log_(std::move(log)),
      inbox_(std::move(inbox)),
      published_(std::move(published)),
      output_(output),
      notify_(std::move(notify)),
      flow_(options.host_pending_limit, options.total_pending_bytes) {}

Engine::~Engine() {
  // finish() normally ran; if start() failed half-way, stop what did start.
  if (validator_) validator_->shutdown(verify::StopMode::cancel);
  if (writer_) writer_->stop();
}

bool Engine::start(std::shared_ptr<verify::KeyCache> keys, log_store::Status* status) {
  log_store::LogWriter::Config cfg;
  cfg.patch = patch;
  Inbox* raw = inbox_.get();
  cfg.wake = [raw] { raw->wake(); };
  writer_ = log_store::LogWriter::start(log_.get(), std::move(cfg), status);
  if (!writer_) return false;
  verify::ValidatorOptions vo = options_.validator;
  if (vo.pool.name == nullptr || vo.pool.name[0] == '\0') vo.pool.name = "rl-relay";
  validator_ = std::make_unique<verify::Validator>(vo, std::move(keys), [raw] { raw->wake(); });
  return true;
}

Output& Engine::out() {
  if (!cur_) cur_ = std::make_unique<Output>();
  return *cur_;
}

bool Engine::round() {
  inbox_->take(inbound_);
  for (Inbound& in : inbound_) handle(in);
  inbound_.clear();
  submit_backlog();
  collect_results();
  submit_backlog();
  flush_log();
  collect_completions();
  report(false);
  return !closing_;
}

void Engine::handle(Inbound& in) {
  switch (in.kind) {
    case Inbound::Kind::frames: ingest(in); break;
    case Inbound::Kind::conn_closed:
      order_.forget(in.conn);
      flow_.connection_closed(in.conn);
      break;
    case Inbound::Kind::decisions: decide(in.decisions); break;
    case Inbound::Kind::attach: downstream_ = std::move(in.downstream); break;
    case Inbound::Kind::close: closing_ = true; break;
  }
}

// Arrival order per connection is the order here: the seq check runs before any parallel work.
void Engine::ingest(Inbound& in) {
  if (closing_) {
    bump(counters.ingest_after_close, in.frames.size());
    return;
  }
  const uint64_t now = log_store::wall_ms();
  for (BytesRef& f : in.frames) {
    if (!f) continue;
    const int64_t seq = peek_upstream_seq(f.span());
    const uint64_t bytes = f.size();
    const bool in_order = order_.admit(in.conn, seq);
    uint64_t id = table_.insert(in_order ? std::move(f) : BytesRef(), in.host, in.conn, seq, now);
    if (id == 0) {
      RL_LOG_ERROR("relay", "pending table full: frame of host %u dropped", in.host);
      continue;
    }
    Entry* e = table_.find(id);
    e->counted_bytes = bytes;
    flow_.add(in.host, in.conn, bytes);
    bump(counters.ingested);
    if (in_order) {
      validate(id);
      continue;
    }
    // A replay of what the connection already sent: reported (so it is counted and decided)
    // without validation; its bytes are not kept.
    bump(counters.out_of_order);
    e->state = EntryState::undecided;
    SummaryRecord rec;
    rec.id = id;
    rec.host = in.host;
    rec.upstream_seq = seq;
    rec.frame_bytes = static_cast<uint32_t>(bytes);
    rec.out_of_order = true;
    out().events.push_back(std::move(rec));
  }
}

void Engine::validate(uint64_t id) {
  if (backlog_.empty()) {
    Entry* e = table_.find(id);
    RL_ASSERT(e != nullptr);
    if (validator_->submit(e->frame, e->host, id)) return;
  }
  backlog_.push_back(id);
}

// Oldest first, and nothing overtakes the backlog: one DID's frames reach the Validator in
// arrival order, which is the order it delivers them in.
void Engine::submit_backlog() {
  while (!backlog_.empty()) {
    Entry* e = table_.find(backlog_.front());
    if (e != nullptr && e->state == EntryState::validating && !validator_->submit(e->frame, e->host, backlog_.front())) break;
    backlog_.pop_front();
  }
}

void Engine::collect_results() {
  validator_->take_results(results_);
  for (verify::FrameResult& r : results_) on_result(r);
  results_.clear();
}

void Engine::on_result(verify::FrameResult& r) {
  Entry* e = table_.find(r.tag);
  if (e == nullptr || e->state != EntryState::validating) return;
  if (r.cancelled || closing_) {  // at close: no more summaries; released with the table
    e->state = EntryState::undecided;
    return;
  }
  const firehose::Summary& s = r.verdict.summary;
  e->state = EntryState::undecided;
  e->seq_location = s.seq_location;
  e->did = s.did;
  bump(counters.validated);
  if (!r.verdict.ok()) {
    bump(counters.rejected_verdicts);
    bump(counters.verdicts[static_cast<size_t>(r.verdict.reason)]);
  }
  Output& o = out();
  SummaryRecord& rec = o.events.emplace_back();
  rec.id = r.tag;
  rec.host = e->host;
  rec.upstream_seq = e->upstream_seq;
  rec.frame_bytes = static_cast<uint32_t>(r.frame.size());
  rec.verdict = r.verdict;
  rec.frame = std::move(r.frame);
  if (o.events.size() >= options_.max_output_events) push_output();
}

void Engine::decide(DecisionBatch& batch) {
  const uint64_t now = log_store::wall_ms();
  for (const Decision& d : batch.decisions) decide_one(d, batch, now);
}

void Engine::decide_one(const Decision& d, DecisionBatch& batch, uint64_t now) {
  const SynthFrame* frame =
      d.frame >= 0 && static_cast<size_t>(d.frame) < batch.frames.size() ? &batch.frames[static_cast<size_t>(d.frame)] : nullptr;
  if (d.action == Action::emit) {
    if (frame == nullptr) return bump(counters.bad_decisions);
    return submit_synth(*frame, kEmitTag, nullptr, now);
  }
  Entry* e = table_.find(d.id);
  if (e == nullptr || e->state != EntryState::undecided) return bump(counters.bad_decisions);
  switch (d.action) {
    case Action::accept:
      if (!e->frame) {  // an out-of-order frame kept no bytes
        bump(counters.bad_decisions);
        release(d.id);
        break;
      }
      e->state = EntryState::writing;
      to_log_.push_back(SubmitEvent{e->frame, patch_hint(e->seq_location), std::string(e->did), e->time_ms, d.id});
      bump(counters.accepted);
      break;
    case Action::drop:
      bump(counters.dropped);
      release(d.id);
      break;
    case Action::retry:
      if (!e->frame) {  // an out-of-order frame kept no bytes: nothing to validate
        bump(counters.bad_decisions);
        break;
      }
      e->state = EntryState::validating;
      bump(counters.retried);
      validate(d.id);
      break;
    case Action::replace:
      if (frame == nullptr) return bump(counters.bad_decisions);
      submit_synth(*frame, d.id, e, now);
      break;
    case Action::emit: break;
  }
}

// replace: the upstream frame is released now, the entry stays (counted against its host)
// until the relay-built frame is written under the event's id.
void Engine::submit_synth(const SynthFrame& f, uint64_t tag, Entry* replaced, uint64_t now) {
  SynthError err;
  firehose::SeqLocation loc;
  BytesRef bytes = synth_.encode(f, &loc, &err);
  if (!bytes) {
    bump(counters.synth_errors);
    RL_LOG_ERROR("relay", "cannot build the relay's #%s frame for %s: %s", f.kind == SynthFrame::Kind::account ? "account" : "identity",
                 f.did.c_str(), name(err));
    if (replaced != nullptr) release(tag);
    return;
  }
  if (replaced != nullptr) {
    replaced->frame = bytes;
    replaced->synth_did = f.did;
    replaced->did = replaced->synth_did;
    replaced->state = EntryState::writing;
    bump(counters.replaced);
  } else {
    bump(counters.emitted);
  }
  to_log_.push_back(SubmitEvent{std::move(bytes), patch_hint(loc), f.did, replaced != nullptr ? replaced->time_ms : now, tag});
}

void Engine::flush_log() {
  if (to_log_.empty()) return;
  writer_->submit(std::move(to_log_));
  to_log_ = {};
}

void Engine::collect_completions() {
  writer_->take(completions_);
  if (completions_.empty()) return;
  Output& o = out();
  for (Completion& c : completions_) {
    for (log_store::WrittenEvent& w : c.written) {
      publish_.push_back(fanout::PublishFrame{std::move(w.frame), w.seq});
      if (w.tag == kEmitTag) continue;
      o.written_ids.push_back(w.tag);
      o.written_seqs.push_back(w.seq);
      release(w.tag);
    }
    bump(counters.written, c.written.size());
    for (const log_store::RejectedEvent& r : c.rejected) {
      // Not written and not reported: the upstream cursor stays below it, so it comes again
      // after a restart.
      bump(counters.log_rejected);
      if (r.tag != kEmitTag) release(r.tag);
    }
    if (!c.status.ok()) {
      o.failure = c.status;
      RL_LOG_ERROR("relay", "event log refused %zu events: %s", c.rejected.size(), log_store::name(c.status.reason));
    }
    if (c.durable_seq > reported_durable_ || !c.written.empty()) o.notice = true;
    if (c.durable_seq > reported_durable_) reported_durable_ = c.durable_seq;
  }
  o.durable_seq = reported_durable_;
  completions_.clear();
  publish();
}

// Before JS hears of the writes (the notice rides on this round's Output).
void Engine::publish() {
  if (publish_.empty()) return;
  bump(counters.published, publish_.size());
  if (downstream_) {
    downstream_->publish(publish_);
  } else if (published_->push(publish_)) {
    out().published = true;
  }
  publish_.clear();
}

void Engine::release(uint64_t id) {
  Entry* e = table_.find(id);
  if (e == nullptr) return;
  flow_.remove(e->host, e->counted_bytes);
  table_.release(id);
}

void Engine::report(bool closed) {
  flow_.take_changes(pause_changes_, host_changes_);
  if (!pause_changes_.empty() || !host_changes_.empty()) {
    Output& o = out();
    for (const PauseChange& p : pause_changes_) {
      bump(counters.pauses, p.pause ? 1 : 0);
      if (!downstream_ || !downstream_->pause_upstream(p.conn, p.pause)) o.pauses.push_back({p.conn, p.pause});
    }
    for (const HostCount& h : host_changes_) o.hosts.push_back({h.host, h.pending, h.paused});
    pause_changes_.clear();
    host_changes_.clear();
  }
  counters.pending.store(table_.size(), std::memory_order_relaxed);
  counters.pending_bytes.store(flow_.total_bytes(), std::memory_order_relaxed);
  counters.backlog.store(backlog_.size(), std::memory_order_relaxed);
  counters.paused_hosts.store(flow_.paused_hosts(), std::memory_order_relaxed);
  if (closed) out().closed = true;
  push_output();
}

void Engine::push_output() {
  if (!cur_) return;
  bump(counters.outputs);
  bool was_empty = output_->push(std::move(*cur_));
  cur_.reset();
  if (was_empty && notify_) notify_();
}

void Engine::finish() {
  // Nothing new is validated; what is being validated stays undecided and is let go.
  validator_->shutdown(verify::StopMode::cancel);
  collect_results();
  backlog_.clear();
  flush_log();
  // Appends everything submitted, fsyncs, joins the log thread.
  writer_->stop();
  collect_completions();
  writer_.reset();
  log_store::Status st = log_->close();
  if (!st.ok()) {
    RL_LOG_ERROR("relay", "closing the event log failed: %s", log_store::name(st.reason));
    out().failure = st;
  }
  if (log_->durable_seq() > reported_durable_) {
    reported_durable_ = log_->durable_seq();
    out().notice = true;
    out().durable_seq = reported_durable_;
  }
  report(true);
  downstream_.reset();
}

}  // namespace ringlay::relay
