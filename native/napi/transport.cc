// SPDX-License-Identifier: MIT
// The io_uring transport for lib/transport/uring.ts:
//
//   probeUring() → { ok, errno?, code?, message, mode? }
//   new UringTransport(options, onEvents)   throws { code, errno, message } if the ring
//                                           cannot be set up (RINGLAY_URING_FAIL honoured)
//     options: { limits, caPem, serverHeader, userAgent, bridge: 'tsfn'|'uvpoll',
//                ringEntries?, bufferCount?, bufferSize?, tickMs? }
//     onEvents(events: object[])            one call per batch; kinds in kEventNames below
//   .listen(id, host, port)  .respond(conn, seq, status, headers[], body?)
//   .broadcast(frames: Buffer[])  .connect(id, spec)  .closeUpstream(id, code, reason)
//   .stop(immediate)  .stats(into: Float64Array)  .benchEvents(count, batch)  .bridge
//   uringStatNames() → the names of stats() values, in order
//
// Frames are copied once into native memory when broadcast; upstream messages and request
// bodies reach JS as Buffers over the native bytes (no copy).
#include <napi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "io/probe.h"
#include "io/ring_thread.h"
#include "napi/registry.h"
#include "napi/replay_log.h"
#include "napi/transport.h"
#include "napi/transport_bridge.h"
#include "tls/client.h"

namespace {

namespace io = ringlay::io;
using ringlay::BytesRef;
using ringlay::SharedBytes;

void release_bytes(Napi::Env, uint8_t*, SharedBytes* bytes) { bytes->unref(); }

// Marks objects made by the UringTransport constructor (see uring_command_port).
constexpr napi_type_tag kUringTag = {0x5f1c9e03a7d24b68ull, 0x93e2d4b1c06a7f15ull};

// A Buffer over native bytes, which stay alive until the Buffer is collected.
Napi::Value buffer_over(Napi::Env env, const BytesRef& ref) {
  if (!ref || ref.size() == 0) return Napi::Buffer<uint8_t>::New(env, 0);
  SharedBytes* b = ref.get();
  b->ref();
  return Napi::Buffer<uint8_t>::New(env, const_cast<uint8_t*>(b->data()), b->size(), release_bytes, b);
}

BytesRef bytes_from(const Napi::Value& v) {
  if (!v.IsBuffer()) return {};
  auto buf = v.As<Napi::Buffer<uint8_t>>();
  return BytesRef::copy_of(buf.Data(), buf.Length());
}

double number_or(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

std::string string_or(const Napi::Object& o, const char* key, const char* fallback) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(fallback);
}

// [name0, value0, name1, value1, ...]
std::vector<io::HeaderPair> header_pairs(const Napi::Value& v) {
  std::vector<io::HeaderPair> out;
  if (!v.IsArray()) return out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i + 1 < arr.Length(); i += 2) {
    out.push_back(io::HeaderPair{arr.Get(i).ToString().Utf8Value(), arr.Get(i + 1).ToString().Utf8Value()});
  }
  return out;
}

Napi::Object header_object(Napi::Env env, const std::vector<io::HeaderPair>& headers) {
  Napi::Object o = Napi::Object::New(env);
  for (const io::HeaderPair& h : headers) o.Set(h.name, h.value);
  return o;
}

Napi::Value probe_uring(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  io::ProbeResult p = io::probe_uring();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", p.ok);
  o.Set("message", p.message);
  if (p.ok) {
    o.Set("mode", io::name(p.mode));
  } else {
    o.Set("errno", p.err);
    o.Set("code", p.code);
  }
  return o;
}

