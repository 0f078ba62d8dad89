// SPDX-License-Identifier: MIT
// FanoutCore: the native fan-out core (fanout/fanout.h) for the uWebSockets.js driver, which
// sends on the JS thread. One crossing per batch, never per frame or per consumer:
//
//   pump(frames?: Buffer[], report?: Float64Array, seqs?: number[]) → {
//     published: Buffer[]   the frames just published, as Buffers over the core's own copy
//                           (JS keeps them by index instead of its originals: one copy of
//                           each frame in memory, shared by every consumer)
//     base: number          index of the oldest frame any consumer may still be sent
//     sends: Float64Array   quadruples [id, op, a, b], in wire order per consumer:
//                             op 0: send window frames a..a+b-1 (by index) as binary messages
//                             op 1: send messages[a..a+b-1] (frames read from the event log,
//                                   #info) as binary messages
//                             op 2: send extras[a].error if any, then ws.end(code, wireReason)
//     messages: Buffer[]    Buffers over log chunks (no copy) and #info frames, for op 1
//     extras: { error?: Buffer, code, wireReason, reason }[]  `reason` is the stable name JS
//                           reports
//     more: boolean         some consumer stopped at its estimated budget: report the real
//                           buffered amounts and pump again
//   }
//   seqs: the frames' relay seqs (strictly increasing), required once a replay log is set.
//
// Cursors and catch-up (fanout.h, relay/replay_cursor.h, relay/replay_reader.h):
//   cursorError(query) → string | null   the 400 body for a bad ?cursor= (counted), else null
//   attach(query?) → { id, start }       the cursor decision, then the consumer; start is
//                                        live | replay | outdated | future
//   setReplayLog(source, onWake)         source: RelayPipeline or EventLogCore. Log reads run
//                                        on the replay thread; onWake() is called on the JS
//                                        thread when chunks wait: pump() then.
//   close()                              stops the replay thread (also on finalization)
//   report: pairs [id, bufferedBytes] for consumers whose uWS buffer changed (after sends,
//   on drain). A consumer whose uWS buffer holds Limits::batch_bytes or more gets nothing
//   more until a report says it drained, so bytes wait in the core (counted against its
//   bound, shared by all consumers) rather than as private copies inside uWS.
//
// The driver completes every batch in full as soon as it is handed out: uWS accepts whole
// messages and buffers what the socket does not take (fanout.h, "Message-level drivers").
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fanout/fanout.h"
#include "napi/registry.h"
#include "napi/relay.h"
#include "napi/replay_log.h"
#include "relay/replay_cursor.h"
#include "relay/replay_reader.h"

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
                        InstanceMethod<&FanoutCore::attach_publisher>("attachPublisher"),
                        InstanceMethod<&FanoutCore::cursor_error>("cursorError"),
                        InstanceMethod<&FanoutCore::set_replay_log>("setReplayLog"),
                        InstanceMethod<&FanoutCore::close>("close"),
                        InstanceMethod<&FanoutCore::stats>("stats")});
  }

  // new FanoutCore({ queueBytes, batchBytes?, batchItems? })
  explicit FanoutCore(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FanoutCore>(info), core_(limits_of(info)) {}
  // Frames the relay writes from now on have nobody to go to: the queue stops taking them.
  ~FanoutCore() override {
    stop_replay();
    if (relay_queue_) relay_queue_->set_attached(false);
  }

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
      l.read_bytes = static_cast<size_t>(number_or(o, "readBytes", static_cast<double>(l.read_bytes)));
      l.max_lag_seqs = static_cast<uint64_t>(number_or(o, "maxLagSeqs", static_cast<double>(l.max_lag_seqs)));
      l.min_window_bytes = static_cast<size_t>(number_or(o, "minWindowBytes", static_cast<double>(l.min_window_bytes)));
    }
    return l;
  }

  // attach(query?) → { id, start }: the cursor decision (relay/replay_cursor.h), then the
  // consumer. A bad cursor never gets here: uws.ts asked cursorError() before the upgrade.
  Napi::Value attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string query = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    ringlay::relay::CursorParam cursor = ringlay::relay::parse_cursor(query);
    if (cursor.bad) cursor = {};  // (not reached: refused before the upgrade)
    ringlay::relay::StartDecision d = ringlay::relay::decide_start(cursor, replay_ ? &replay_->log() : nullptr);
    uint32_t id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    fo::ConsumerId core_id = core_.attach_from(d);
    consumers_[id] = Consumer{core_id};
    by_core_[core_id] = id;
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", Napi::Number::New(env, id));
    out.Set("start", Napi::String::New(env, fo::name(d.start)));
    return out;
  }

  // cursorError(query) → the 400 body for a bad ?cursor= (counted as cursor_bad), or null.
  Napi::Value cursor_error(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string query = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (!ringlay::relay::parse_cursor(query).bad) return env.Null();
    core_.count_bad_cursor();
    return Napi::String::New(env, ringlay::relay::bad_cursor_body());
  }

  // setReplayLog(source, onWake): see the header comment.
  Napi::Value set_replay_log(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<ringlay::log_store::EventLog> log = info.Length() > 0 ? ringlay::napi::replay_log_of(info[0]) : nullptr;
    if (log == nullptr || info.Length() < 2 || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "setReplayLog(source: RelayPipeline | EventLogCore, onWake: () => void)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (replay_ != nullptr) return Napi::Boolean::New(env, false);  // set once
    wake_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "ringlay.replay", 0, 1);
    wake_.Unref(env);  // the transport's sockets keep the process alive, not this
    Napi::ThreadSafeFunction wake = wake_;
    std::string error;
    // What the log holds now was never published to this core (a restart) or waits in the
    // relay's publish queue; JS frames must go above it, and consumers below it read the log.
    const uint64_t written = log->written_seq();
    last_seq_ = std::max(last_seq_, written);
    replay_ = ringlay::relay::ReplayReader::start(std::move(log), [wake]() mutable { wake.NonBlockingCall(); }, &error);
    if (replay_ == nullptr) {
      wake_.Release();
      Napi::Error::New(env, "setReplayLog: " + error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    core_.start_after(written);
    core_.set_catch_up(true);
    return Napi::Boolean::New(env, true);
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    stop_replay();
    return info.Env().Undefined();
  }

  void stop_replay() {
    if (replay_ == nullptr) return;
    replay_.reset();  // joins the thread: no wake-up after this
    wake_.Release();
  }

  // Chunks the replay thread read go to their consumers; the reads the core wants go to it.
  void service_replay() {
    if (replay_ == nullptr) return;
    replay_->take(read_results_);
    for (ringlay::relay::ReplayResult& r : read_results_) core_.supply(r.id, std::move(r.chunk));
    read_results_.clear();
  }

  void post_reads() {
    core_.take_reads(read_requests_);
    if (replay_ != nullptr) replay_->post(read_requests_);
    read_requests_.clear();
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
    out.Set("published", publish(env, info.Length() > 0 ? info[0] : env.Undefined(),
                                 info.Length() > 2 ? info[2] : env.Undefined()));
    if (env.IsExceptionPending()) return env.Undefined();
    apply_report(info.Length() > 1 ? info[1] : env.Undefined());
    service_replay();

    core_.take_ready(ready_);
    for (fo::ConsumerId core_id : ready_) {
      auto it = by_core_.find(core_id);
      if (it != by_core_.end()) work_.push_back(it->second);
    }
    sends_.clear();
    Napi::Array extras = Napi::Array::New(env);
    Napi::Array messages = Napi::Array::New(env);
    bool more = false;
    for (uint32_t id : work_) more = serve(env, id, extras, messages) || more;
    work_.clear();
    post_reads();  // chunks used up while serving: the next reads start now

    Napi::Float64Array sends = Napi::Float64Array::New(env, sends_.size());
    for (size_t i = 0; i < sends_.size(); ++i) sends[i] = sends_[i];
    out.Set("base", Napi::Number::New(env, static_cast<double>(core_.base_index())));
    out.Set("sends", sends);
    out.Set("messages", messages);
    out.Set("extras", extras);
    out.Set("more", Napi::Boolean::New(env, more));
    return out;
  }

  // attachPublisher(pipeline: RelayPipeline native) → boolean: from now on every pump() first
  // publishes the frames the relay pipeline wrote to its log (relay/publish_queue.h), taken
  // natively (no copy through JS) and returned first in `published`, with their relay seqs.
  Napi::Value attach_publisher(const Napi::CallbackInfo& info) {
    std::shared_ptr<ringlay::relay::RelayCore> core = ringlay::napi::unwrap_relay(info[0]);
    if (core == nullptr) return Napi::Boolean::New(info.Env(), false);
    if (relay_queue_) relay_queue_->set_attached(false);
    relay_queue_ = core->publish_queue();
    relay_queue_->set_attached(true);
    return Napi::Boolean::New(info.Env(), true);
  }

  // JS frames' relay seqs (napi/replay_log.h), required once a replay log is set.
  bool seqs_of(Napi::Env env, Napi::Value arg, uint32_t count, std::vector<fo::PublishFrame>& frames) {
    if (!arg.IsArray()) {
      if (replay_ == nullptr || count == 0) return true;
      Napi::TypeError::New(env, "pump: frames need their relay seqs once a replay log is set").ThrowAsJavaScriptException();
      return false;
    }
    seqs_.clear();
    if (!ringlay::napi::relay_seqs_of(env, arg, count, &last_seq_, seqs_)) return false;
    for (uint32_t i = 0; i < count; ++i) frames[i].seq = seqs_[i];
    return true;
  }

  Napi::Value publish(Napi::Env env, Napi::Value arg, Napi::Value seqs) {
    Napi::Array published = Napi::Array::New(env);
    if (relay_queue_) {
      relay_queue_->take(relay_frames_);
      for (size_t i = 0; i < relay_frames_.size(); ++i) published.Set(static_cast<uint32_t>(i), buffer_over(env, relay_frames_[i].payload));
      if (!relay_frames_.empty()) {
        last_seq_ = std::max(last_seq_, relay_frames_.back().seq);
        core_.publish(relay_frames_);
      }
      relay_frames_.clear();
    }
    if (!arg.IsArray()) return published;
    const uint32_t base = published.Length();
    Napi::Array list = arg.As<Napi::Array>();
    std::vector<fo::PublishFrame> frames(list.Length());
    if (!seqs_of(env, seqs, list.Length(), frames)) return published;
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
      published.Set(base + i, buffer_over(env, frames[i].payload));
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

  // One consumer's sends of one pump, in wire order: runs of window frames (op 0, by index)
  // and of messages (op 1: log frames and #info, as Buffers), then its end (op 2).
  struct Runs {
    std::vector<double>& out;
    double id;
    double op = -1, a = 0, b = 0;
    void add(double kind, double index) {
      if (op == kind && index == a + b) {
        b += 1;
        return;
      }
      flush();
      op = kind;
      a = index;
      b = 1;
    }
    void flush() {
      if (op >= 0) out.insert(out.end(), {id, op, a, b});
      op = -1;
    }
  };

  // Hands one consumer everything its budget allows; true when it stopped at the estimate
  // (its real buffered amount may be lower: the socket takes most writes at once).
  bool serve(Napi::Env env, uint32_t id, Napi::Array& extras, Napi::Array& messages) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) return false;
    Consumer& c = it->second;
    // A closing consumer is served even when backpressured: its error and close frames are
    // small, and they are what ends its claim on memory.
    bool closing = core_.mode(c.core_id) == fo::Mode::closing;
    double estimate = c.buffered;
    Runs runs{sends_, static_cast<double>(id)};
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
      for (const fo::Item& item : batch_.items) take_item(env, item, runs, messages, ending);
      estimate += static_cast<double>(batch_.bytes);
      core_.complete(c.core_id, batch_, batch_.bytes);
      batch_.clear();
      if (ending.done) break;
    }
    runs.flush();
    if (ending.done) {
      sends_.insert(sends_.end(), {static_cast<double>(id), 2, static_cast<double>(extras.Length()), 0});
      extras.Set(extras.Length(), extra(env, c, ending));
      drop(id, c);
    } else if (stopped) {
      c.waiting = true;
    }
    return stopped;
  }

  void take_item(Napi::Env env, const fo::Item& item, Runs& runs, Napi::Array& messages, Ending& ending) {
    switch (item.kind) {
      case fo::ItemKind::frame:
        if (!item.from_disk) {
          runs.add(0, static_cast<double>(item.index));
          return;
        }
        [[fallthrough]];
      case fo::ItemKind::info:
        runs.add(1, messages.Length());
        messages.Set(messages.Length(), slice_over(env, item));
        return;
      case fo::ItemKind::error:
        ending.error = item.payload;
        return;
      case fo::ItemKind::close:
        ending.done = true;
        ending.code = batch_.close_code;
        ending.wire_text = std::string(batch_.close_text);
        return;
      case fo::ItemKind::control:
        return;  // uWS answers pings itself and writes the 101
    }
  }

  // A Buffer over an item's message bytes (a slice of a log chunk): no copy, the chunk stays
  // alive until the Buffer is collected.
  static Napi::Value slice_over(Napi::Env env, const fo::Item& item) {
    SharedBytes* b = item.payload.get();
    b->ref();
    return Napi::Buffer<uint8_t>::New(env, const_cast<uint8_t*>(item.data()), item.size, release_bytes, b);
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
    set("consumersLive", static_cast<double>(s.consumers_live));
    set("consumersCatchingUp", static_cast<double>(s.consumers_catching_up));
    set("catchUpChunkBytes", static_cast<double>(s.chunk_bytes_held));
    set("catchUpReads", static_cast<double>(s.catch_up_reads));
    set("catchUpBytesRead", static_cast<double>(s.catch_up_bytes_read));
    set("catchUpFramesSent", static_cast<double>(s.catch_up_frames_sent));
    set("catchUpFallbacks", static_cast<double>(s.fallbacks));
    set("catchUpHandoffs", static_cast<double>(s.handoffs));
    set("tooSlowQueue", static_cast<double>(s.too_slow_queue));
    set("tooSlowLag", static_cast<double>(s.too_slow_lag));
    set("tooSlowGap", static_cast<double>(s.too_slow_gap));
    set("replayReadErrors", static_cast<double>(s.read_errors));
    set("cursorLive", static_cast<double>(s.cursor_live));
    set("cursorReplay", static_cast<double>(s.cursor_replay));
    set("cursorOutdated", static_cast<double>(s.cursor_outdated));
    set("cursorFuture", static_cast<double>(s.cursor_future));
    set("cursorBad", static_cast<double>(s.cursor_bad));
    return o;
  }

  fo::Fanout core_;
  std::unordered_map<uint32_t, Consumer> consumers_;
  std::unordered_map<fo::ConsumerId, uint32_t> by_core_;
  uint32_t next_id_ = 1;
  double total_buffered_ = 0;
  std::shared_ptr<ringlay::relay::PublishQueue> relay_queue_;  // attachPublisher
  std::vector<fo::PublishFrame> relay_frames_;
  // Consumer replay (setReplayLog): the reader thread and its wake-up into JS.
  std::unique_ptr<ringlay::relay::ReplayReader> replay_;
  Napi::ThreadSafeFunction wake_;
  std::vector<ringlay::relay::ReplayResult> read_results_;
  std::vector<fo::ReadRequest> read_requests_;
  uint64_t last_seq_ = 0;  // newest seq published (JS frames must go above it)
  std::vector<uint64_t> seqs_;
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
