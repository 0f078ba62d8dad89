// SPDX-License-Identifier: MIT
// EventLogCore: the event log (log/event_log.h) for JS: open, inspect, configure, take down,
// run maintenance, and (for tests, tools and benches) append and read. One crossing per
// batch: append takes one Buffer of concatenated frames plus lengths; read returns one
// Buffer (the pread chunk, not copied) plus per-frame seqs/offsets/sizes. In the relay the
// hot path stays native (log_writer.h appends, the fan-out reads); JS only drives this.
//
//   const core = new EventLogCore()
//   core.open({ dataDir, initialSeq?, segmentMaxBytes?, segmentMaxRecords?, syncIntervalMs?,
//               syncBytes?, leaseBlock?, replayWindowMs?, maxDiskBytes?, bootId? })
//     → { ok, reason?, errno?, recovery? }
//   core.append(frames: Buffer, lengths: Uint32Array, dids: string[], timeMs: number,
//               firstSeq?: number) → { ok, reason?, firstSeq, lastSeq }   (JS thread = writer)
//   core.read(afterSeq, maxBytes?) → { state: 'frames'|'at_head'|'error', reason?, gap,
//               position, data: Buffer, seqs: Float64Array, times: Float64Array,
//               offsets: Uint32Array, sizes: Uint32Array }
//   core.sync(), core.syncIfDue(), core.close() → { ok, reason? }
//   core.nextSeq(), writtenSeq(), durableSeq() → number; core.oldest() → { seq, timeMs }
//   core.checkCursor(cursor) → 'replay' | 'outdated' | 'future'   (protocol.md §1.6)
//   core.takedown(did), reverseTakedown(did) → { ok, reason?, changed }  (fdatasync: ~ms)
//   core.isTakenDown(did) → boolean; core.takedowns() → string[]
//   core.configure({ replayWindowMs?, maxDiskBytes?, syncIntervalMs?, syncBytes? })
//   core.stats() → counters; core.recovery() → the open's recovery report
//   core.maintain(nowMs?) → Promise<{ ok, reason?, segmentsDeleted, bytesDeleted,
//               segmentsScrubbed, recordsScrubbed }>   (on the libuv pool)
// Seqs are numbers: they stay below 2^53 (protocol.md §1.7).
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "log/event_log.h"
#include "log/file_io.h"
#include "log/reader.h"
#include "napi/event_log.h"
#include "napi/registry.h"

