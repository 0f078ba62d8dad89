// SPDX-License-Identifier: MIT
// Runs every registered native test case. The tests are linked into a small Node addon
// (build/native-*/ringlay_tests.node) rather than an executable, so OpenSSL resolves from the
// node binary exactly as it does for the real addon: no libssl-dev is needed to run them.
// scripts/run-native-tests.mjs loads it and calls run([filters...]).
#include <node_api.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

namespace ringlay::test {
namespace {

struct Case {
  const char* name;
  const char* file;
  TestFn fn;
};

std::vector<Case>& cases() {
  static std::vector<Case> list;
  return list;
}

int failures_in_case = 0;
std::string skip_reason;

}  // namespace

Registration::Registration(const char* name, const char* file, TestFn fn) {
  cases().push_back({name, file, fn});
}

bool fail(const char* file, int line, const std::string& what) {
  ++failures_in_case;
  std::fprintf(stderr, "    %s:%d: %s\n", file, line, what.c_str());
  return false;
}

void skip(const std::string& reason) { skip_reason = reason; }

std::string shared_dir() {
  const char* env = std::getenv("RINGLAY_SHARED_DIR");
  std::string dir = env != nullptr ? env : "../shared";
  return access((dir + "/atproto").c_str(), R_OK) == 0 ? dir : "";
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace ringlay::test

namespace {

int run_cases(const std::vector<std::string>& filters) {
  using namespace ringlay::test;
  int passed = 0, failed = 0, skipped = 0;
  for (const Case& c : cases()) {
    bool selected = filters.empty();
    for (const std::string& f : filters) {
      selected |= std::strstr(c.name, f.c_str()) != nullptr || std::strstr(c.file, f.c_str()) != nullptr;
    }
    if (!selected) continue;
    failures_in_case = 0;
    skip_reason.clear();
    c.fn();
    if (failures_in_case > 0) {
      ++failed;
      std::fprintf(stderr, "FAIL %s (%s)\n", c.name, c.file);
    } else if (!skip_reason.empty()) {
      ++skipped;
      std::fprintf(stderr, "SKIP %s: %s\n", c.name, skip_reason.c_str());
    } else {
      ++passed;
    }
  }
  std::fprintf(stderr, "native tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed;
}

// run(filters: string[]): number of failed cases.
napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::vector<std::string> filters;
  uint32_t n = 0;
  if (argc == 1 && napi_get_array_length(env, argv[0], &n) == napi_ok) {
    for (uint32_t i = 0; i < n; ++i) {
      napi_value v;
      char buf[256];
      size_t len = 0;
      napi_get_element(env, argv[0], i, &v);
      if (napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) == napi_ok) filters.emplace_back(buf, len);
    }
  }
  napi_value result;
  napi_create_int32(env, run_cases(filters), &result);
  return result;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "run", NAPI_AUTO_LENGTH, js_run, nullptr, &fn);
  napi_set_named_property(env, exports, "run", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(ringlay_tests, init)
