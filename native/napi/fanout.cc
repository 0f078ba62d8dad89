// SPDX-License-Identifier: MIT
// FanoutCore: the native fan-out core (fanout/fanout.h) for the uWebSockets.js driver, which
// sends on the JS thread. One crossing per batch, never per frame or per consumer:
//
//   pump(frames?: Buffer[], report?: Float64Array) → {
//     published: Buffer[]   the frames just published, as Buffers over the core's own copy
//                           (JS keeps them by index instead of its originals: one copy of
//                           each frame in memory, shared by every consumer)
//     base: number          index of the oldest frame any consumer may still be sent
//     sends: Float64Array   per consumer [id, firstIndex, count, extra]: send frames
//                           firstIndex..+count as binary messages, then extras[extra] if ≥ 0
//     extras: { error?: Buffer, code, wireReason, reason }[]  error frame, then ws.end(code,
//                           wireReason); `reason` is the stable name JS reports
//     more: boolean         some consumer stopped at its estimated budget: report the real
//                           buffered amounts and pump again
//   }
//   report: pairs [id, bufferedBytes] for consumers whose uWS buffer changed (after sends,
//   on drain). A consumer whose uWS buffer holds Limits::batch_bytes or more gets nothing
//   more until a report says it drained, so bytes wait in the core (counted against its
//   bound, shared by all consumers) rather than as private copies inside uWS.
//
// The driver completes every batch in full as soon as it is handed out: uWS accepts whole
// messages and buffers what the socket does not take (fanout.h, "Message-level drivers").
#include <napi.h>

#include <string>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "fanout/fanout.h"
#include "napi/registry.h"

