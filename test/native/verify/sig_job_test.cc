// SPDX-License-Identifier: MIT
#include "verify/sig_job.h"

#include <string>

#include "crypto/sign.h"
#include "harness.h"
#include "verify/raw_bench.h"

namespace c = ringlay::crypto;
using ringlay::verify::KeyCache;
using ringlay::verify::KeyState;
using ringlay::verify::SigHandler;
using ringlay::verify::SigJob;

namespace {

struct Signed {
  c::SigningKey sk;
  c::KeyRef key;
  ringlay::Sha256Digest digest;
  std::array<uint8_t, 64> sig;
};

bool make(c::Curve curve, Signed& out) {
  c::PublicKey pub;
  if (!c::generate_signing_key(curve, out.sk, pub)) return false;
  out.key = c::make_key_ref(std::move(pub));
  out.digest = ringlay::sha256("commit bytes", 12);
  return c::sign_digest(out.sk, out.digest, out.sig);
}

}  // namespace

TEST(sig_handler_key_in_job_or_from_cache) {
  Signed s;
  REQUIRE(make(c::Curve::p256, s));
  KeyCache cache;
  SigHandler h{&cache};
  SigHandler::Scratch scratch;

  SigJob job;
  job.tag = 7;
  job.key = s.key;
  job.digest = s.digest;
  job.set_signature(s.sig);
  auto r = h.run(job, scratch);
  CHECK_EQ(r.tag, uint64_t{7});
  CHECK(r.error == c::VerifyError::ok);

  SigJob by_did = job;
  by_did.key = nullptr;
  by_did.did = "did:plc:alice";
  r = h.run(by_did, scratch);
  CHECK(r.error == c::VerifyError::no_key && r.key_state == KeyState::missing);
  uint64_t v = cache.set("did:plc:alice", s.key);
  r = h.run(by_did, scratch);
  CHECK(r.error == c::VerifyError::ok && r.key_state == KeyState::found && r.key_version == v);
  cache.set_unusable("did:plc:alice", c::KeyError::unsupported_key_type);
  r = h.run(by_did, scratch);
  CHECK(r.error == c::VerifyError::no_key && r.key_state == KeyState::unusable &&
        r.key_reason == c::KeyError::unsupported_key_type);

  SigJob bad_text = by_did;
  bad_text.key_error = c::KeyError::bad_base58;
  r = h.run(bad_text, scratch);
  CHECK(r.key_state == KeyState::unusable && r.key_reason == c::KeyError::bad_base58);

  // Signatures over the inline limit are kept as too long, not truncated into something valid.
  SigJob long_sig = job;
  std::vector<uint8_t> big(200, 0x30);
  long_sig.set_signature(big);
  CHECK(h.run(long_sig, scratch).error == c::VerifyError::bad_signature_length);

  auto cancelled = h.cancel(job);
  CHECK(cancelled.cancelled && cancelled.tag == 7 && cancelled.error != c::VerifyError::ok);
}

TEST(raw_bench_runs_direct_and_pooled_without_failures) {
  // Correctness of the benchmark driver only (tiny runs); speed is measured in bench/.
  for (c::Curve curve : {c::Curve::secp256k1, c::Curve::p256}) {
    for (unsigned threads : {1u, 2u}) {
      ringlay::verify::RawBenchOptions o{curve, 150, threads, false};
      auto r = ringlay::verify::bench_raw_verify(o);
      CHECK(r.ok);
      CHECK_EQ(r.failures, uint64_t{0});
      CHECK_EQ(r.iterations, uint64_t{150});
      CHECK_EQ(r.pooled, threads > 1);
      CHECK(r.per_second > 0);
    }
  }
}
