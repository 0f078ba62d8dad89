// SPDX-License-Identifier: MIT
// For other native/napi files: the event log behind a JS EventLogCore object (event_log.cc),
// e.g. for consumer replay in tests and tools that open a log themselves (replay_log.h).
#pragma once

#include <napi.h>

#include <memory>

#include "log/event_log.h"

namespace ringlay::napi {

// Null when `value` is not an EventLogCore (checked with a napi type tag) or it is not open.
std::shared_ptr<log_store::EventLog> unwrap_event_log(Napi::Value value);

}  // namespace ringlay::napi
