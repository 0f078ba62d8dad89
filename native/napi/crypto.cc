// SPDX-License-Identifier: MIT
// JS access to native/crypto and the key cache (lib/codec/keys.ts wraps these):
//   parseKey(text, type?)                 -> {ok, curve, compressed, didKey} | {ok:false, reason}
//   formatDidKey(curve, pointBytes)       -> {ok, didKey} | {ok:false, reason}
//   verifySignature(key, type?, msg, sig) -> {ok:true} | {ok:false, reason}
//   benchRawVerify({curve, iterations, threads, pool}) -> {verifiesPerSec, …}
//   new KeyCache({capacity, shards}): set(entries), delete(dids), lookup(dids), clear(), stats()
// Domain failures come back as values with the stable reason names; only misuse (wrong
// argument types) throws.
#include "napi/crypto.h"

#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/verify.h"
#include "napi/registry.h"
#include "verify/raw_bench.h"

namespace ringlay::napi {
namespace {

namespace c = ringlay::crypto;

// Marks objects made by the KeyCache constructor (see unwrap_key_cache).
constexpr napi_type_tag kKeyCacheTag = {0x8d6f2a51c3e94b07ull, 0x2b1e7c90f4a35d68ull};

Napi::Value type_error(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object failure(Napi::Env env, const char* reason) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", false);
  o.Set("reason", reason);
  return o;
}

std::span<const uint8_t> bytes_of(Napi::Value v) {
  auto a = v.As<Napi::Uint8Array>();
  return {a.Data(), a.ByteLength()};
}

// An optional string argument: "" when undefined or null.
bool optional_string(Napi::Value v, std::string& out) {
  if (v.IsUndefined() || v.IsNull()) {
    out.clear();
    return true;
  }
  if (!v.IsString()) return false;
  out = v.As<Napi::String>().Utf8Value();
  return true;
}

Napi::Object key_object(Napi::Env env, const c::PublicKey& key) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  o.Set("curve", c::name(key.curve()));
  o.Set("compressed", Napi::Buffer<uint8_t>::Copy(env, key.compressed().data(), key.compressed().size()));
  o.Set("didKey", c::format_did_key(key));
  return o;
}

Napi::Value parse_key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string type;
  if (!info[0].IsString() || !optional_string(info[1], type)) {
    return type_error(env, "parseKey(text: string, type?: string)");
  }
  c::PublicKey key;
  c::KeyError e = c::parse_key_text(info[0].As<Napi::String>().Utf8Value(), type, key);
  if (e != c::KeyError::ok) return failure(env, c::name(e));
  return key_object(env, key);
}

bool curve_of(Napi::Value v, c::Curve& out) {
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "secp256k1") {
    out = c::Curve::secp256k1;
  } else if (s == "p256") {
    out = c::Curve::p256;
  } else {
    return false;
  }
  return true;
}

Napi::Value format_did_key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c::Curve curve;
  if (!curve_of(info[0], curve) || !info[1].IsTypedArray()) {
    return type_error(env, "formatDidKey(curve: 'secp256k1' | 'p256', point: Uint8Array)");
  }
  c::PublicKey key;
  c::KeyError e = c::parse_point(curve, bytes_of(info[1]), key);
  if (e != c::KeyError::ok) return failure(env, c::name(e));
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  o.Set("didKey", c::format_did_key(key));
  return o;
}

Napi::Value verify_signature(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string type;
  if (!info[0].IsString() || !optional_string(info[1], type) || !info[2].IsTypedArray() ||
      !info[3].IsTypedArray()) {
    return type_error(env, "verifySignature(key: string, type: string | undefined, message: Uint8Array, sig: Uint8Array)");
  }
  c::PublicKey key;
  c::KeyError ke = c::parse_key_text(info[0].As<Napi::String>().Utf8Value(), type, key);
  if (ke != c::KeyError::ok) return failure(env, c::name(ke));
  c::VerifyError ve = c::verify_message(key, bytes_of(info[2]), bytes_of(info[3]));
  if (ve != c::VerifyError::ok) return failure(env, c::name(ve));
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  return o;
}

Napi::Value bench_raw_verify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) return type_error(env, "benchRawVerify({curve, iterations, threads, pool})");
  Napi::Object opts = info[0].As<Napi::Object>();
  verify::RawBenchOptions o;
  if (!curve_of(opts.Get("curve"), o.curve)) return type_error(env, "curve must be 'secp256k1' or 'p256'");
  Napi::Value it = opts.Get("iterations"), th = opts.Get("threads");
  if (it.IsNumber()) o.iterations = static_cast<uint64_t>(it.As<Napi::Number>().DoubleValue());
  if (th.IsNumber()) o.threads = th.As<Napi::Number>().Uint32Value();
  o.use_pool = opts.Get("pool").ToBoolean().Value();
  verify::RawBenchResult r = verify::bench_raw_verify(o);
  if (!r.ok) return failure(env, "setup_failed");
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", true);
  out.Set("curve", c::name(o.curve));
  out.Set("threads", r.threads);
  out.Set("pooled", r.pooled);
  out.Set("iterations", static_cast<double>(r.iterations));
  out.Set("failures", static_cast<double>(r.failures));
  out.Set("seconds", r.seconds);
  out.Set("verifiesPerSec", r.per_second);
  return out;
}

// --- KeyCache ---

