// SPDX-License-Identifier: MIT
// SigHandler: the simplest Pool handler — verify one signature over a digest, with a key given
// in the job or looked up by DID in a KeyCache on the worker. The raw-verify benchmark and the
// JS VerifyPool use it; it is also the model for the commit validator's handler (whose job is
// a frame BytesRef instead of a digest + signature).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "crypto/verify.h"
#include "verify/key_cache.h"

namespace ringlay::verify {

struct SigJob {
  uint64_t tag = 0;      // the caller's, copied into the result
  KeyRef key;            // verify with this key, or when null…
  std::string did;       // …look it up here in SigHandler::cache
  // Set when the caller's key text did not parse: the job fails with no_key / unusable and
  // this reason, without a cache lookup.
  crypto::KeyError key_error = crypto::KeyError::ok;
  Sha256Digest digest{};
  // Signatures longer than this are kept as "too long" (they fail with bad_signature_length,
  // like every length other than 64; 72 still lets DER be told apart).
  static constexpr size_t kMaxSig = 72;
  std::array<uint8_t, kMaxSig> sig{};
  uint8_t sig_len = 0;
  bool sig_too_long = false;

  void set_signature(std::span<const uint8_t> bytes);
};

struct SigResult {
  uint64_t tag = 0;
  crypto::VerifyError error = crypto::VerifyError::ok;
  // For DID lookups: what the cache said (found/missing/unusable), the entry's reason when
  // unusable, and its version (to tell a refreshed key from the one that failed).
  KeyState key_state = KeyState::found;
  crypto::KeyError key_reason = crypto::KeyError::ok;
  uint64_t key_version = 0;
  bool cancelled = false;  // the pool shut down before running it
};

struct SigHandler {
  using Job = SigJob;
  using Result = SigResult;
  struct Scratch {};

  KeyCache* cache = nullptr;  // needed only for jobs without a key

  Result run(Job& job, Scratch& scratch) const;
  Result cancel(Job& job) const;
};

}  // namespace ringlay::verify
