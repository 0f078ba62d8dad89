// SPDX-License-Identifier: MIT
// For other native/napi files: the relay pipeline (native/relay/relay_core.h) behind a JS
// RelayPipeline object made by relay.cc. The uWS fan-out (fanout.cc) takes its PublishQueue;
// consumer replay reads its EventLog (RelayCore::log()).
#pragma once

#include <napi.h>

#include <memory>

#include "relay/relay_core.h"

namespace ringlay::napi {

// Null when `value` is not an open RelayPipeline (checked with a napi type tag).
std::shared_ptr<relay::RelayCore> unwrap_relay(Napi::Value value);

// JS payloads of the pipeline (relay_js.cc): all queued Outputs as one object, and the
// compact decision form parsed back. See relay.cc for the shapes.
Napi::Object output_payload(Napi::Env env, std::vector<relay::Output>& outputs);
// False (TypeError thrown) on misuse.
bool parse_decisions(Napi::Env env, const Napi::CallbackInfo& info, relay::DecisionBatch* out);
// The name tables the payload's indexes refer to: {types, verdicts, flags}.
Napi::Object payload_names(Napi::Env env);

}  // namespace ringlay::napi