namespace {

using ringlay::BytesRef;
using ringlay::SharedBytes;
namespace fo = ringlay::fanout;

// Keeps the core's frame bytes alive while JS holds a Buffer over them.
void release_bytes(Napi::Env, uint8_t*, SharedBytes* bytes) { bytes->unref(); }

Napi::Buffer<uint8_t> buffer_over(Napi::Env env, const BytesRef& ref) {
  SharedBytes* b = ref.get();
  b->ref();
  return Napi::Buffer<uint8_t>::New(env, const_cast<uint8_t*>(b->data()), b->size(), release_bytes, b);
}

double number_or(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

class FanoutCore : public Napi::ObjectWrap<FanoutCore> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "FanoutCore",
                       {InstanceMethod<&FanoutCore::attach>("attach"),
                        InstanceMethod<&FanoutCore::remove>("remove"),
                        InstanceMethod<&FanoutCore::pump>("pump"),
                        InstanceMethod<&FanoutCore::stats>("stats")});
  }

  // new FanoutCore({ queueBytes, batchBytes?, batchItems? })
  explicit FanoutCore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FanoutCore>(info), core_(limits_of(info)) {}

 private:
  struct Consumer {
    fo::ConsumerId core_id = 0;
    double buffered = 0;   // last reported uWS buffered amount
    bool waiting = false;  // has more to send but was over its budget
  };

  // How a consumer the core has finished with must be ended.
  struct Ending {
    bool done = false;
    BytesRef error;  // the event-stream error frame to send first, if any
    uint16_t code = 0;
    std::string wire_text;  // what the close frame says ("ConsumerTooSlow"), not the metrics reason
  };

  static fo::Limits limits_of(const Napi::CallbackInfo& info) {
    fo::Limits l;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      l.queue_bytes = static_cast<size_t>(number_or(o, "queueBytes", static_cast<double>(l.queue_bytes)));
      l.batch_bytes = static_cast<size_t>(number_or(o, "batchBytes", static_cast<double>(l.batch_bytes)));
      l.batch_items = static_cast<size_t>(number_or(o, "batchItems", static_cast<double>(l.batch_items)));
    }
    return l;
  }

  // attach() → id: a consumer receiving the frames published from now on.
  Napi::Value attach(const Napi::CallbackInfo& info) {
    uint32_t id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    fo::ConsumerId core_id = core_.attach();
    consumers_[id] = Consumer{core_id};
    by_core_[core_id] = id;
    return Napi::Number::New(info.Env(), id);
  }

  // remove(id): the socket is gone.
  Napi::Value remove(const Napi::CallbackInfo& info) {
    auto it = consumers_.find(info[0].As<Napi::Number>().Uint32Value());
    if (it != consumers_.end()) {
      total_buffered_ -= it->second.buffered;
      core_.remove(it->second.core_id);
      by_core_.erase(it->second.core_id);
      consumers_.erase(it);
    }
    return info.Env().Undefined();
  }

  Napi::Value pump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("published", publish(env, info.Length() > 0 ? info[0] : env.Undefined()));
    if (env.IsExceptionPending()) return env.Undefined();
    apply_report(info.Length() > 1 ? info[1] : env.Undefined());

    core_.take_ready(ready_);
    for (fo::ConsumerId core_id : ready_) {
      auto it = by_core_.find(core_id);
      if (it != by_core_.end()) work_.push_back(it->second);
    }
    sends_.clear();
    Napi::Array extras = Napi::Array::New(env);
    bool more = false;
    for (uint32_t id : work_) more = serve(env, id, extras) || more;
    work_.clear();

    Napi::Float64Array sends = Napi::Float64Array::New(env, sends_.size());
    for (size_t i = 0; i < sends_.size(); ++i) sends[i] = sends_[i];
    out.Set("base", Napi::Number::New(env, static_cast<double>(core_.base_index())));
    out.Set("sends", sends);
    out.Set("extras", extras);
    out.Set("more", Napi::Boolean::New(env, more));
    return out;
  }

  Napi::Value publish(Napi::Env env, Napi::Value arg) {
    Napi::Array published = Napi::Array::New(env);
    if (!arg.IsArray()) return published;
    Napi::Array list = arg.As<Napi::Array>();
    std::vector<fo::PublishFrame> frames(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value v = list[i];
      if (!v.IsBuffer()) {
        Napi::TypeError::New(env, "pump: frames must be Buffers").ThrowAsJavaScriptException();
        return published;
      }
      Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
      frames[i].payload = BytesRef::copy_of(b.Data(), b.Length());
      if (!frames[i].payload) {
        Napi::Error::New(env, "pump: out of memory").ThrowAsJavaScriptException();
        return published;
      }
      published.Set(i, buffer_over(env, frames[i].payload));
    }
    core_.publish(frames);
    return published;
  }

  void apply_report(Napi::Value arg) {
    if (!arg.IsTypedArray() || arg.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return;
    Napi::Float64Array report = arg.As<Napi::Float64Array>();
    for (size_t i = 0; i + 1 < report.ElementLength(); i += 2) {
      auto it = consumers_.find(static_cast<uint32_t>(report[i]));
      if (it == consumers_.end()) continue;
      Consumer& c = it->second;
      total_buffered_ += report[i + 1] - c.buffered;
      c.buffered = report[i + 1];
      if (c.waiting && c.buffered < budget()) {
        c.waiting = false;
        work_.push_back(it->first);
      }
    }
  }

  double budget() const { return static_cast<double>(core_.limits().batch_bytes); }

  // Hands one consumer everything its budget allows; true when it stopped at the estimate
  // (its real buffered amount may be lower: the socket takes most writes at once).
  bool serve(Napi::Env env, uint32_t id, Napi::Array& extras) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) return false;
    Consumer& c = it->second;
    // A closing consumer is served even when backpressured: its error and close frames are
    // small, and they are what ends its claim on memory.
    bool closing = core_.mode(c.core_id) == fo::Mode::closing;
    double estimate = c.buffered;
    double first = -1;
    double count = 0;
    Ending ending;
    bool stopped = false;
    for (;;) {
      if (!closing && estimate >= budget()) {
        stopped = true;
        break;
      }
      fo::Action action = core_.next(c.core_id, batch_);
      if (action == fo::Action::none) break;
      if (action == fo::Action::close) {
        ending.done = true;
        break;
      }
      for (const fo::Item& item : batch_.items) {
        if (item.kind == fo::ItemKind::frame) {
          if (first < 0) first = static_cast<double>(item.index);
          count += 1;
        } else if (item.kind == fo::ItemKind::error) {
          ending.error = item.payload;
        } else if (item.kind == fo::ItemKind::close) {
          ending.done = true;
          ending.code = batch_.close_code;
          ending.wire_text = std::string(batch_.close_text);
        }
      }
      estimate += static_cast<double>(batch_.bytes);
      core_.complete(c.core_id, batch_, batch_.bytes);
      batch_.clear();
      if (ending.done) break;
    }
    double extra_index = -1;
    if (ending.done) {
      extra_index = extras.Length();
      extras.Set(extras.Length(), extra(env, c, ending));
      drop(id, c);
    } else if (stopped) {
      c.waiting = true;
    }
    push_send(id, first, count, extra_index);
    return stopped;
  }

  void push_send(uint32_t id, double first, double count, double extra) {
    if (count == 0 && extra < 0) return;
    sends_.insert(sends_.end(), {static_cast<double>(id), first < 0 ? 0 : first, count, extra});
  }

  Napi::Object extra(Napi::Env env, const Consumer& c, const Ending& ending) {
    Napi::Object e = Napi::Object::New(env);
    if (ending.error) e.Set("error", buffer_over(env, ending.error));
    uint16_t code = ending.code != 0 ? ending.code : core_.close_code(c.core_id);
    const char* reason = core_.close_reason(c.core_id);
    e.Set("code", Napi::Number::New(env, code));
    e.Set("wireReason", Napi::String::New(env, ending.wire_text.empty() ? std::string(reason) : ending.wire_text));
    e.Set("reason", Napi::String::New(env, reason));
    return e;
  }

  // The core is done with a closing consumer: JS ends the socket and calls remove(), which
  // is then a no-op.
  void drop(uint32_t id, Consumer& c) {
    total_buffered_ -= c.buffered;
    core_.remove(c.core_id);
    by_core_.erase(c.core_id);
    consumers_.erase(id);
  }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    fo::Stats s = core_.stats();
    Napi::Object o = Napi::Object::New(env);
    auto set = [&](const char* key, double v) { o.Set(key, Napi::Number::New(env, v)); };
    set("consumers", static_cast<double>(s.consumers));
    set("queuedBytes", static_cast<double>(s.queued_bytes));
    set("bufferedBytes", total_buffered_);
    set("retainedFrames", static_cast<double>(s.retained_frames));
    set("retainedBytes", static_cast<double>(s.retained_bytes));
    set("framesPublished", static_cast<double>(s.frames_published));
    set("bytesPublished", static_cast<double>(s.bytes_published));
    set("tooSlowEvictions", static_cast<double>(s.too_slow_evictions));
    return o;
  }

  fo::Fanout core_;
  std::unordered_map<uint32_t, Consumer> consumers_;
  std::unordered_map<fo::ConsumerId, uint32_t> by_core_;
  uint32_t next_id_ = 1;
  double total_buffered_ = 0;
  // Scratch reused across pumps.
  std::vector<fo::ConsumerId> ready_;
  std::vector<uint32_t> work_;
  std::vector<double> sends_;
  fo::SendBatch batch_;
};

void export_fanout(Napi::Env env, Napi::Object exports) {
  exports.Set("FanoutCore", FanoutCore::define(env));
}

}  // namespace

RINGLAY_NAPI_EXPORT(fanout, export_fanout);
