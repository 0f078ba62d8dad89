// SPDX-License-Identifier: MIT
// Each native/napi/*.cc file registers its exports with RINGLAY_NAPI_EXPORT, so adding a
// module never means editing a shared init function. Registrations run as static
// initializers when the addon is loaded; addon.cc calls them in name order.
#pragma once

#include <napi.h>

namespace ringlay::napi {

using ExportFn = void (*)(Napi::Env env, Napi::Object exports);

struct ExportRegistration {
  ExportRegistration(const char* name, ExportFn fn);
};

void init_all(Napi::Env env, Napi::Object exports);

}  // namespace ringlay::napi

#define RINGLAY_NAPI_EXPORT(name, fn) \
  static ::ringlay::napi::ExportRegistration ringlay_export_##name(#name, fn)
