// SPDX-License-Identifier: MIT
// VerifyPool: the native worker pool (verify/pool.h) driven from JS, with the SigHandler job
// (one signature over a message or digest). It is how JS tests exercise the pool's
// uv-side wake path (a threadsafe function) and how the benchmark measures pooled verifies:
//
//   const pool = new VerifyPool({threads, capacity, keyCache}, (results) => …)
//   pool.submit([{tag, key?, type?, did?, message? | digest?, sig}]) -> number accepted
//   pool.stats(); pool.close('drain' | 'cancel')
//
// A job names its key as text (did:key / multibase, with `type` for DID-document types) or by
// `did`, looked up on the worker in the KeyCache given at construction. `submit` stops at the
// first job the pool refuses (full): the return value says how many were taken, the caller
// resubmits the rest later. Results arrive in batches on the JS thread:
//   {tag, ok, reason, keyState?, keyReason?, keyVersion?}; reason "cancelled" after close('cancel').
// While jobs are outstanding the pool keeps the event loop alive; an idle pool does not.
#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/keys.h"
#include "napi/crypto.h"
#include "napi/registry.h"
#include "util/sha256.h"
#include "verify/pool.h"
#include "verify/sig_job.h"

namespace ringlay::napi {
namespace {

namespace c = ringlay::crypto;
using SigPool = verify::Pool<verify::SigHandler>;

// Shared by the wrap, and by each queued threadsafe-function call, so a call that runs after
// the JS object was collected still finds the pool's results.
struct PoolState {
  std::shared_ptr<verify::KeyCache> cache;
  Napi::ThreadSafeFunction tsfn;
  std::unique_ptr<SigPool> pool;  // declared last: destroyed (workers joined) first
  std::vector<verify::SigResult> batch;
  bool closed = false;
};

// Key texts parsed once per submit() call.
struct ParsedKey {
  c::KeyRef key;
  c::KeyError error = c::KeyError::ok;
};

Napi::Value type_error(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object result_object(Napi::Env env, const verify::SigResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tag", static_cast<double>(r.tag));
  bool ok = !r.cancelled && r.error == c::VerifyError::ok;
  o.Set("ok", ok);
  if (!ok) o.Set("reason", r.cancelled ? "cancelled" : c::name(r.error));
  if (r.key_version != 0 || r.key_state != verify::KeyState::found) {
    o.Set("keyState", verify::name(r.key_state));
    if (r.key_version != 0) o.Set("keyVersion", static_cast<double>(r.key_version));
    if (r.key_state == verify::KeyState::unusable) o.Set("keyReason", c::name(r.key_reason));
  }
  return o;
}

// Runs on the JS thread for each wake: hands every finished result to the JS callback.
void drain(Napi::Env env, Napi::Function callback, PoolState& st) {
  if (env == nullptr || st.pool == nullptr) return;  // environment shutting down
  st.pool->take_results(st.batch);
  // Idle pools must not keep the process alive (submit() refs it again). After close() the
  // function is released and finalizes by itself once these queued calls have run.
  if (!st.closed && st.pool->in_flight() == 0) st.tsfn.Unref(env);
  if (st.batch.empty()) return;
  Napi::Array arr = Napi::Array::New(env, st.batch.size());
  for (size_t i = 0; i < st.batch.size(); ++i) arr.Set(static_cast<uint32_t>(i), result_object(env, st.batch[i]));
  callback.Call({arr});
}

class VerifyPoolWrap : public Napi::ObjectWrap<VerifyPoolWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "VerifyPool",
                       {InstanceMethod<&VerifyPoolWrap::submit>("submit"),
                        InstanceMethod<&VerifyPoolWrap::stats>("stats"),
                        InstanceMethod<&VerifyPoolWrap::close>("close")});
  }

