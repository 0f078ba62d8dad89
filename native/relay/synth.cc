// SPDX-License-Identifier: MIT
#include "relay/synth.h"

#include "cbor/encoder.h"

namespace ringlay::relay {

const char* name(SynthError e) {
  switch (e) {
    case SynthError::ok: return "ok";
    case SynthError::missing_did: return "missing_did";
    case SynthError::missing_time: return "missing_time";
    case SynthError::empty_status: return "empty_status";
    case SynthError::empty_handle: return "empty_handle";
    case SynthError::invalid_frame: return "invalid_frame";
    case SynthError::out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

const char* name(Action a) {
  switch (a) {
    case Action::accept: return "accept";
    case Action::drop: return "drop";
    case Action::retry: return "retry";
    case Action::replace: return "replace";
    case Action::emit: return "emit";
  }
  return "unknown";
}

namespace {

SynthError check_fields(const SynthFrame& f) {
  if (f.did.empty()) return SynthError::missing_did;
  if (f.time.empty()) return SynthError::missing_time;
  if (f.kind == SynthFrame::Kind::account && f.status && f.status->empty()) return SynthError::empty_status;
  if (f.kind == SynthFrame::Kind::identity && f.handle && f.handle->empty()) return SynthError::empty_handle;
  return SynthError::ok;
}

}  // namespace

BytesRef SynthEncoder::encode(const SynthFrame& f, firehose::SeqLocation* seq_location, SynthError* error) {
  *error = check_fields(f);
  if (*error != SynthError::ok) return {};
  const bool account = f.kind == SynthFrame::Kind::account;
  buf_.clear();
  cbor::Encoder e(buf_);
  // Canonical key order: shorter keys first, then bytewise ("t" < "op"; "did" < "seq" <
  // "time" < "active" < "status" / "handle").
  e.map(2);
  e.key("t");
  e.text(account ? "#account" : "#identity");
  e.key("op");
  e.int64(1);
  e.finish();
  const bool extra = account ? f.status.has_value() : f.handle.has_value();
  e.map((account ? 4 : 3) + (extra ? 1 : 0));
  e.key("did");
  e.text(f.did);
  e.key("seq");
  firehose::SeqLocation loc{static_cast<uint32_t>(buf_.size()), 1};
  e.uint64(0);
  e.key("time");
  e.text(f.time);
  if (account) {
    e.key("active");
    e.boolean(f.active);
    if (f.status) {
      e.key("status");
      e.text(*f.status);
    }
  } else if (f.handle) {
    e.key("handle");
    e.text(*f.handle);
  }
  e.finish();
  // What an upstream frame must pass, this frame passes too.
  if (parser_.parse(buf_, &parsed_) != firehose::Error::ok || firehose::check_syntax(parsed_) != firehose::Error::ok ||
      parsed_.seq_location.offset != loc.offset || parsed_.seq_location.size != loc.size) {
    *error = SynthError::invalid_frame;
    return {};
  }
  BytesRef out = BytesRef::copy_of(buf_.data(), buf_.size());
  if (!out) {
    *error = SynthError::out_of_memory;
    return {};
  }
  *seq_location = loc;
  return out;
}

}  // namespace ringlay::relay
