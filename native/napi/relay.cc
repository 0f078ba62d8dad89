// SPDX-License-Identifier: MIT
// RelayPipeline: the native relay pipeline (native/relay/relay_core.h) for lib/relay/pipeline.ts.
// One crossing per batch in each direction, never per frame:
//
//   const p = new RelayPipeline(onOutput)
//   p.open({ dataDir, initialSeq?, replayWindowMs?, maxDiskBytes?, syncIntervalMs?, syncBytes?,
//            segmentMaxBytes?, segmentMaxRecords?, segmentMaxAgeMs?, leaseBlock?, bootId?,
//            threads?, capacity?,
//            lenient?, keyCache, hostPendingLimit?, totalPendingBytes?, maxOutputEvents? })
//     → { ok, reason?, errno?, recovery? }
//   p.attachUring(uringTransportNative) → boolean   relay-mode upstreams of that transport
//                                       deliver natively; written frames publish on its ring;
//                                       its consumers replay from this pipeline's log
//   p.ingest(hostId, conn, frames: Buffer[])   frames JS received (uWS); copied once
//   p.connectionClosed(conn)
//   p.decide(nums: Float64Array [action, id, frameIndex]*, frames?: SynthFrame[])
//   p.close()                                  the last onOutput payload has closed: true
//   p.stats() → counters;  p.checkCursor(n) → 'replay'|'outdated'|'future'
//   p.takedown(did), p.reverseTakedown(did) → Promise<{ok, reason?, changed}>  (libuv pool)
//   p.maintain(nowMs?) → Promise<{ok, reason?, segmentsDeleted, ...}>          (libuv pool)
//   p.configure({ replayWindowMs?, maxDiskBytes?, syncIntervalMs?, syncBytes? })
//   relayNames() → { types, verdicts, flags, numStride, strStride }
//
//   onOutput({ n, nums, strs, writtenIds, writtenSeqs, notice, durableSeq, hosts, pauses,
//              published, closed, failure? })   (relay_js.cc; decoded by pipeline.ts)
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "log/file_io.h"
#include "napi/crypto.h"
#include "napi/event_log.h"
#include "napi/registry.h"
#include "napi/relay.h"
#include "napi/transport.h"
#include "napi/transport_bridge.h"
#include "relay/uring_link.h"

