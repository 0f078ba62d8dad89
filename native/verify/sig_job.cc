// SPDX-License-Identifier: MIT
#include "verify/sig_job.h"

#include <algorithm>

namespace ringlay::verify {

void SigJob::set_signature(std::span<const uint8_t> bytes) {
  sig_too_long = bytes.size() > kMaxSig;
  sig_len = static_cast<uint8_t>(std::min(bytes.size(), kMaxSig));
  std::copy_n(bytes.begin(), sig_len, sig.begin());
}

SigResult SigHandler::run(Job& job, Scratch&) const {
  SigResult r;
  r.tag = job.tag;
  const crypto::PublicKey* key = job.key.get();
  KeyRef held;  // keeps a cached key alive while we verify, even if the cache drops it
  if (key == nullptr && job.key_error != crypto::KeyError::ok) {
    r.key_state = KeyState::unusable;
    r.key_reason = job.key_error;
    r.error = crypto::VerifyError::no_key;
    return r;
  }
  if (key == nullptr) {
    if (cache == nullptr) {
      r.key_state = KeyState::missing;
      r.error = crypto::VerifyError::no_key;
      return r;
    }
    KeyLookup found = cache->lookup(job.did);
    r.key_state = found.state;
    r.key_reason = found.reason;
    r.key_version = found.version;
    if (found.state != KeyState::found) {
      r.error = crypto::VerifyError::no_key;
      return r;
    }
    held = std::move(found.key);
    key = held.get();
  }
  if (job.sig_too_long) {
    r.error = crypto::VerifyError::bad_signature_length;
    return r;
  }
  r.error = crypto::verify(*key, job.digest, std::span(job.sig.data(), job.sig_len));
  return r;
}

SigResult SigHandler::cancel(Job& job) const {
  SigResult r;
  r.tag = job.tag;
  r.cancelled = true;
  // Never ok: a reader that forgets to look at `cancelled` must not take it as verified.
  r.error = crypto::VerifyError::no_key;
  return r;
}

}  // namespace ringlay::verify
