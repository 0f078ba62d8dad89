// SPDX-License-Identifier: MIT
// JS access to frame validation (lib/codec/validate.ts wraps these). The relay's own path never
// comes here (the transport hands frames to verify::Validator natively); this is for the uWS
// fallback, tests and benches, which submit many frames per call:
//
//   const pool = new CodecPool({threads?, capacity?, keyCache?})
//   pool.validate(frames: Uint8Array[], options?) -> Promise<result[]>  (one per frame, in order)
//   pool.stats(); pool.close('drain' | 'cancel')
//   validateFramesSync(frames, options?, keyCache?) -> result[]          (on the calling thread)
//   benchValidate(frames, options?, {threads?, seconds?}) -> {framesPerSec, …} (benches only)
//
// options: {lenient?, nowMs?, depth?: 'frame'|'commit'|'full', checkSignatures?,
//           requirePrevData?, keys?: [{did, key?, type?}]}. `keys` are used before the cache:
// a DID listed without a parseable key is "unusable". Frames are copied once into native
// buffers (the JS buffers may be reused as soon as the call returns); validation runs on the
// pool's workers, and each batch crosses back once, when its last frame is done.
// result: {ok, reason?, detail?, opIndex?, flags, type, seq?, did?, time?, rev?, since?, commit?,
//          data?, prevData?, ops?, blocksSize?, active?, status?, handle?, name?, message?, t?,
//          keyStatus?, keyVersion?, invertReason?}
#include <napi.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "firehose/validate.h"
#include "napi/crypto.h"
#include "napi/registry.h"
#include "verify/validator.h"

namespace ringlay::napi {
namespace {

namespace fh = ringlay::firehose;
using verify::FrameJob;
using verify::FrameResult;

Napi::Value type_error(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool depth_of(const std::string& s, fh::Depth& out) {
  if (s == "frame") out = fh::Depth::frame;
  else if (s == "commit") out = fh::Depth::commit;
  else if (s == "full") out = fh::Depth::full;
  else return false;
  return true;
}

// Per-call key list: [{did, key?, type?}] -> DID -> key or unusable reason.
bool parse_keys(Napi::Array list, verify::KeyMap& out) {
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) return false;
    Napi::Object o = item.As<Napi::Object>();
    Napi::Value did = o.Get("did"), key = o.Get("key"), type = o.Get("type");
    if (!did.IsString() || !(type.IsUndefined() || type.IsString())) return false;
    verify::KeyEntry entry;
    if (key.IsString()) {
      crypto::PublicKey pk;
      std::string t = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
      entry.reason = crypto::parse_key_text(key.As<Napi::String>().Utf8Value(), t, pk);
      if (entry.reason == crypto::KeyError::ok) entry.key = crypto::make_key_ref(std::move(pk));
    } else if (!key.IsUndefined() && !key.IsNull()) {
      return false;
    }
    out[did.As<Napi::String>().Utf8Value()] = std::move(entry);
  }
  return true;
}

// Reads the options object; false (TypeError thrown) on misuse.
bool parse_options(Napi::Env env, Napi::Value v, fh::ValidateOptions& o,
                   std::shared_ptr<const verify::KeyMap>& keys) {
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) return type_error(env, "options must be an object"), false;
  Napi::Object opts = v.As<Napi::Object>();
  o.lenient = opts.Get("lenient").ToBoolean();
  Napi::Value now = opts.Get("nowMs"), depth = opts.Get("depth"), sig = opts.Get("checkSignatures"),
              k = opts.Get("keys");
  if (now.IsNumber()) o.now_ms = static_cast<int64_t>(now.As<Napi::Number>().DoubleValue());
  if (depth.IsString() && !depth_of(depth.As<Napi::String>().Utf8Value(), o.depth)) {
    return type_error(env, "depth must be 'frame', 'commit' or 'full'"), false;
  }
  if (!sig.IsUndefined()) o.check_signature = sig.ToBoolean();
  o.require_prev_data = opts.Get("requirePrevData").ToBoolean();
  if (k.IsArray()) {
    auto map = std::make_shared<verify::KeyMap>();
    if (!parse_keys(k.As<Napi::Array>(), *map)) {
      return type_error(env, "keys: [{did: string, key?: string, type?: string}]"), false;
    }
    keys = std::move(map);
  } else if (!k.IsUndefined()) {
    return type_error(env, "keys must be an array"), false;
  }
  return true;
}