namespace ringlay::napi {

namespace {

namespace ls = ringlay::log_store;

constexpr napi_type_tag kRelayTag = {0x2c7e91d04b5a3f86ull, 0xa4d80f6e19b3c257ull};

ls::Options relay_log_options(const Napi::Object& o) {
  ls::Options opts = log_options(o);
  opts.initial_seq = std::max<uint64_t>(1, opts.initial_seq);
  // Retention deletes whole segments: they live about an eighth of the window (at most an
  // hour), so frames leave replay at most that late.
  uint64_t age = opts.replay_window_ms == 0 ? 0 : std::clamp<uint64_t>(opts.replay_window_ms / 8, 100, 3600 * 1000);
  opts.segment_max_age_ms = u64_option(o, "segmentMaxAgeMs", age);
  return opts;
}

relay::RelayOptions relay_options(const Napi::Object& o) {
  relay::RelayOptions r;
  r.log = relay_log_options(o);
  r.validator.pool.threads = static_cast<unsigned>(num_option(o, "threads", 0));
  r.validator.pool.capacity = static_cast<size_t>(num_option(o, "capacity", static_cast<double>(r.validator.pool.capacity)));
  r.validator.pool.name = "rl-relay-v";
  r.validator.validate.lenient = o.Get("lenient").ToBoolean();
  r.host_pending_limit = static_cast<uint32_t>(num_option(o, "hostPendingLimit", r.host_pending_limit));
  r.total_pending_bytes = u64_option(o, "totalPendingBytes", r.total_pending_bytes);
  r.max_output_events = static_cast<size_t>(num_option(o, "maxOutputEvents", static_cast<double>(r.max_output_events)));
  return r;
}

// Log work that may fsync or scan files: on the libuv pool, never the JS thread.
class LogWorker : public Napi::AsyncWorker {
 public:
  enum class Job : uint8_t { takedown, reverse_takedown, maintain };
  LogWorker(Napi::Env env, std::shared_ptr<ls::EventLog> log, Job job, std::string did, uint64_t now_ms)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), log_(std::move(log)), job_(job),
        did_(std::move(did)), now_ms_(now_ms) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    switch (job_) {
      case Job::takedown: status_ = log_->takedown(did_, &changed_); break;
      case Job::reverse_takedown: status_ = log_->reverse_takedown(did_, &changed_); break;
      case Job::maintain:
        maint_ = log_->run_maintenance(now_ms_);
        status_ = maint_.status;
        break;
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = status_object(env, status_);
    if (job_ == Job::maintain) {
      o.Set("segmentsDeleted", number(env, maint_.segments_deleted));
      o.Set("bytesDeleted", number(env, maint_.bytes_deleted));
      o.Set("segmentsScrubbed", number(env, maint_.segments_scrubbed));
      o.Set("recordsScrubbed", number(env, maint_.records_scrubbed));
    } else {
      o.Set("changed", changed_);
    }
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ls::EventLog> log_;
  Job job_;
  std::string did_;
  uint64_t now_ms_;
  ls::Status status_;
  bool changed_ = false;
  ls::MaintenanceResult maint_;
};

class RelayPipelineWrap : public Napi::ObjectWrap<RelayPipelineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RelayPipeline",
                       {InstanceMethod<&RelayPipelineWrap::open>("open"),
                        InstanceMethod<&RelayPipelineWrap::attach_uring>("attachUring"),
                        InstanceMethod<&RelayPipelineWrap::ingest>("ingest"),
                        InstanceMethod<&RelayPipelineWrap::connection_closed>("connectionClosed"),
                        InstanceMethod<&RelayPipelineWrap::decide>("decide"),
                        InstanceMethod<&RelayPipelineWrap::close>("close"),
                        InstanceMethod<&RelayPipelineWrap::stats>("stats"),
                        InstanceMethod<&RelayPipelineWrap::check_cursor>("checkCursor"),
                        InstanceMethod<&RelayPipelineWrap::takedown>("takedown"),
                        InstanceMethod<&RelayPipelineWrap::reverse_takedown>("reverseTakedown"),
                        InstanceMethod<&RelayPipelineWrap::maintain>("maintain"),
                        InstanceMethod<&RelayPipelineWrap::configure>("configure")});
  }

  explicit RelayPipelineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RelayPipelineWrap>(info) {
    env_ = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env_, "new RelayPipeline(onOutput)").ThrowAsJavaScriptException();
      return;
    }
    on_output_ = Napi::Persistent(info[0].As<Napi::Function>());
  }

  ~RelayPipelineWrap() override { shut_down_now(); }

  std::shared_ptr<relay::RelayCore> core() const { return finished_ ? nullptr : core_; }

 private:
  static void drain(Napi::Env env, void* self) { static_cast<RelayPipelineWrap*>(self)->deliver(env); }
  static void cleanup(void* self) { static_cast<RelayPipelineWrap*>(self)->shut_down_now(); }

  Napi::Value open(const Napi::CallbackInfo& info);
  void deliver(Napi::Env env);
  void finish();
  void shut_down_now();
  bool running() const { return core_ != nullptr && !finished_; }

  Napi::Value attach_uring(const Napi::CallbackInfo& info) {
    std::shared_ptr<io::CommandPort> port = uring_command_port(info[0]);
    if (!running() || port == nullptr) return Napi::Boolean::New(info.Env(), false);
    auto link = std::make_shared<relay::UringLink>(core_->inbox(), port);
    io::Command c;
    c.kind = io::CommandKind::attach_relay;
    c.relay = link;
    port->post(std::move(c));
    // ?cursor= and disk catch-up read this log on that transport (native/relay/replay_reader.h).
    io::Command replay;
    replay.kind = io::CommandKind::replay_log;
    replay.log = core_->log();
    port->post(std::move(replay));
    core_->attach(link);
    return Napi::Boolean::New(info.Env(), true);
  }

  Napi::Value ingest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray()) {
      Napi::TypeError::New(env, "ingest(hostId, conn, frames: Buffer[])").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!running()) return env.Undefined();
    Napi::Array list = info[2].As<Napi::Array>();
    std::vector<BytesRef> frames;
    frames.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value v = list.Get(i);
      if (!v.IsTypedArray()) continue;
      Napi::Uint8Array b = v.As<Napi::Uint8Array>();
      frames.push_back(BytesRef::copy_of(b.Data(), b.ByteLength()));
    }
    core_->ingest(info[0].As<Napi::Number>().Uint32Value(), static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()),
                  std::move(frames));
    return env.Undefined();
  }

  Napi::Value connection_closed(const Napi::CallbackInfo& info) {
    if (running() && info.Length() > 0 && info[0].IsNumber()) {
      core_->connection_closed(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
    }
    return info.Env().Undefined();
  }

  Napi::Value decide(const Napi::CallbackInfo& info) {
    relay::DecisionBatch batch;
    if (!parse_decisions(info.Env(), info, &batch)) return info.Env().Undefined();
    if (running()) core_->decide(std::move(batch));
    return info.Env().Undefined();
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    if (running()) core_->close();
    return Napi::Boolean::New(info.Env(), running());
  }

  Napi::Value stats(const Napi::CallbackInfo& info);

  Napi::Value check_cursor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!running() || info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
    double c = info[0].As<Napi::Number>().DoubleValue();
    uint64_t cursor = c > 0 ? std::min<uint64_t>(static_cast<uint64_t>(c), ls::kMaxSeq) : 0;
    return Napi::String::New(env, ls::name(core_->log()->check_cursor(cursor)));
  }

  Napi::Value log_job(const Napi::CallbackInfo& info, LogWorker::Job job) {
    Napi::Env env = info.Env();
    std::string did = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (!running() || (job != LogWorker::Job::maintain && did.empty())) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(status_object(env, ls::Status::of(running() ? ls::Reason::invalid_argument : ls::Reason::closed)));
      return d.Promise();
    }
    uint64_t now = job == LogWorker::Job::maintain && info.Length() > 0 && info[0].IsNumber()
                       ? static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue())
                       : ls::wall_ms();
    auto* w = new LogWorker(env, core_->log(), job, std::move(did), now);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  Napi::Value takedown(const Napi::CallbackInfo& info) { return log_job(info, LogWorker::Job::takedown); }
  Napi::Value reverse_takedown(const Napi::CallbackInfo& info) { return log_job(info, LogWorker::Job::reverse_takedown); }
  Napi::Value maintain(const Napi::CallbackInfo& info) { return log_job(info, LogWorker::Job::maintain); }

  Napi::Value configure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!running() || info.Length() < 1 || !info[0].IsObject()) return Napi::Boolean::New(env, false);
    Napi::Object o = info[0].As<Napi::Object>();
    ls::EventLog& log = *core_->log();
    log.set_retention(u64_option(o, "replayWindowMs", log.replay_window_ms()), u64_option(o, "maxDiskBytes", log.max_disk_bytes()));
    log.set_sync_policy(u64_option(o, "syncIntervalMs", log.sync_interval_ms()), u64_option(o, "syncBytes", log.sync_bytes()));
    return Napi::Boolean::New(env, true);
  }

  napi_env env_ = nullptr;
  Napi::FunctionReference on_output_;
  std::unique_ptr<Napi::AsyncContext> async_;
  std::unique_ptr<Bridge> bridge_;
  std::shared_ptr<relay::RelayCore> core_;
  std::vector<relay::Output> outputs_;
  bool finished_ = false;
  bool cleanup_hooked_ = false;
};

