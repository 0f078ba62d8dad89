// SPDX-License-Identifier: MIT
// Module init only: runs every registration from RINGLAY_NAPI_EXPORT.
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "napi/registry.h"

namespace ringlay::napi {
namespace {

struct Entry {
  const char* name;
  ExportFn fn;
};

// Function-local static: registrations in other translation units may run before any
// namespace-scope object of this file is constructed.
std::vector<Entry>& entries() {
  static std::vector<Entry> list;
  return list;
}

}  // namespace

ExportRegistration::ExportRegistration(const char* name, ExportFn fn) {
  entries().push_back({name, fn});
}

void init_all(Napi::Env env, Napi::Object exports) {
  auto& list = entries();
  std::sort(list.begin(), list.end(),
            [](const Entry& a, const Entry& b) { return std::strcmp(a.name, b.name) < 0; });
  for (const Entry& e : list) e.fn(env, exports);
}

}  // namespace ringlay::napi

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  ringlay::napi::init_all(env, exports);
  return exports;
}

NODE_API_MODULE(ringlay, init)