// Frames as native buffers (one copy each); false (TypeError thrown) on misuse.
bool copy_frames(Napi::Env env, Napi::Value v, std::vector<BytesRef>& out) {
  if (!v.IsArray()) return type_error(env, "frames must be an array of Uint8Array"), false;
  Napi::Array list = v.As<Napi::Array>();
  out.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value f = list.Get(i);
    if (!f.IsTypedArray()) return type_error(env, "frames must be an array of Uint8Array"), false;
    auto a = f.As<Napi::Uint8Array>();
    out.push_back(BytesRef::copy_of(a.Data(), a.ByteLength()));
    RL_ASSERT(out.back() || a.ByteLength() == 0);
  }
  return true;
}

void set_text(Napi::Env env, Napi::Object o, const char* key, std::string_view s) {
  o.Set(key, Napi::String::New(env, s.data(), s.size()));
}

void set_optional(Napi::Env env, Napi::Object o, const char* key, const std::optional<std::string_view>& s) {
  if (s) set_text(env, o, key, *s); else o.Set(key, env.Null());
}

void set_cid(Napi::Env env, Napi::Object o, const char* key, cid::CidView c) {
  char buf[cid::kMaxStringSize];
  size_t n = cid::format(c, buf);
  o.Set(key, Napi::String::New(env, buf, n));
}

// The summary fields each message type has.
void set_summary(Napi::Env env, Napi::Object o, const fh::Summary& s) {
  o.Set("type", fh::name(s.type));
  if (s.type == fh::Type::unknown) set_text(env, o, "t", s.t);
  if (s.has_seq) o.Set("seq", static_cast<double>(s.seq));
  if (!s.did.empty()) set_text(env, o, "did", s.did);
  if (!s.time.empty()) set_text(env, o, "time", s.time);
  switch (s.type) {
    case fh::Type::commit:
      set_optional(env, o, "since", s.since);
      if (s.prev_data.empty()) o.Set("prevData", env.Null()); else set_cid(env, o, "prevData", s.prev_data);
      o.Set("ops", s.ops);
      [[fallthrough]];
    case fh::Type::sync:
      if (!s.rev.empty()) set_text(env, o, "rev", s.rev);
      if (!s.commit.empty()) set_cid(env, o, "commit", s.commit);
      if (!s.data.empty()) set_cid(env, o, "data", s.data);
      o.Set("blocksSize", s.blocks_size);
      break;
    case fh::Type::account:
      o.Set("active", s.active);
      if (s.status) set_text(env, o, "status", *s.status);
      break;
    case fh::Type::identity:
      if (s.handle) set_text(env, o, "handle", *s.handle);
      break;
    case fh::Type::info:
    case fh::Type::error:
      set_text(env, o, "name", s.name);
      if (s.message) set_text(env, o, "message", *s.message);
      break;
    case fh::Type::unknown: break;
  }
}

Napi::Object result_object(Napi::Env env, const FrameResult& r) {
  const fh::Verdict& v = r.verdict;
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", v.ok());
  if (!v.ok()) o.Set("reason", fh::name(v.reason));
  if (v.detail[0] != '\0') o.Set("detail", v.detail);
  if (v.op_index >= 0) o.Set("opIndex", v.op_index);
  o.Set("flags", v.flags);
  if (!r.cancelled) set_summary(env, o, v.summary);
  if (v.key_status != fh::KeyStatus::not_checked) o.Set("keyStatus", fh::name(v.key_status));
  if (v.key_version != 0) o.Set("keyVersion", static_cast<double>(v.key_version));
  if (v.invert_reason != mst::Reason::ok) o.Set("invertReason", mst::name(v.invert_reason));
  return o;
}

Napi::Array result_array(Napi::Env env, const std::vector<FrameResult>& results) {
  Napi::Array arr = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); ++i) arr.Set(static_cast<uint32_t>(i), result_object(env, results[i]));
  return arr;
}

Napi::Value validate_frames_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<BytesRef> frames;
  fh::ValidateOptions options;
  std::shared_ptr<const verify::KeyMap> keys;
  if (!copy_frames(env, info[0], frames) || !parse_options(env, info[1], options, keys)) return env.Undefined();
  std::shared_ptr<verify::KeyCache> cache;
  if (!info[2].IsUndefined() && !info[2].IsNull()) {
    cache = unwrap_key_cache(info[2]);
    if (cache == nullptr) return type_error(env, "keyCache must be a KeyCache");
  }
  verify::ValidateHandler handler{cache.get()};
  auto scratch = std::make_unique<fh::Scratch>();
  std::vector<FrameResult> results;
  results.reserve(frames.size());
  for (BytesRef& f : frames) {
    FrameJob job{std::move(f), 0, 0, options, keys};
    results.push_back(handler.run(job, *scratch));
  }
  return result_array(env, results);
}

