// SPDX-License-Identifier: MIT
// The event log a transport replays consumers from (setReplayLog on both transports): the relay
// pipeline's own log (a RelayPipeline object, napi/relay.h) or a log JS opened itself (an
// EventLogCore, napi/event_log.h: tests, tools).
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "log/event_log.h"

namespace ringlay::napi {

// Null when `value` is neither (or the log is closed).
std::shared_ptr<log_store::EventLog> replay_log_of(Napi::Value value);

// The relay seqs JS gives with `count` frames (broadcast, pump): an array, one per frame,
// strictly increasing above *last and below 2^53 (the fan-out finds hand-off points by seq).
// Appends them to `out` and advances *last; false (TypeError thrown, *last unchanged) on misuse.
bool relay_seqs_of(Napi::Env env, Napi::Value arg, uint32_t count, uint64_t* last, std::vector<uint64_t>& out);

}  // namespace ringlay::napi