  explicit VerifyPoolWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VerifyPoolWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsFunction()) {
      type_error(env, "new VerifyPool({threads?, capacity?, keyCache?}, onResults)");
      return;
    }
    Napi::Object opts = info[0].As<Napi::Object>();
    verify::PoolOptions po;
    Napi::Value threads = opts.Get("threads"), capacity = opts.Get("capacity"), kc = opts.Get("keyCache");
    if (threads.IsNumber()) po.threads = threads.As<Napi::Number>().Uint32Value();
    if (capacity.IsNumber()) po.capacity = static_cast<size_t>(capacity.As<Napi::Number>().DoubleValue());
    state_ = std::make_shared<PoolState>();
    if (!kc.IsUndefined() && !kc.IsNull()) {
      state_->cache = unwrap_key_cache(kc);
      if (state_->cache == nullptr) {
        type_error(env, "keyCache must be a KeyCache");
        return;
      }
    }
    state_->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "ringlay.VerifyPool", 0, 1);
    state_->tsfn.Unref(env);
    PoolState* raw = state_.get();
    std::weak_ptr<PoolState> weak = state_;
    // Runs on a worker (or in close()): queue one drain on the JS thread. The queued call
    // holds the state alive; the pool itself is joined before the state can go away.
    auto wake = [raw, weak] {
      std::shared_ptr<PoolState> held = weak.lock();
      if (held == nullptr) return;
      raw->tsfn.NonBlockingCall([held](Napi::Env env, Napi::Function cb) { drain(env, cb, *held); });
    };
    state_->pool = std::make_unique<SigPool>(verify::SigHandler{state_->cache.get()}, po, wake);
  }

  ~VerifyPoolWrap() override { shut(verify::StopMode::cancel); }

 private:
  void shut(verify::StopMode mode) {
    // A constructor that threw (bad options) leaves no pool behind.
    if (state_ == nullptr || state_->pool == nullptr || state_->closed) return;
    state_->closed = true;
    state_->pool->shutdown(mode);  // leftover results are queued to JS before the release
    state_->tsfn.Release();
  }

  // Fills `job` from one JS item; false (with a TypeError thrown) on malformed input.
  bool fill(Napi::Env env, Napi::Value item, verify::SigJob& job,
            std::unordered_map<std::string, ParsedKey>& parsed) {
    if (!item.IsObject()) return type_error(env, "submit: items must be objects"), false;
    Napi::Object o = item.As<Napi::Object>();
    Napi::Value tag = o.Get("tag"), key = o.Get("key"), type = o.Get("type"), did = o.Get("did"),
                msg = o.Get("message"), digest = o.Get("digest"), sig = o.Get("sig");
    if (!tag.IsNumber() || !sig.IsTypedArray()) return type_error(env, "submit: item needs tag and sig"), false;
    job.tag = static_cast<uint64_t>(tag.As<Napi::Number>().DoubleValue());
    if (key.IsString()) {
      std::string text = key.As<Napi::String>().Utf8Value();
      std::string t = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
      auto [it, fresh] = parsed.try_emplace(t + " " + text);
      if (fresh) {
        c::PublicKey pk;
        it->second.error = c::parse_key_text(text, t, pk);
        if (it->second.error == c::KeyError::ok) it->second.key = c::make_key_ref(std::move(pk));
      }
      job.key = it->second.key;
      job.key_error = it->second.error;  // an unparseable key fails the job with this reason
    } else if (did.IsString()) {
      job.did = did.As<Napi::String>().Utf8Value();
    } else {
      return type_error(env, "submit: item needs key or did"), false;
    }
    if (digest.IsTypedArray()) {
      auto d = digest.As<Napi::Uint8Array>();
      if (d.ByteLength() != job.digest.size()) return type_error(env, "submit: digest must be 32 bytes"), false;
      std::copy_n(d.Data(), job.digest.size(), job.digest.begin());
    } else if (msg.IsTypedArray()) {
      auto m = msg.As<Napi::Uint8Array>();
      job.digest = sha256(m.Data(), m.ByteLength());
    } else {
      return type_error(env, "submit: item needs message or digest"), false;
    }
    auto s = sig.As<Napi::Uint8Array>();
    job.set_signature({s.Data(), s.ByteLength()});
    return true;
  }

  Napi::Value submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (state_ == nullptr || state_->pool == nullptr || state_->closed) return Napi::Number::New(env, 0);
    if (!info[0].IsArray()) return type_error(env, "submit(items: object[])");
    Napi::Array list = info[0].As<Napi::Array>();
    std::unordered_map<std::string, ParsedKey> parsed;
    uint32_t accepted = 0;
    for (; accepted < list.Length(); ++accepted) {
      verify::SigJob job;
      if (!fill(env, list.Get(accepted), job, parsed)) return env.Undefined();
      if (!state_->pool->submit(std::move(job))) break;
    }
    if (accepted > 0) state_->tsfn.Ref(env);
    return Napi::Number::New(env, accepted);
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (state_ == nullptr || state_->pool == nullptr) return o;
    verify::PoolStats s = state_->pool->stats();
    o.Set("threads", state_->pool->threads());
    o.Set("capacity", static_cast<double>(state_->pool->capacity()));
    o.Set("submitted", static_cast<double>(s.submitted));
    o.Set("rejected", static_cast<double>(s.rejected));
    o.Set("completed", static_cast<double>(s.completed));
    o.Set("cancelled", static_cast<double>(s.cancelled));
    o.Set("inFlight", static_cast<double>(s.in_flight));
    return o;
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "drain";
    if (mode != "drain" && mode != "cancel") return type_error(env, "close(mode?: 'drain' | 'cancel')");
    shut(mode == "drain" ? verify::StopMode::drain : verify::StopMode::cancel);
    return env.Undefined();
  }

  std::shared_ptr<PoolState> state_;
};

void export_verify_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("VerifyPool", VerifyPoolWrap::define(env));
}

}  // namespace
}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(verify_pool, ringlay::napi::export_verify_pool);