// benchValidate(frames, options?, {threads?, seconds?}) -> {framesPerSec, frames, failures,
// firstFailure?, seconds, threads}: verify::bench_validator, blocking the calling thread.
Napi::Value bench_validate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<BytesRef> frames;
  fh::ValidateOptions options;
  std::shared_ptr<const verify::KeyMap> keys;
  if (!copy_frames(env, info[0], frames) || !parse_options(env, info[1], options, keys)) return env.Undefined();
  unsigned threads = 0;
  double seconds = 1;
  if (info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    if (o.Get("threads").IsNumber()) threads = o.Get("threads").As<Napi::Number>().Uint32Value();
    if (o.Get("seconds").IsNumber()) seconds = o.Get("seconds").As<Napi::Number>().DoubleValue();
  }
  verify::ValidatorBenchResult r = verify::bench_validator(frames, options, keys, threads, seconds);
  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", r.threads);
  out.Set("frames", static_cast<double>(r.frames));
  out.Set("failures", static_cast<double>(r.failures));
  if (r.failures > 0) out.Set("firstFailure", fh::name(r.first_failure));
  out.Set("seconds", r.seconds);
  out.Set("framesPerSec", r.per_second);
  return out;
}

// --- CodecPool ---

class CodecPoolWrap;

struct Batch {
  explicit Batch(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  std::vector<BytesRef> frames;
  std::vector<FrameResult> results;
  fh::ValidateOptions options;
  std::shared_ptr<const verify::KeyMap> keys;
  size_t next = 0;  // next frame to submit
  size_t done = 0;
};

// Shared by the wrap and by each queued threadsafe-function call.
struct CodecState {
  std::shared_ptr<verify::KeyCache> cache;
  Napi::ThreadSafeFunction tsfn;
  CodecPoolWrap* owner = nullptr;   // strongly referenced while batches exist
  std::map<uint32_t, std::unique_ptr<Batch>> batches;  // by id: submission order
  uint32_t next_id = 1;
  std::vector<FrameResult> taken;
  bool closed = false;
  std::unique_ptr<verify::Validator> validator;  // last: workers stop first
};

void drain(Napi::Env env, CodecState& st);

// Submits frames of queued batches, oldest first, until the pool refuses (full): the next
// drain continues. Tags are (batch id << 32) | frame index.
void pump(CodecState& st) {
  for (auto& [id, b] : st.batches) {
    while (b->next < b->frames.size()) {
      FrameJob job{b->frames[b->next], (uint64_t{id} << 32) | b->next, 0, b->options, b->keys};
      if (!st.validator->submit(job)) return;
      ++b->next;
    }
  }
}

// Resolves every batch whose last result is in.
void settle(Napi::Env env, CodecState& st) {
  for (auto it = st.batches.begin(); it != st.batches.end();) {
    Batch& b = *it->second;
    if (b.done < b.frames.size()) {
      ++it;
      continue;
    }
    b.deferred.Resolve(result_array(env, b.results));
    it = st.batches.erase(it);
  }
}

class CodecPoolWrap : public Napi::ObjectWrap<CodecPoolWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "CodecPool",
                       {InstanceMethod<&CodecPoolWrap::validate>("validate"),
                        InstanceMethod<&CodecPoolWrap::stats>("stats"),
                        InstanceMethod<&CodecPoolWrap::close>("close")});
  }

  explicit CodecPoolWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CodecPoolWrap>(info) {
    Napi::Env env = info.Env();
    verify::ValidatorOptions vo;
    Napi::Value kc;
    if (info[0].IsObject()) {
      Napi::Object opts = info[0].As<Napi::Object>();
      Napi::Value threads = opts.Get("threads"), capacity = opts.Get("capacity");
      if (threads.IsNumber()) vo.pool.threads = threads.As<Napi::Number>().Uint32Value();
      if (capacity.IsNumber()) vo.pool.capacity = static_cast<size_t>(capacity.As<Napi::Number>().DoubleValue());
      kc = opts.Get("keyCache");
    } else if (!info[0].IsUndefined()) {
      type_error(env, "new CodecPool({threads?, capacity?, keyCache?})");
      return;
    }
    vo.pool.name = "rl-codec";
    state_ = std::make_shared<CodecState>();
    state_->owner = this;
    if (!kc.IsEmpty() && !kc.IsUndefined() && !kc.IsNull()) {
      state_->cache = unwrap_key_cache(kc);
      if (state_->cache == nullptr) {
        type_error(env, "keyCache must be a KeyCache");
        return;
      }
    }
    state_->tsfn = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "ringlay.CodecPool", 0, 1);
    state_->tsfn.Unref(env);
    std::weak_ptr<CodecState> weak = state_;
    CodecState* raw = state_.get();
    // On a worker: queue one drain on the JS thread (the queued call holds the state).
    auto wake = [raw, weak] {
      std::shared_ptr<CodecState> held = weak.lock();
      if (held == nullptr) return;
      raw->tsfn.NonBlockingCall([held](Napi::Env env, Napi::Function) { drain(env, *held); });
    };
    state_->validator = std::make_unique<verify::Validator>(vo, state_->cache, wake);
  }

  ~CodecPoolWrap() override {
    // No batch can be pending (they hold a strong reference to this object), so nothing is
    // left to resolve: stop the workers without touching JS.
    if (state_ == nullptr || state_->validator == nullptr || state_->closed) return;
    state_->closed = true;
    state_->validator->shutdown(verify::StopMode::cancel);
    state_->tsfn.Release();
  }

  // Called by drain() when the last batch settled.
  void idle(Napi::Env env) {
    state_->tsfn.Unref(env);
    Unref();
  }

 private:
  Napi::Value validate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto batch = std::make_unique<Batch>(env);
    Napi::Promise promise = batch->deferred.Promise();
    if (!copy_frames(env, info[0], batch->frames) ||
        !parse_options(env, info[1], batch->options, batch->keys)) {
      return env.Undefined();
    }
    if (state_ == nullptr || state_->validator == nullptr || state_->closed) {
      Napi::Error e = Napi::Error::New(env, "CodecPool is closed");
      e.Set("code", "ERR_CODEC_CLOSED");
      batch->deferred.Reject(e.Value());
      return promise;
    }
    if (batch->frames.empty()) {
      batch->deferred.Resolve(Napi::Array::New(env, 0));
      return promise;
    }
    batch->results.resize(batch->frames.size());
    if (state_->batches.empty()) {
      state_->tsfn.Ref(env);  // keep the process alive while work is out
      Ref();                  // and this object, which drain() reports to
    }
    state_->batches.emplace(state_->next_id++, std::move(batch));
    pump(*state_);
    return promise;
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (state_ == nullptr || state_->validator == nullptr) return o;
    verify::PoolStats s = state_->validator->stats();
    o.Set("threads", state_->validator->threads());
    o.Set("capacity", static_cast<double>(state_->validator->capacity()));
    o.Set("submitted", static_cast<double>(s.submitted));
    o.Set("rejected", static_cast<double>(s.rejected));
    o.Set("completed", static_cast<double>(s.completed));
    o.Set("cancelled", static_cast<double>(s.cancelled));
    o.Set("inFlight", static_cast<double>(s.in_flight));
    o.Set("batches", static_cast<double>(state_->batches.size()));
    return o;
  }

  // Stops the workers; every pending batch still resolves (frames never run: `cancelled`).
  Napi::Value close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "drain";
    if (mode != "drain" && mode != "cancel") return type_error(env, "close(mode?: 'drain' | 'cancel')");
    if (state_ == nullptr || state_->validator == nullptr || state_->closed) return env.Undefined();
    state_->closed = true;
    state_->validator->shutdown(mode == "drain" ? verify::StopMode::drain : verify::StopMode::cancel);
    for (auto& [id, b] : state_->batches) {
      for (; b->next < b->frames.size(); ++b->next, ++b->done) {
        FrameResult& r = b->results[b->next];
        r.cancelled = true;
        r.verdict.reason = fh::Reason::cancelled;
      }
    }
    drain(env, *state_);  // every submitted job's result is queued by now
    state_->tsfn.Release();
    return env.Undefined();
  }

  std::shared_ptr<CodecState> state_;
};

