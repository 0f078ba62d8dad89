// SPDX-License-Identifier: MIT
// Relay-built frames: the #account re-emitted with the combined status, takedowns, #identity
// after a handle change (lib/relay/pipeline-types.ts, SynthFrame). Canonical DAG-CBOR:
//
//   header {t: "#account" | "#identity", op: 1}
//   #account  {did, seq, time, active, status?}   (keys in canonical order)
//   #identity {did, seq, time, handle?}
//
// `seq` is written as 0, a placeholder the log thread patches like an upstream frame's (the
// SeqLocation says where). Every frame built is parsed back with the firehose parser and its
// identifiers syntax-checked before it is handed out: the relay never emits a frame it would
// reject from an upstream.
#pragma once

#include <cstdint>
#include <vector>

#include "firehose/frame.h"
#include "relay/decision.h"
#include "util/shared_bytes.h"

namespace ringlay::relay {

enum class SynthError : uint8_t {
  ok,
  missing_did,
  missing_time,
  empty_status,
  empty_handle,
  invalid_frame,  // the encoded frame fails parsing or syntax (bad did, time or handle text)
  out_of_memory,
};
const char* name(SynthError e);

class SynthEncoder {
 public:
  // The frame with seq 0; *seq_location is where the seq sits. Empty on failure.
  BytesRef encode(const SynthFrame& f, firehose::SeqLocation* seq_location, SynthError* error);

 private:
  std::vector<uint8_t> buf_;
  firehose::Parser parser_;
  firehose::Frame parsed_;
};

}  // namespace ringlay::relay
