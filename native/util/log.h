// SPDX-License-Identifier: MIT
// Native log records. Native threads never write to stdout or stderr (zlay: prints from many
// threads corrupted output); they push records here and JS drains them with takeLogs() and
// writes JSON lines. The queue is bounded: past kMaxPending records are counted as dropped
// instead of growing memory during a log storm.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>
#include <vector>

namespace ringlay::log {

enum class Level : uint8_t { debug = 0, info = 1, warn = 2, error = 3 };

struct Record {
  Level level;
  uint64_t time_ms;
  std::string component;  // e.g. "io", "tls", "codec"
  std::string message;
};

inline constexpr size_t kMaxPending = 10000;

void write(Level level, const char* component, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Moves every pending record into `out`; returns how many were dropped since the last call.
uint64_t take(std::vector<Record>& out);

const char* level_name(Level level);

}  // namespace ringlay::log

#define RL_LOG_DEBUG(component, ...) ::ringlay::log::write(::ringlay::log::Level::debug, component, __VA_ARGS__)
#define RL_LOG_INFO(component, ...) ::ringlay::log::write(::ringlay::log::Level::info, component, __VA_ARGS__)
#define RL_LOG_WARN(component, ...) ::ringlay::log::write(::ringlay::log::Level::warn, component, __VA_ARGS__)
#define RL_LOG_ERROR(component, ...) ::ringlay::log::write(::ringlay::log::Level::error, component, __VA_ARGS__)