Napi::Value RelayPipelineWrap::open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_ != nullptr || finished_ || info.Length() < 1 || !info[0].IsObject() ||
      !info[0].As<Napi::Object>().Get("dataDir").IsString()) {
    return status_object(env, ls::Status::of(ls::Reason::invalid_argument));
  }
  Napi::Object o = info[0].As<Napi::Object>();
  relay::RelayOptions options = relay_options(o);
  std::shared_ptr<verify::KeyCache> keys;
  Napi::Value kc = o.Get("keyCache");
  if (!kc.IsUndefined() && !kc.IsNull()) {
    keys = unwrap_key_cache(kc);
    if (keys == nullptr) {
      Napi::TypeError::New(env, "keyCache must be a KeyCache").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  } else {
    keys = std::make_shared<verify::KeyCache>();
  }
  std::string error;
  bridge_ = make_tsfn_bridge(env, &RelayPipelineWrap::drain, this, &error);
  if (!bridge_) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Bridge* bridge = bridge_.get();
  ls::Status st;
  ls::RecoveryReport rep;
  core_ = relay::RelayCore::open(options, std::move(keys), [bridge] { bridge->notify(); }, &st, &rep);
  Napi::Object out = status_object(env, st);
  if (core_ == nullptr) {
    bridge_->close();
    bridge_.reset();
    return out;
  }
  out.Set("recovery", recovery_object(env, rep));
  async_ = std::make_unique<Napi::AsyncContext>(env, "ringlay.relay");
  Value().TypeTag(&kRelayTag);
  napi_add_env_cleanup_hook(env, &RelayPipelineWrap::cleanup, this);
  cleanup_hooked_ = true;
  Ref();  // alive (and the process too, through the TSFN) until closed
  return out;
}