class KeyCacheWrap : public Napi::ObjectWrap<KeyCacheWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "KeyCache",
                       {InstanceMethod<&KeyCacheWrap::set>("set"),
                        InstanceMethod<&KeyCacheWrap::remove>("delete"),
                        InstanceMethod<&KeyCacheWrap::lookup>("lookup"),
                        InstanceMethod<&KeyCacheWrap::clear>("clear"),
                        InstanceMethod<&KeyCacheWrap::stats>("stats")});
  }

  explicit KeyCacheWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KeyCacheWrap>(info) {
    verify::KeyCacheOptions o;
    if (info[0].IsObject()) {
      Napi::Object opts = info[0].As<Napi::Object>();
      Napi::Value cap = opts.Get("capacity"), shards = opts.Get("shards");
      if (cap.IsNumber()) o.capacity = static_cast<size_t>(cap.As<Napi::Number>().DoubleValue());
      if (shards.IsNumber()) o.shards = shards.As<Napi::Number>().Uint32Value();
    }
    cache_ = std::make_shared<verify::KeyCache>(o);
    info.This().As<Napi::Object>().TypeTag(&kKeyCacheTag);
  }

  const std::shared_ptr<verify::KeyCache>& cache() const { return cache_; }

 private:
  // set([{did, key, type?} | {did, unusable: reason?}]) -> (null | reason)[]: per entry, null
  // when a usable key was stored, else why it is stored as unusable.
  Napi::Value set(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) return type_error(env, "set(entries: {did, key?, type?, unusable?}[])");
    Napi::Array list = info[0].As<Napi::Array>();
    Napi::Array out = Napi::Array::New(env, list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value item = list.Get(i);
      if (!item.IsObject()) return type_error(env, "set: each entry must be an object");
      Napi::Object e = item.As<Napi::Object>();
      Napi::Value did = e.Get("did"), key = e.Get("key");
      std::string type;
      if (!did.IsString() || !optional_string(e.Get("type"), type)) {
        return type_error(env, "set: entry.did must be a string, entry.type a string if given");
      }
      std::string d = did.As<Napi::String>().Utf8Value();
      c::KeyError reason = c::KeyError::no_signing_key;
      if (key.IsString()) {
        c::PublicKey parsed;
        reason = c::parse_key_text(key.As<Napi::String>().Utf8Value(), type, parsed);
        if (reason == c::KeyError::ok) {
          cache_->set(d, c::make_key_ref(std::move(parsed)));
          out.Set(i, env.Null());
          continue;
        }
      } else if (!key.IsUndefined() && !key.IsNull()) {
        return type_error(env, "set: entry.key must be a string (did:key or multibase) or absent");
      }
      cache_->set_unusable(d, reason);
      out.Set(i, c::name(reason));
    }
    return out;
  }

  Napi::Value remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) return type_error(env, "delete(dids: string[])");
    Napi::Array list = info[0].As<Napi::Array>();
    uint32_t removed = 0;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value v = list.Get(i);
      if (!v.IsString()) return type_error(env, "delete: dids must be strings");
      removed += cache_->remove(v.As<Napi::String>().Utf8Value()) ? 1 : 0;
    }
    return Napi::Number::New(env, removed);
  }

  Napi::Value lookup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) return type_error(env, "lookup(dids: string[])");
    Napi::Array list = info[0].As<Napi::Array>();
    Napi::Array out = Napi::Array::New(env, list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value v = list.Get(i);
      if (!v.IsString()) return type_error(env, "lookup: dids must be strings");
      verify::KeyLookup r = cache_->lookup(v.As<Napi::String>().Utf8Value());
      Napi::Object o = Napi::Object::New(env);
      o.Set("state", verify::name(r.state));
      if (r.state != verify::KeyState::missing) o.Set("version", static_cast<double>(r.version));
      if (r.state == verify::KeyState::found) {
        o.Set("curve", c::name(r.key->curve()));
        o.Set("didKey", c::format_did_key(*r.key));
      }
      if (r.state == verify::KeyState::unusable) o.Set("reason", c::name(r.reason));
      out.Set(i, o);
    }
    return out;
  }

  Napi::Value clear(const Napi::CallbackInfo& info) {
    cache_->clear();
    return info.Env().Undefined();
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    verify::KeyCacheStats s = cache_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("hits", static_cast<double>(s.hits));
    o.Set("misses", static_cast<double>(s.misses));
    o.Set("stores", static_cast<double>(s.stores));
    o.Set("evictions", static_cast<double>(s.evictions));
    o.Set("removals", static_cast<double>(s.removals));
    o.Set("size", static_cast<double>(s.size));
    o.Set("capacity", static_cast<double>(cache_->capacity()));
    return o;
  }

  std::shared_ptr<verify::KeyCache> cache_;
};

void export_crypto(Napi::Env env, Napi::Object exports) {
  exports.Set("parseKey", Napi::Function::New(env, parse_key, "parseKey"));
  exports.Set("formatDidKey", Napi::Function::New(env, format_did_key, "formatDidKey"));
  exports.Set("verifySignature", Napi::Function::New(env, verify_signature, "verifySignature"));
  exports.Set("benchRawVerify", Napi::Function::New(env, bench_raw_verify, "benchRawVerify"));
  exports.Set("KeyCache", KeyCacheWrap::define(env));
}

}  // namespace

std::shared_ptr<verify::KeyCache> unwrap_key_cache(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kKeyCacheTag)) return nullptr;
  KeyCacheWrap* wrap = KeyCacheWrap::Unwrap(obj);
  return wrap != nullptr ? wrap->cache() : nullptr;
}

}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(crypto, ringlay::napi::export_crypto);
