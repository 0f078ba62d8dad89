// SPDX-License-Identifier: MIT
// What the policy layer (JS) sends back for pending events, in one crossing per batch
// (lib/relay/pipeline-types.ts, Decision), and the frames the relay builds itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringlay::relay {

enum class Action : uint8_t {
  accept,   // sequence, log and publish the upstream frame (only seq patched)
  drop,     // release it (JS counts the reason)
  retry,    // validate it again (the key cache changed)
  replace,  // release it and sequence a relay-built frame in its place
  emit,     // sequence a relay-built frame tied to no upstream event
};
const char* name(Action a);

// A relay-built #account / #identity frame (encoded by synth.h).
struct SynthFrame {
  enum class Kind : uint8_t { account, identity };
  Kind kind = Kind::account;
  std::string did;
  std::string time;
  bool active = false;                // #account
  std::optional<std::string> status;  // #account, only when inactive
  std::optional<std::string> handle;  // #identity
};

struct Decision {
  Action action = Action::drop;
  uint64_t id = 0;     // the pending event (not for emit)
  int32_t frame = -1;  // replace/emit: index into DecisionBatch::frames
};

// Decisions in the order JS made them; for one DID that is upstream order, and the log
// appends accepted events in exactly this order.
struct DecisionBatch {
  std::vector<Decision> decisions;
  std::vector<SynthFrame> frames;
};

}  // namespace ringlay::relay