namespace ringlay::napi {

namespace ls = ringlay::log_store;

double num_option(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

uint64_t u64_option(const Napi::Object& o, const char* key, uint64_t fallback) {
  double d = num_option(o, key, static_cast<double>(fallback));
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

Napi::Number number(Napi::Env env, uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

Napi::Object status_object(Napi::Env env, const ls::Status& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", st.ok());
  if (!st.ok()) {
    o.Set("reason", ls::name(st.reason));
    if (st.err != 0) o.Set("errno", st.err);
  }
  return o;
}

Napi::Object recovery_object(Napi::Env env, const ls::RecoveryReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("segments", number(env, r.segments));
  o.Set("lastSeq", number(env, r.last_seq));
  o.Set("nextSeq", number(env, r.next_seq));
  o.Set("tornBytesCut", number(env, r.torn_bytes_cut));
  o.Set("tornRecordsCut", number(env, r.torn_records_cut));
  o.Set("damagedRecords", number(env, r.damaged_records));
  o.Set("corruptBytes", number(env, r.corrupt_bytes));
  o.Set("indexRebuilds", number(env, r.index_rebuilds));
  o.Set("badSegments", number(env, r.bad_segments));
  o.Set("removedEmpty", number(env, r.removed_empty));
  o.Set("leaseFound", r.lease_found);
  o.Set("sameBoot", r.same_boot);
  o.Set("cleanShutdown", r.clean_shutdown);
  o.Set("leaseEndFound", number(env, r.lease_end_found));
  return o;
}

ls::Options log_options(const Napi::Object& o) {
  ls::Options opts;
  opts.data_dir = o.Get("dataDir").As<Napi::String>().Utf8Value();
  opts.initial_seq = u64_option(o, "initialSeq", opts.initial_seq);
  opts.segment_max_bytes = u64_option(o, "segmentMaxBytes", opts.segment_max_bytes);
  opts.segment_max_records = u64_option(o, "segmentMaxRecords", opts.segment_max_records);
  opts.segment_max_age_ms = u64_option(o, "segmentMaxAgeMs", opts.segment_max_age_ms);
  opts.sync_interval_ms = u64_option(o, "syncIntervalMs", opts.sync_interval_ms);
  opts.sync_bytes = u64_option(o, "syncBytes", opts.sync_bytes);
  opts.lease_block = u64_option(o, "leaseBlock", opts.lease_block);
  opts.replay_window_ms = u64_option(o, "replayWindowMs", opts.replay_window_ms);
  opts.max_disk_bytes = u64_option(o, "maxDiskBytes", opts.max_disk_bytes);
  Napi::Value boot = o.Get("bootId");
  if (boot.IsString()) opts.boot_id = boot.As<Napi::String>().Utf8Value();
  return opts;
}

}  // namespace ringlay::napi

namespace {

using namespace ringlay::napi;

namespace ls = ringlay::log_store;
using ringlay::SharedBytes;

void release_bytes(Napi::Env, uint8_t*, SharedBytes* bytes) { bytes->unref(); }

class MaintainWorker : public Napi::AsyncWorker {
 public:
  MaintainWorker(Napi::Env env, std::shared_ptr<ls::EventLog> log, uint64_t now_ms)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), log_(std::move(log)),
        now_ms_(now_ms) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { result_ = log_->run_maintenance(now_ms_); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = status_object(env, result_.status);
    o.Set("segmentsDeleted", number(env, result_.segments_deleted));
    o.Set("bytesDeleted", number(env, result_.bytes_deleted));
    o.Set("segmentsScrubbed", number(env, result_.segments_scrubbed));
    o.Set("recordsScrubbed", number(env, result_.records_scrubbed));
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ls::EventLog> log_;  // kept alive while the worker runs
  uint64_t now_ms_;
  ls::MaintenanceResult result_;
};

class EventLogCore : public Napi::ObjectWrap<EventLogCore> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "EventLogCore",
        {InstanceMethod<&EventLogCore::open>("open"), InstanceMethod<&EventLogCore::close>("close"),
         InstanceMethod<&EventLogCore::append>("append"), InstanceMethod<&EventLogCore::read>("read"),
         InstanceMethod<&EventLogCore::sync>("sync"), InstanceMethod<&EventLogCore::sync_if_due>("syncIfDue"),
         InstanceMethod<&EventLogCore::next_seq>("nextSeq"),
         InstanceMethod<&EventLogCore::written_seq>("writtenSeq"),
         InstanceMethod<&EventLogCore::durable_seq>("durableSeq"),
         InstanceMethod<&EventLogCore::oldest>("oldest"),
         InstanceMethod<&EventLogCore::check_cursor>("checkCursor"),
         InstanceMethod<&EventLogCore::takedown>("takedown"),
         InstanceMethod<&EventLogCore::reverse_takedown>("reverseTakedown"),
         InstanceMethod<&EventLogCore::is_taken_down>("isTakenDown"),
         InstanceMethod<&EventLogCore::takedowns>("takedowns"),
         InstanceMethod<&EventLogCore::configure>("configure"),
         InstanceMethod<&EventLogCore::stats>("stats"),
         InstanceMethod<&EventLogCore::recovery>("recovery"),
         InstanceMethod<&EventLogCore::maintain>("maintain")});
  }

  explicit EventLogCore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EventLogCore>(info) {
    info.This().As<Napi::Object>().TypeTag(&kEventLogTag);
  }
  // Marks EventLogCore objects for ringlay::napi::unwrap_event_log.
  static constexpr napi_type_tag kEventLogTag = {0x2b8e61d04c9f37a5ull, 0xd1a7305e9c4b82f6ull};
  std::shared_ptr<ls::EventLog> shared_log() const { return log_; }

 private:
  Napi::Value closed(Napi::Env env) { return status_object(env, ls::Status::of(ls::Reason::closed)); }

  Napi::Value open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ != nullptr || info.Length() < 1 || !info[0].IsObject()) {
      return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    }
    Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("dataDir").IsString()) return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    ls::Options opts = log_options(o);
    ls::Status st;
    ls::RecoveryReport rep;
    std::unique_ptr<ls::EventLog> log = ls::EventLog::open(opts, &st, &rep);
    Napi::Object out = status_object(env, st);
    if (log != nullptr) {
      log_ = std::shared_ptr<ls::EventLog>(std::move(log));
      out.Set("recovery", recovery_object(env, rep));
    }
    return out;
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    if (log_ == nullptr) return status_object(info.Env(), {});
    ls::Status st = log_->close();
    log_.reset();  // a maintenance run in flight keeps its own reference
    return status_object(info.Env(), st);
  }

  // append(frames, lengths, dids, timeMs, firstSeq?)
  Napi::Value append(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ == nullptr) return closed(env);
    if (info.Length() < 4 || !info[0].IsBuffer() || !info[1].IsTypedArray() || !info[2].IsArray() ||
        !info[3].IsNumber()) {
      return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    }
    auto frames = info[0].As<Napi::Buffer<uint8_t>>();
    auto lengths = info[1].As<Napi::Uint32Array>();
    auto dids_arr = info[2].As<Napi::Array>();
    uint64_t time_ms = static_cast<uint64_t>(info[3].As<Napi::Number>().DoubleValue());
    uint64_t first = info.Length() > 4 && info[4].IsNumber()
                         ? static_cast<uint64_t>(info[4].As<Napi::Number>().DoubleValue())
                         : log_->next_seq();
    size_t n = lengths.ElementLength();
    if (dids_arr.Length() != n) return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    std::vector<std::string> dids(n);
    std::vector<ls::AppendRecord> recs(n);
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
      Napi::Value d = dids_arr[static_cast<uint32_t>(i)];
      if (!d.IsString() || off + lengths[i] > frames.Length()) {
        return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
      }
      dids[i] = d.As<Napi::String>().Utf8Value();
      recs[i] = {first + i, time_ms, dids[i], {frames.Data() + off, lengths[i]}};
      off += lengths[i];
    }
    Napi::Object out = status_object(env, log_->append(recs));
    out.Set("firstSeq", number(env, first));
    out.Set("lastSeq", number(env, n > 0 ? first + n - 1 : first - 1));
    return out;
  }

  // read(afterSeq, maxBytes?)
  Napi::Value read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ == nullptr) return closed(env);
    double after_d = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    uint64_t after = after_d > 0 ? std::min<uint64_t>(static_cast<uint64_t>(after_d), ls::kMaxSeq) : 0;
    size_t max_bytes = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    auto reader = log_->open_reader(after);
    ls::ReplayBatch batch;
    ls::ReadResult r = reader->read(batch, max_bytes);
    Napi::Object out = r.state == ls::ReadState::error ? status_object(env, r.status) : status_object(env, {});
    out.Set("state", r.state == ls::ReadState::frames ? "frames" : r.state == ls::ReadState::at_head ? "at_head" : "error");
    out.Set("gap", r.gap);
    out.Set("position", number(env, reader->position()));
    size_t n = batch.frames.size();
    auto seqs = Napi::Float64Array::New(env, n);
    auto times = Napi::Float64Array::New(env, n);
    auto offsets = Napi::Uint32Array::New(env, n);
    auto sizes = Napi::Uint32Array::New(env, n);
    for (size_t i = 0; i < n; ++i) {
      seqs[i] = static_cast<double>(batch.frames[i].seq);
      times[i] = static_cast<double>(batch.frames[i].time_ms);
      offsets[i] = batch.frames[i].offset;
      sizes[i] = batch.frames[i].size;
    }
    if (n > 0) {
      // The chunk itself, not a copy: JS's Buffer holds a reference until it is collected.
      SharedBytes* b = batch.buffer.release();
      out.Set("data", Napi::Buffer<uint8_t>::New(env, const_cast<uint8_t*>(b->data()), b->size(), release_bytes, b));
    } else {
      out.Set("data", Napi::Buffer<uint8_t>::New(env, 0));
    }
    out.Set("seqs", seqs);
    out.Set("times", times);
    out.Set("offsets", offsets);
    out.Set("sizes", sizes);
    return out;
  }

  Napi::Value sync(const Napi::CallbackInfo& info) {
    if (log_ == nullptr) return closed(info.Env());
    return status_object(info.Env(), log_->sync());
  }

  Napi::Value sync_if_due(const Napi::CallbackInfo& info) {
    if (log_ == nullptr) return closed(info.Env());
    ls::Status st;
    if (log_->sync_due(ls::monotonic_ns())) st = log_->sync();
    return status_object(info.Env(), st);
  }

  Napi::Value next_seq(const Napi::CallbackInfo& info) {
    return number(info.Env(), log_ != nullptr ? log_->next_seq() : 0);
  }
  Napi::Value written_seq(const Napi::CallbackInfo& info) {
    return number(info.Env(), log_ != nullptr ? log_->written_seq() : 0);
  }
  Napi::Value durable_seq(const Napi::CallbackInfo& info) {
    return number(info.Env(), log_ != nullptr ? log_->durable_seq() : 0);
  }

  Napi::Value oldest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t t = 0, seq = log_ != nullptr ? log_->oldest_seq(&t) : 0;
    Napi::Object o = Napi::Object::New(env);
    o.Set("seq", number(env, seq));
    o.Set("timeMs", number(env, t));
    return o;
  }

  Napi::Value check_cursor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ == nullptr || info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
    double c = info[0].As<Napi::Number>().DoubleValue();
    uint64_t cursor = c > 0 ? std::min<uint64_t>(static_cast<uint64_t>(c), ls::kMaxSeq) : 0;
    return Napi::String::New(env, ls::name(log_->check_cursor(cursor)));
  }

  Napi::Value change_takedown(const Napi::CallbackInfo& info, bool add) {
    Napi::Env env = info.Env();
    if (log_ == nullptr) return closed(env);
    if (info.Length() < 1 || !info[0].IsString()) return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    std::string did = info[0].As<Napi::String>().Utf8Value();
    bool changed = false;
    ls::Status st = add ? log_->takedown(did, &changed) : log_->reverse_takedown(did, &changed);
    Napi::Object out = status_object(env, st);
    out.Set("changed", changed);
    return out;
  }
  Napi::Value takedown(const Napi::CallbackInfo& info) { return change_takedown(info, true); }
  Napi::Value reverse_takedown(const Napi::CallbackInfo& info) { return change_takedown(info, false); }

  Napi::Value is_taken_down(const Napi::CallbackInfo& info) {
    if (log_ == nullptr || info.Length() < 1 || !info[0].IsString()) return Napi::Boolean::New(info.Env(), false);
    return Napi::Boolean::New(info.Env(), log_->is_taken_down(info[0].As<Napi::String>().Utf8Value()));
  }

  Napi::Value takedowns(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<std::string> list;
    if (log_ != nullptr) list = log_->takedown_list();
    Napi::Array a = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) a.Set(static_cast<uint32_t>(i), list[i]);
    return a;
  }

  Napi::Value configure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ == nullptr) return closed(env);
    if (info.Length() < 1 || !info[0].IsObject()) return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
    Napi::Object o = info[0].As<Napi::Object>();
    log_->set_retention(u64_option(o, "replayWindowMs", log_->replay_window_ms()),
                        u64_option(o, "maxDiskBytes", log_->max_disk_bytes()));
    log_->set_sync_policy(u64_option(o, "syncIntervalMs", log_->sync_interval_ms()),
                          u64_option(o, "syncBytes", log_->sync_bytes()));
    return status_object(env, {});
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (log_ == nullptr) return o;
    ls::Counters c = log_->counters();
    const std::pair<const char*, uint64_t> fields[] = {
        {"recordsAppended", c.records_appended}, {"bytesAppended", c.bytes_appended},
        {"batchesAppended", c.batches_appended}, {"appendErrors", c.append_errors},
        {"fsyncs", c.fsyncs}, {"leaseRenewals", c.lease_renewals}, {"segments", c.segments},
        {"bytesOnDisk", c.bytes_on_disk}, {"oldestSeq", c.oldest_seq}, {"oldestTimeMs", c.oldest_time_ms},
        {"writtenSeq", c.written_seq}, {"durableSeq", c.durable_seq}, {"nextSeq", c.next_seq},
        {"tornTailTruncations", c.torn_tail_truncations}, {"tornBytesCut", c.torn_bytes_cut},
        {"segmentsDeleted", c.segments_deleted}, {"bytesDeleted", c.bytes_deleted},
        {"takedowns", c.takedowns}, {"takedownRecordsScrubbed", c.takedown_records_scrubbed},
        {"takedownFramesSkipped", c.takedown_frames_skipped},
        {"damagedFramesSkipped", c.damaged_frames_skipped}, {"replayFrames", c.replay_frames},
        {"replayBytes", c.replay_bytes}};
    for (const auto& [k, v] : fields) o.Set(k, number(env, v));
    o.Set("fsyncSecondsTotal", Napi::Number::New(env, static_cast<double>(c.fsync_ns_total) / 1e9));
    o.Set("fsyncSecondsMax", Napi::Number::New(env, static_cast<double>(c.fsync_ns_max) / 1e9));
    o.Set("failed", c.failed);
    return o;
  }

  Napi::Value recovery(const Napi::CallbackInfo& info) {
    if (log_ == nullptr) return info.Env().Null();
    return recovery_object(info.Env(), log_->recovery());
  }

  Napi::Value maintain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (log_ == nullptr) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(closed(env));
      return d.Promise();
    }
    uint64_t now = info.Length() > 0 && info[0].IsNumber()
                       ? static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue())
                       : ls::wall_ms();
    auto* w = new MaintainWorker(env, log_, now);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  std::shared_ptr<ls::EventLog> log_;
};

void export_event_log(Napi::Env env, Napi::Object exports) {
  exports.Set("EventLogCore", EventLogCore::define(env));
}

}  // namespace

namespace ringlay::napi {

std::shared_ptr<log_store::EventLog> unwrap_event_log(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&EventLogCore::kEventLogTag)) return nullptr;
  EventLogCore* core = EventLogCore::Unwrap(obj);
  return core != nullptr ? core->shared_log() : nullptr;
}

}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(event_log, export_event_log);
