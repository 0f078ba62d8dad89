// SPDX-License-Identifier: MIT
// The raw signature-verify benchmark behind napi benchRawVerify (quoted by bench/codec as
// `raw-sig`): verifies/s of our verify() on one curve, measured natively, either on the
// calling thread or through a Pool of N workers fed by the calling thread.
#pragma once

#include <cstdint>

#include "crypto/keys.h"

namespace ringlay::verify {

struct RawBenchOptions {
  crypto::Curve curve = crypto::Curve::secp256k1;
  uint64_t iterations = 10000;
  unsigned threads = 1;    // 0: available_cpus()
  bool use_pool = false;   // with threads == 1: go through a 1-worker Pool anyway
};

struct RawBenchResult {
  bool ok = false;         // false when keys or signatures could not be made
  unsigned threads = 0;
  bool pooled = false;
  uint64_t iterations = 0;
  uint64_t failures = 0;   // verifies that did not return ok (must be 0)
  double seconds = 0;
  double per_second = 0;
};

RawBenchResult bench_raw_verify(const RawBenchOptions& options);

}  // namespace ringlay::verify