void RelayPipelineWrap::deliver(Napi::Env env) {
  if (!running()) return;
  core_->take_output(outputs_);
  if (outputs_.empty()) return;
  Napi::HandleScope scope(env);
  Napi::Object payload = output_payload(env, outputs_);
  bool closed = payload.Get("closed").ToBoolean();
  outputs_.clear();
  if (closed) finish();
  on_output_.MakeCallback(Value(), {payload}, *async_);
}

// The relay thread posted its last Output and is leaving: join it (at once), stop the TSFN.
void RelayPipelineWrap::finish() {
  if (finished_) return;
  finished_ = true;
  core_->join();
  bridge_->close();
  Unref();
}

// Finalizer or process exit without close(): close synchronously (the log is still fsync'd).
void RelayPipelineWrap::shut_down_now() {
  if (cleanup_hooked_) {
    napi_remove_env_cleanup_hook(env_, &RelayPipelineWrap::cleanup, this);
    cleanup_hooked_ = false;
  }
  if (core_ != nullptr && !finished_) {
    finished_ = true;
    core_->close();
    core_->join();
    if (bridge_) bridge_->close();
  }
}

Napi::Value RelayPipelineWrap::stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  if (core_ == nullptr) return o;
  relay::Stats s = core_->stats();
  const std::pair<const char*, uint64_t> fields[] = {
      {"ingested", s.ingested}, {"outOfOrder", s.out_of_order}, {"validated", s.validated},
      {"rejectedVerdicts", s.rejected_verdicts}, {"accepted", s.accepted}, {"dropped", s.dropped},
      {"retried", s.retried}, {"replaced", s.replaced}, {"emitted", s.emitted}, {"written", s.written},
      {"logRejected", s.log_rejected}, {"published", s.published}, {"badDecisions", s.bad_decisions},
      {"synthErrors", s.synth_errors}, {"pending", s.pending}, {"pendingBytes", s.pending_bytes},
      {"backlog", s.backlog}, {"pausedHosts", s.paused_hosts}, {"pauses", s.pauses}, {"outputs", s.outputs},
      {"ingestAfterClose", s.ingest_after_close}, {"writtenSeq", s.written_seq}, {"durableSeq", s.durable_seq}};
  for (const auto& [k, v] : fields) o.Set(k, number(env, v));
  for (size_t r = 0; r < s.verdicts.size(); ++r) {
    if (s.verdicts[r] != 0) o.Set(std::string("verdict_") + firehose::name(static_cast<firehose::Reason>(r)), number(env, s.verdicts[r]));
  }
  ls::Counters c = core_->log()->counters();
  const std::pair<const char*, uint64_t> log_fields[] = {
      {"logRecordsAppended", c.records_appended}, {"logBytesAppended", c.bytes_appended},
      {"logBatchesAppended", c.batches_appended}, {"logAppendErrors", c.append_errors}, {"logFsyncs", c.fsyncs},
      {"logSegments", c.segments}, {"logBytesOnDisk", c.bytes_on_disk}, {"logOldestSeq", c.oldest_seq},
      {"logNextSeq", c.next_seq}, {"logSegmentsDeleted", c.segments_deleted},
      {"logTakedowns", c.takedowns}, {"logTakedownRecordsScrubbed", c.takedown_records_scrubbed},
      {"logReplayFrames", c.replay_frames}};
  for (const auto& [k, v] : log_fields) o.Set(k, number(env, v));
  o.Set("logFsyncSecondsMax", Napi::Number::New(env, static_cast<double>(c.fsync_ns_max) / 1e9));
  o.Set("logFailed", number(env, c.failed ? 1 : 0));
  o.Set("publishDropped", number(env, core_->publish_queue()->dropped()));
  return o;
}

Napi::Value relay_names(const Napi::CallbackInfo& info) { return payload_names(info.Env()); }

void export_relay(Napi::Env env, Napi::Object exports) {
  exports.Set("RelayPipeline", RelayPipelineWrap::define(env));
  exports.Set("relayNames", Napi::Function::New(env, relay_names, "relayNames"));
}

}  // namespace

std::shared_ptr<relay::RelayCore> unwrap_relay(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kRelayTag)) return nullptr;
  RelayPipelineWrap* w = RelayPipelineWrap::Unwrap(obj);
  return w != nullptr ? w->core() : nullptr;
}

}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(relay, ringlay::napi::export_relay);
