// SPDX-License-Identifier: MIT
// For other native/napi files: the event log behind a JS EventLogCore object (event_log.cc),
// e.g. for consumer replay in tests and tools that open a log themselves (replay_log.h).
#pragma once

#include <napi.h>

#include <memory>

#include "log/event_log.h"

namespace ringlay::napi {

// Option and result conversions shared by EventLogCore and RelayPipeline (relay.cc), which
// both open an event log from the same JS options.
double num_option(const Napi::Object& o, const char* key, double fallback);
// Non-positive and non-numbers → 0 (a missing key → fallback).
uint64_t u64_option(const Napi::Object& o, const char* key, uint64_t fallback);
Napi::Number number(Napi::Env env, uint64_t v);
Napi::Object status_object(Napi::Env env, const log_store::Status& st);
Napi::Object recovery_object(Napi::Env env, const log_store::RecoveryReport& r);
// dataDir (the caller checked it is a string), initialSeq, segmentMaxBytes, segmentMaxRecords,
// segmentMaxAgeMs, syncIntervalMs, syncBytes, leaseBlock, replayWindowMs, maxDiskBytes, bootId.
log_store::Options log_options(const Napi::Object& o);

// Null when `value` is not an EventLogCore (checked with a napi type tag) or it is not open.
std::shared_ptr<log_store::EventLog> unwrap_event_log(Napi::Value value);

}  // namespace ringlay::napi