io::DriverConfig driver_config(const Napi::Object& opts) {
  io::DriverConfig cfg;
  Napi::Value lv = opts.Get("limits");
  if (lv.IsObject()) {
    Napi::Object l = lv.As<Napi::Object>();
    io::TransportLimits& t = cfg.limits;
    t.max_header_bytes = static_cast<size_t>(number_or(l, "maxHeaderBytes", t.max_header_bytes));
    t.max_body_bytes = static_cast<size_t>(number_or(l, "maxBodyBytes", t.max_body_bytes));
    t.max_consumer_message_bytes = static_cast<size_t>(number_or(l, "maxConsumerMessageBytes", t.max_consumer_message_bytes));
    t.consumer_send_queue_bytes = static_cast<size_t>(number_or(l, "consumerSendQueueBytes", t.consumer_send_queue_bytes));
    t.upstream_max_message_bytes = static_cast<size_t>(number_or(l, "upstreamMaxMessageBytes", t.upstream_max_message_bytes));
    t.consumer_ping_interval_ms = static_cast<uint32_t>(number_or(l, "consumerPingIntervalMs", t.consumer_ping_interval_ms));
    t.close_timeout_ms = static_cast<uint32_t>(number_or(l, "closeTimeoutMs", t.close_timeout_ms));
    t.catch_up_read_bytes = static_cast<size_t>(number_or(l, "catchUpReadBytes", static_cast<double>(t.catch_up_read_bytes)));
    t.consumer_max_lag_seqs = static_cast<uint64_t>(number_or(l, "consumerMaxLagSeqs", static_cast<double>(t.consumer_max_lag_seqs)));
  }
  cfg.server_header = string_or(opts, "serverHeader", "ringlay (atproto-relay)");
  cfg.user_agent = string_or(opts, "userAgent", "ringlay (atproto-relay)");
  cfg.loop.ring.sq_entries = static_cast<unsigned>(number_or(opts, "ringEntries", cfg.loop.ring.sq_entries));
  cfg.loop.ring.cq_entries = cfg.loop.ring.sq_entries * 8;
  cfg.loop.bufs.count = static_cast<uint32_t>(number_or(opts, "bufferCount", cfg.loop.bufs.count));
  cfg.loop.bufs.buffer_size = static_cast<uint32_t>(number_or(opts, "bufferSize", cfg.loop.bufs.buffer_size));
  cfg.loop.tick_ms = static_cast<uint32_t>(number_or(opts, "tickMs", 100));
  cfg.loop.drain_timeout_ms = cfg.limits.close_timeout_ms;
  return cfg;
}

// Event kinds as JS sees them (lib/transport/uring.ts keeps the same list).
constexpr int kListening = 1, kListenFailed = 2, kRequest = 3, kConsumerOpen = 4, kConsumerClose = 5,
              kUpstreamOpen = 6, kUpstreamMessages = 7, kUpstreamClose = 8, kStopped = 9, kBench = 10;

class UringTransport final : public Napi::ObjectWrap<UringTransport> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "UringTransport", {
      InstanceMethod<&UringTransport::listen>("listen"),
      InstanceMethod<&UringTransport::respond>("respond"),
      InstanceMethod<&UringTransport::broadcast>("broadcast"),
      InstanceMethod<&UringTransport::connect>("connect"),
      InstanceMethod<&UringTransport::close_upstream>("closeUpstream"),
      InstanceMethod<&UringTransport::stop>("stop"),
      InstanceMethod<&UringTransport::stats>("stats"),
      InstanceMethod<&UringTransport::bench_events>("benchEvents"),
      InstanceMethod<&UringTransport::set_replay_log>("setReplayLog"),
      InstanceAccessor<&UringTransport::bridge_name>("bridge"),
    });
  }

  explicit UringTransport(const Napi::CallbackInfo& info);
  ~UringTransport() override;
  std::shared_ptr<io::CommandPort> port() const { return ring_ != nullptr ? ring_->port() : nullptr; }

 private:
  static void drain(Napi::Env env, void* context) { static_cast<UringTransport*>(context)->deliver(env); }
  static void cleanup(void* context) { static_cast<UringTransport*>(context)->shut_down_now(); }
  void deliver(Napi::Env env);
  Napi::Value to_js(Napi::Env env, io::Event& e);
  void finish();
  void shut_down_now();
  bool running() const { return ring_ != nullptr && !finished_; }

  Napi::Value listen(const Napi::CallbackInfo& info);
  Napi::Value respond(const Napi::CallbackInfo& info);
  Napi::Value broadcast(const Napi::CallbackInfo& info);
  Napi::Value connect(const Napi::CallbackInfo& info);
  Napi::Value close_upstream(const Napi::CallbackInfo& info);
  Napi::Value stop(const Napi::CallbackInfo& info);
  Napi::Value stats(const Napi::CallbackInfo& info);
  Napi::Value bench_events(const Napi::CallbackInfo& info);
  Napi::Value set_replay_log(const Napi::CallbackInfo& info);
  Napi::Value bridge_name(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), bridge_ ? bridge_->name() : "none");
  }

  std::unique_ptr<ringlay::napi::Bridge> bridge_;
  std::unique_ptr<io::RingThread> ring_;
  Napi::FunctionReference on_events_;
  std::unique_ptr<Napi::AsyncContext> async_;
  std::vector<io::Event> events_;
  napi_env env_ = nullptr;
  bool finished_ = false;
  bool cleanup_hooked_ = false;
  // Consumer replay: set once setReplayLog was called; broadcast frames then need relay seqs,
  // strictly increasing (the fan-out finds hand-off points by seq).
  bool replay_log_set_ = false;
  uint64_t last_seq_posted_ = 0;
};