// On the JS thread, once per wake: files results into their batches, resolves finished
// batches, submits more frames.
void drain(Napi::Env env, CodecState& st) {
  if (env == nullptr || st.validator == nullptr) return;  // environment shutting down
  st.validator->take_results(st.taken);
  for (FrameResult& r : st.taken) {
    auto it = st.batches.find(static_cast<uint32_t>(r.tag >> 32));
    RL_ASSERT(it != st.batches.end());
    Batch& b = *it->second;
    const size_t index = static_cast<size_t>(r.tag & 0xffffffffu);
    RL_ASSERT(index < b.results.size());
    b.results[index] = std::move(r);
    ++b.done;
  }
  st.taken.clear();
  const bool had_batches = !st.batches.empty();
  settle(env, st);
  if (!st.closed) pump(st);
  if (had_batches && st.batches.empty() && st.owner != nullptr) st.owner->idle(env);
}

void export_codec(Napi::Env env, Napi::Object exports) {
  exports.Set("CodecPool", CodecPoolWrap::define(env));
  exports.Set("validateFramesSync", Napi::Function::New(env, validate_frames_sync, "validateFramesSync"));
  exports.Set("benchValidate", Napi::Function::New(env, bench_validate, "benchValidate"));
}

}  // namespace
}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(codec, ringlay::napi::export_codec);
