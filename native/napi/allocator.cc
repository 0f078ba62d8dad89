// SPDX-License-Identifier: MIT
// tuneAllocator({trimThresholdBytes, topPadBytes}) -> boolean
//
// Why: the relay's threads allocate and free frame-sized buffers at tens of thousands per
// second. With glibc's defaults each arena's top is trimmed back to the kernel as soon as it
// frees 128 KiB and regrown on the next burst, so the ring thread spent ~5 % of the relay's
// CPU in page faults zeroing the same memory again (perf, bench/relay.ts). A higher trim
// threshold and top pad keep that memory in the process. `serve` calls this once at start;
// tests and library users keep glibc's defaults.
#include <malloc.h>
#include <napi.h>

#include <cstdint>

#include "napi/registry.h"

namespace {

Napi::Value tune_allocator(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "tuneAllocator({trimThresholdBytes, topPadBytes})").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  auto get = [&](const char* key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
  };
  const double trim = get("trimThresholdBytes", 256.0 * 1024 * 1024);
  const double pad = get("topPadBytes", 16.0 * 1024 * 1024);
  if (!(trim >= 0 && trim <= INT32_MAX && pad >= 0 && pad <= INT32_MAX)) {
    Napi::RangeError::New(env, "tuneAllocator: sizes must be between 0 and 2^31-1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // mallopt returns 1 on success; sanitizer runtimes replace malloc and may refuse.
  const bool ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim)) == 1 && mallopt(M_TOP_PAD, static_cast<int>(pad)) == 1;
  return Napi::Boolean::New(env, ok);
}

void export_allocator(Napi::Env env, Napi::Object exports) {
  exports.Set("tuneAllocator", Napi::Function::New(env, tune_allocator, "tuneAllocator"));
}

}  // namespace

RINGLAY_NAPI_EXPORT(allocator, export_allocator);
