// SPDX-License-Identifier: MIT
#include "util/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>

namespace ringlay::log {
namespace {

std::mutex mu;
std::vector<Record> pending;
uint64_t dropped = 0;

uint64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void write(Level level, const char* component, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  Record r{level, now_ms(), component, buf};
  std::lock_guard<std::mutex> lock(mu);
  if (pending.size() >= kMaxPending) {
    ++dropped;
    return;
  }
  pending.push_back(std::move(r));
}

uint64_t take(std::vector<Record>& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mu);
  std::swap(out, pending);
  uint64_t d = dropped;
  dropped = 0;
  return d;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

}  // namespace ringlay::log
