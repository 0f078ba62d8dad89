// SPDX-License-Identifier: MIT
#include "napi/replay_log.h"

#include "napi/event_log.h"
#include "napi/relay.h"

namespace ringlay::napi {

std::shared_ptr<log_store::EventLog> replay_log_of(Napi::Value value) {
  if (std::shared_ptr<relay::RelayCore> core = unwrap_relay(value)) return core->log();
  return unwrap_event_log(value);
}

bool relay_seqs_of(Napi::Env env, Napi::Value arg, uint32_t count, uint64_t* last, std::vector<uint64_t>& out) {
  Napi::Array seqs = arg.IsArray() ? arg.As<Napi::Array>() : Napi::Array::New(env);
  uint64_t prev = *last;
  size_t first = out.size();
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value v = seqs.Get(i);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (seqs.Length() != count || !(d > static_cast<double>(prev)) || d > 9007199254740991.0) {
      out.resize(first);
      Napi::TypeError::New(env, "seqs must be the frames' relay seqs: one per frame, strictly increasing").ThrowAsJavaScriptException();
      return false;
    }
    prev = static_cast<uint64_t>(d);
    out.push_back(prev);
  }
  *last = prev;
  return true;
}

}  // namespace ringlay::napi
