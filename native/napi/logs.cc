// SPDX-License-Identifier: MIT
// takeLogs(): drains native log records for lib/logger.ts, which writes them as JSON lines.
#include <napi.h>

#include "napi/registry.h"
#include "util/log.h"

namespace {

Napi::Value take_logs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<ringlay::log::Record> records;
  uint64_t dropped = ringlay::log::take(records);
  Napi::Array list = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("level", ringlay::log::level_name(r.level));
    o.Set("time", Napi::Number::New(env, static_cast<double>(r.time_ms)));
    o.Set("component", r.component);
    o.Set("msg", r.message);
    list.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("records", list);
  result.Set("dropped", Napi::Number::New(env, static_cast<double>(dropped)));
  return result;
}

void export_logs(Napi::Env env, Napi::Object exports) {
  exports.Set("takeLogs", Napi::Function::New(env, take_logs, "takeLogs"));
}

}  // namespace

RINGLAY_NAPI_EXPORT(logs, export_logs);