Napi::Error setup_error(Napi::Env env, const io::RingError& err) {
  Napi::Error e = Napi::Error::New(env, err.message);
  e.Set("code", err.code);
  e.Set("errno", Napi::Number::New(env, err.err));
  return e;
}

UringTransport::UringTransport(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UringTransport>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "UringTransport(options, onEvents)").ThrowAsJavaScriptException();
    return;
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  io::DriverConfig cfg = driver_config(opts);
  std::string ca = string_or(opts, "caPem", "");
  if (!ca.empty()) {
    ringlay::tls::Error terr;
    std::string tmsg;
    std::unique_ptr<ringlay::tls::Context> ctx = ringlay::tls::Context::create(ca, &terr, &tmsg);
    // Without trust every wss:// upstream fails with tls_error; plain ws:// still works.
    if (ctx) cfg.tls = std::move(ctx);
  }
  std::string bridge = string_or(opts, "bridge", "tsfn");
  std::string error;
  bridge_ = bridge == "tsfn" ? ringlay::napi::make_tsfn_bridge(env, &UringTransport::drain, this, &error)
                             : ringlay::napi::make_uvpoll_bridge(env, &UringTransport::drain, this, &error);
  if (!bridge_) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return;
  }
  io::RingError err;
  ring_ = io::RingThread::create(std::move(cfg), bridge_.get(), &err);
  if (!ring_) {
    bridge_->close();
    bridge_.reset();
    setup_error(env, err).ThrowAsJavaScriptException();
    return;
  }
  on_events_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_ = std::make_unique<Napi::AsyncContext>(env, "ringlay.io");
  napi_add_env_cleanup_hook(env, &UringTransport::cleanup, this);
  cleanup_hooked_ = true;
  info.This().As<Napi::Object>().TypeTag(&kUringTag);
  // Alive (and keeping the process alive) until the ring thread says it has stopped.
  Ref();
  ring_->start();
}

UringTransport::~UringTransport() {
  shut_down_now();
  if (cleanup_hooked_) napi_remove_env_cleanup_hook(env_, &UringTransport::cleanup, this);
}

// Teardown without waiting for graceful closes: finalizer or process exit.
void UringTransport::shut_down_now() {
  if (ring_ != nullptr && !ring_->exited()) {
    io::Command c;
    c.kind = io::CommandKind::stop;
    c.seq = 1;  // immediate
    ring_->post(std::move(c));
  }
  if (ring_ != nullptr) ring_->join();
  ring_.reset();
  if (bridge_) bridge_->close();
  bridge_.reset();
  finished_ = true;
}

void UringTransport::finish() {
  if (finished_) return;
  finished_ = true;
  ring_->join();
  bridge_->close();
  Unref();
}

void UringTransport::deliver(Napi::Env env) {
  if (ring_ == nullptr || finished_) return;
  ring_->take_events(events_);
  if (events_.empty()) return;
  bool stopped = false;
  Napi::Array arr = Napi::Array::New(env, events_.size());
  for (size_t i = 0; i < events_.size(); ++i) {
    stopped |= events_[i].kind == io::EventKind::stopped;
    arr.Set(static_cast<uint32_t>(i), to_js(env, events_[i]));
  }
  events_.clear();
  if (stopped) finish();
  on_events_.MakeCallback(Value(), {arr}, *async_);
}

