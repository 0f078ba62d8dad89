// SPDX-License-Identifier: MIT
#include "verify/raw_bench.h"

#include <chrono>
#include <random>
#include <vector>

#include "crypto/sign.h"
#include "crypto/verify.h"
#include "verify/futex.h"
#include "verify/pool.h"
#include "verify/sig_job.h"

namespace ringlay::verify {
namespace {

// A few keys and messages, so the run does not measure one cached key or one digest.
constexpr size_t kKeys = 8;
constexpr size_t kCases = 64;

struct Case {
  KeyRef key;
  Sha256Digest digest;
  std::array<uint8_t, 64> sig;
};

bool make_cases(crypto::Curve curve, std::vector<Case>& out) {
  std::vector<crypto::SigningKey> signers(kKeys);
  std::vector<KeyRef> keys(kKeys);
  for (size_t i = 0; i < kKeys; ++i) {
    crypto::PublicKey pub;
    if (!crypto::generate_signing_key(curve, signers[i], pub)) return false;
    keys[i] = crypto::make_key_ref(std::move(pub));
  }
  std::mt19937_64 rng(42);
  out.resize(kCases);
  for (size_t i = 0; i < kCases; ++i) {
    Case& c = out[i];
    c.key = keys[i % kKeys];
    uint64_t msg[4] = {rng(), rng(), rng(), i};
    c.digest = sha256(msg, sizeof msg);
    if (!crypto::sign_digest(signers[i % kKeys], c.digest, c.sig)) return false;
  }
  return true;
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

void run_direct(const std::vector<Case>& cases, RawBenchResult& r) {
  double t0 = now_s();
  for (uint64_t i = 0; i < r.iterations; ++i) {
    const Case& c = cases[i % cases.size()];
    if (crypto::verify(*c.key, c.digest, c.sig) != crypto::VerifyError::ok) ++r.failures;
  }
  r.seconds = now_s() - t0;
}

void run_pooled(const std::vector<Case>& cases, RawBenchResult& r) {
  std::atomic<uint32_t> word{0};
  Pool<SigHandler> pool(SigHandler{}, PoolOptions{.threads = r.threads, .capacity = 1024},
                        [&word] {
                          word.fetch_add(1, std::memory_order_release);
                          futex_wake(word, 1);
                        });
  std::vector<SigResult> results;
  uint64_t submitted = 0, done = 0;
  double t0 = now_s();
  while (done < r.iterations) {
    while (submitted < r.iterations) {
      const Case& c = cases[submitted % cases.size()];
      SigJob job;
      job.tag = submitted;
      job.key = c.key;
      job.digest = c.digest;
      job.set_signature(c.sig);
      if (!pool.submit(std::move(job))) break;
      ++submitted;
    }
    uint32_t seen = word.load(std::memory_order_acquire);
    if (pool.take_results(results) == 0) {
      futex_wait(word, seen, 100);
      continue;
    }
    for (const SigResult& res : results) r.failures += res.error != crypto::VerifyError::ok;
    done += results.size();
  }
  r.seconds = now_s() - t0;
  pool.shutdown(StopMode::drain);
}

}  // namespace

RawBenchResult bench_raw_verify(const RawBenchOptions& options) {
  RawBenchResult r;
  r.threads = options.threads == 0 ? available_cpus() : options.threads;
  r.iterations = options.iterations == 0 ? 1 : options.iterations;
  r.pooled = r.threads > 1 || options.use_pool;
  std::vector<Case> cases;
  crypto::init();
  if (!make_cases(options.curve, cases)) return r;
  if (r.pooled) {
    run_pooled(cases, r);
  } else {
    run_direct(cases, r);
  }
  r.ok = true;
  r.per_second = r.seconds > 0 ? static_cast<double>(r.iterations) / r.seconds : 0;
  return r;
}

}  // namespace ringlay::verify
