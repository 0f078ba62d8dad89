// SPDX-License-Identifier: MIT
// Build facts JS can check at load time: addon ABI version and build flavour.
#include <napi.h>

#include "napi/registry.h"

namespace {

void export_version(Napi::Env env, Napi::Object exports) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("abi", Napi::Number::New(env, 1));
#if defined(__SANITIZE_ADDRESS__)
  info.Set("flavour", Napi::String::New(env, "asan"));
#elif defined(RINGLAY_DEBUG)
  info.Set("flavour", Napi::String::New(env, "debug"));
#else
  info.Set("flavour", Napi::String::New(env, "release"));
#endif
  exports.Set("build", info);
}

}  // namespace

RINGLAY_NAPI_EXPORT(version, export_version);