Napi::Value UringTransport::to_js(Napi::Env env, io::Event& e) {
  Napi::Object o = Napi::Object::New(env);
  switch (e.kind) {
    case io::EventKind::listening:
      o.Set("kind", kListening);
      o.Set("id", static_cast<double>(e.id));
      o.Set("port", e.code);
      break;
    case io::EventKind::listen_failed:
      o.Set("kind", kListenFailed);
      o.Set("id", static_cast<double>(e.id));
      o.Set("code", e.b);
      o.Set("message", e.c);
      break;
    case io::EventKind::http_request:
      o.Set("kind", kRequest);
      o.Set("conn", static_cast<double>(e.id));
      o.Set("seq", static_cast<double>(e.seq));
      o.Set("method", e.a);
      o.Set("path", e.b);
      o.Set("query", e.c);
      o.Set("remote", e.d);
      o.Set("headers", header_object(env, e.headers));
      o.Set("body", buffer_over(env, e.body));
      break;
    case io::EventKind::consumer_open:
      o.Set("kind", kConsumerOpen);
      o.Set("id", static_cast<double>(e.id));
      o.Set("start", e.b);
      o.Set("query", e.c);
      o.Set("remote", e.d);
      break;
    case io::EventKind::consumer_close:
      o.Set("kind", kConsumerClose);
      o.Set("id", static_cast<double>(e.id));
      o.Set("code", e.code);
      o.Set("reason", e.a);
      break;
    case io::EventKind::upstream_open:
      o.Set("kind", kUpstreamOpen);
      o.Set("id", static_cast<double>(e.id));
      o.Set("status", e.code);
      o.Set("headers", header_object(env, e.headers));
      break;
    case io::EventKind::upstream_messages: {
      o.Set("kind", kUpstreamMessages);
      o.Set("id", static_cast<double>(e.id));
      Napi::Array list = Napi::Array::New(env, e.messages.size());
      for (size_t i = 0; i < e.messages.size(); ++i) list.Set(static_cast<uint32_t>(i), buffer_over(env, e.messages[i]));
      o.Set("messages", list);
      break;
    }
    case io::EventKind::upstream_close:
      o.Set("kind", kUpstreamClose);
      o.Set("id", static_cast<double>(e.id));
      o.Set("code", e.code);
      o.Set("reason", e.a);
      if (!e.b.empty()) {
        o.Set("errorCode", e.b);
        o.Set("errorMessage", e.c);
      }
      break;
    case io::EventKind::stopped:
      o.Set("kind", kStopped);
      if (e.code != 0) o.Set("error", e.b);
      break;
    case io::EventKind::bench:
      o.Set("kind", kBench);
      o.Set("seq", static_cast<double>(e.seq));
      o.Set("t", static_cast<double>(e.time_ns));
      break;
  }
  return o;
}

Napi::Value UringTransport::listen(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  io::Command c;
  c.kind = io::CommandKind::listen;
  c.id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  c.text = info[1].As<Napi::String>().Utf8Value();
  c.port = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

Napi::Value UringTransport::respond(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  io::Command c;
  c.kind = io::CommandKind::respond;
  c.id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  c.seq = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  c.status = info[2].As<Napi::Number>().Int32Value();
  c.headers = header_pairs(info[3]);
  c.body = bytes_from(info[4]);
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

// broadcast(frames: Buffer[], seqs?: number[]): seqs are the frames' relay seqs (written to
// the event log first), required once a replay log is set.
Napi::Value UringTransport::broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!running() || !info[0].IsArray()) return env.Undefined();
  auto arr = info[0].As<Napi::Array>();
  io::Command c;
  c.kind = io::CommandKind::broadcast;
  bool with_seqs = info.Length() > 1 && info[1].IsArray();
  if (!with_seqs && replay_log_set_ && arr.Length() > 0) {
    Napi::TypeError::New(env, "broadcast: frames need their relay seqs once a replay log is set").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (with_seqs && !ringlay::napi::relay_seqs_of(env, info[1], arr.Length(), &last_seq_posted_, c.seqs)) {
    return env.Undefined();
  }
  c.frames.reserve(arr.Length());
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    BytesRef b = bytes_from(arr.Get(i));
    if (!b && with_seqs) {  // a seq per frame: a skipped frame would shift them
      Napi::TypeError::New(env, "broadcast: frames must be Buffers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!b) continue;
    bytes += b.size();
    c.frames.push_back(std::move(b));
  }
  ring_->note_broadcast_posted(bytes);
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

// setReplayLog(source): a RelayPipeline or an EventLogCore (napi/replay_log.h). ?cursor= is then
// decided against its log and catching-up consumers read it (native/relay/replay_reader.h).
Napi::Value UringTransport::set_replay_log(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ringlay::log_store::EventLog> log = info.Length() > 0 ? ringlay::napi::replay_log_of(info[0]) : nullptr;
  if (log == nullptr) {
    Napi::TypeError::New(env, "setReplayLog: expected an open RelayPipeline or EventLogCore").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!running()) return env.Undefined();
  replay_log_set_ = true;
  last_seq_posted_ = std::max(last_seq_posted_, log->written_seq());
  io::Command c;
  c.kind = io::CommandKind::replay_log;
  c.log = std::move(log);
  ring_->post(std::move(c));
  return env.Undefined();
}

Napi::Value UringTransport::connect(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  Napi::Object s = info[1].As<Napi::Object>();
  auto spec = std::make_unique<io::UpstreamSpec>();
  spec->tls = s.Get("tls").ToBoolean().Value();
  spec->host = string_or(s, "host", "");
  spec->port = static_cast<uint16_t>(number_or(s, "port", 0));
  spec->address = string_or(s, "address", "");
  spec->host_header = string_or(s, "hostHeader", spec->host.c_str());
  spec->path_and_query = string_or(s, "path", "/");
  spec->headers = header_pairs(s.Get("headers"));
  spec->max_message_bytes = static_cast<size_t>(number_or(s, "maxMessageBytes", 5000000));
  spec->ping_interval_ms = static_cast<uint32_t>(number_or(s, "pingIntervalMs", 30000));
  spec->handshake_timeout_ms = static_cast<uint32_t>(number_or(s, "handshakeTimeoutMs", 10000));
  // Relay mode: messages go to the attached relay pipeline as this host's (native/relay).
  double relay_host = number_or(s, "relayHost", -1);
  if (relay_host >= 0) {
    spec->relay = true;
    spec->relay_host = static_cast<uint32_t>(relay_host);
  }
  io::Command c;
  c.kind = io::CommandKind::connect;
  c.id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  c.upstream = std::move(spec);
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

Napi::Value UringTransport::close_upstream(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  io::Command c;
  c.kind = io::CommandKind::close_upstream;
  c.id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  c.status = info[1].As<Napi::Number>().Int32Value();
  c.text = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string();
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

Napi::Value UringTransport::stop(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  io::Command c;
  c.kind = io::CommandKind::stop;
  c.seq = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

Napi::Value UringTransport::bench_events(const Napi::CallbackInfo& info) {
  if (!running()) return info.Env().Undefined();
  io::Command c;
  c.kind = io::CommandKind::bench_events;
  c.count = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  c.batch = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  ring_->post(std::move(c));
  return info.Env().Undefined();
}

// stats(into: Float64Array): fills the values in the order of statNames(). A typed array
// and a fixed order, not an object: publishers poll queuedSendBytes in tight loops, and an
// object with dozens of fresh keys per call costs the JS thread more than the poll is worth.
struct StatField {
  const char* name;
  const io::Counter io::Stats::*counter;
};
constexpr StatField kStatFields[] = {
    {"submissions", &io::Stats::submissions},
    {"completions", &io::Stats::completions},
    {"bytesIn", &io::Stats::bytes_in},
    {"bytesOut", &io::Stats::bytes_out},
    {"connectionsOpen", &io::Stats::connections_open},
    {"consumers", &io::Stats::consumers},
    {"queuedSendBytes", nullptr},  // computed below
    {"enters", &io::Stats::enters},
    {"connectionsAccepted", &io::Stats::connections_accepted},
    {"upstreams", &io::Stats::upstreams},
    {"sends", &io::Stats::sends},
    {"sendIovecs", &io::Stats::send_iovecs},
    {"partialSends", &io::Stats::partial_sends},
    {"recvEnobufs", &io::Stats::recv_enobufs},
    {"recvRearms", &io::Stats::recv_rearms},
    {"cqOverflows", &io::Stats::cq_overflows},
    {"sqeBacklog", &io::Stats::sqe_backlog},
    {"acceptErrors", &io::Stats::accept_errors},
    {"unexpectedErrors", &io::Stats::unexpected_errors},
    {"httpRequests", &io::Stats::http_requests},
    {"framesBroadcast", &io::Stats::frames_broadcast},
    {"upstreamMessages", &io::Stats::upstream_messages},
    {"eventsToJs", &io::Stats::events_to_js},
    {"eventBatches", &io::Stats::event_batches},
    {"consumersLive", &io::Stats::consumers_live},
    {"consumersCatchingUp", &io::Stats::consumers_catching_up},
    {"catchUpChunkBytes", &io::Stats::catch_up_chunk_bytes},
    {"catchUpReads", &io::Stats::catch_up_reads},
    {"catchUpBytesRead", &io::Stats::catch_up_bytes_read},
    {"catchUpFramesSent", &io::Stats::catch_up_frames_sent},
    {"catchUpFallbacks", &io::Stats::catch_up_fallbacks},
    {"catchUpHandoffs", &io::Stats::catch_up_handoffs},
    {"tooSlowQueue", &io::Stats::too_slow_queue},
    {"tooSlowLag", &io::Stats::too_slow_lag},
    {"tooSlowGap", &io::Stats::too_slow_gap},
    {"replayReadErrors", &io::Stats::replay_read_errors},
    {"cursorLive", &io::Stats::cursor_live},
    {"cursorReplay", &io::Stats::cursor_replay},
    {"cursorOutdated", &io::Stats::cursor_outdated},
    {"cursorFuture", &io::Stats::cursor_future},
    {"cursorBad", &io::Stats::cursor_bad},
};
constexpr size_t kStatCount = sizeof kStatFields / sizeof kStatFields[0] + io::kCloseReasons;

Napi::Value stat_names(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array names = Napi::Array::New(env, kStatCount);
  uint32_t i = 0;
  for (const StatField& f : kStatFields) names.Set(i++, f.name);
  for (size_t r = 0; r < io::kCloseReasons; ++r) {
    names.Set(i++, std::string("closes_") + io::name(static_cast<io::CloseReason>(r)));
  }
  return names;
}

Napi::Value UringTransport::stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "stats(Float64Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto arr = info[0].As<Napi::Float64Array>();
  if (arr.ElementLength() < kStatCount || ring_ == nullptr) return env.Undefined();
  const io::Stats& s = ring_->stats();
  double* out = arr.Data();
  size_t i = 0;
  for (const StatField& f : kStatFields) {
    if (f.counter != nullptr) {
      out[i++] = static_cast<double>((s.*f.counter).get());
      continue;
    }
    // Frames posted but not yet published count once per consumer: that is what they become.
    uint64_t posted = s.posted_broadcast_bytes.load(std::memory_order_relaxed);
    out[i++] = static_cast<double>(s.queued_send_bytes.get() + s.fanout_queued_bytes.get() + posted * s.consumers.get());
  }
  for (size_t r = 0; r < io::kCloseReasons; ++r) out[i++] = static_cast<double>(s.closes[r].get());
  return env.Undefined();
}

void export_transport(Napi::Env env, Napi::Object exports) {
  exports.Set("probeUring", Napi::Function::New(env, probe_uring, "probeUring"));
  exports.Set("uringStatNames", Napi::Function::New(env, stat_names, "uringStatNames"));
  exports.Set("UringTransport", UringTransport::define(env));
}

}  // namespace

namespace ringlay::napi {

std::shared_ptr<io::CommandPort> uring_command_port(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kUringTag)) return nullptr;
  UringTransport* t = UringTransport::Unwrap(obj);
  return t != nullptr ? t->port() : nullptr;
}

}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(transport, export_transport);
