// SPDX-License-Identifier: MIT
#include "verify/validator.h"

#include <atomic>
#include <chrono>
#include <utility>

#include "util/assert.h"
#include "verify/futex.h"

namespace ringlay::verify {

firehose::KeyAnswer JobKeys::lookup(std::string_view did) {
  firehose::KeyAnswer a;
  if (map_ != nullptr) {
    auto it = map_->find(did);
    if (it != map_->end()) {
      if (it->second.key != nullptr) {
        a.status = firehose::KeyStatus::found;
        a.key = it->second.key.get();
      } else {
        a.status = firehose::KeyStatus::unusable;
        a.reason = it->second.reason;
      }
      return a;
    }
  }
  if (cache_ == nullptr) return a;
  KeyLookup found = cache_->lookup(did);
  a.version = found.version;
  switch (found.state) {
    case KeyState::found:
      // The cache may drop or replace the entry meanwhile; our reference keeps it alive.
      held_ = std::move(found.key);
      a.status = firehose::KeyStatus::found;
      a.key = held_.get();
      break;
    case KeyState::unusable:
      a.status = firehose::KeyStatus::unusable;
      a.reason = found.reason;
      break;
    case KeyState::missing: break;
  }
  return a;
}

FrameResult ValidateHandler::run(Job& job, Scratch& scratch) const {
  FrameResult r;
  r.tag = job.tag;
  r.host = job.host;
  JobKeys keys(job.keys.get(), cache);
  r.verdict = firehose::validate(job.frame.span(), &keys, job.options, scratch);
  r.frame = std::move(job.frame);
  r.serial = job.serial;
  r.order_key = job.order_key;
  return r;
}

FrameResult ValidateHandler::cancel(Job& job) const {
  FrameResult r;
  r.tag = job.tag;
  r.host = job.host;
  r.frame = std::move(job.frame);
  r.serial = job.serial;
  r.order_key = job.order_key;
  r.cancelled = true;
  // Never ok: a reader that forgets `cancelled` must not take the frame as verified.
  r.verdict.reason = firehose::Reason::cancelled;
  return r;
}

uint64_t order_key(std::span<const uint8_t> frame, uint32_t host) {
  std::string_view did = firehose::peek_did(frame);
  if (did.empty()) return std::hash<uint64_t>{}(0x686f7374'00000000ull | host);  // "host"
  return std::hash<std::string_view>{}(did);
}

Validator::Validator(const ValidatorOptions& options, std::shared_ptr<KeyCache> cache, WakeFn wake)
    : cache_(std::move(cache)),
      defaults_(options.validate),
      pool_(ValidateHandler{cache_.get()}, options.pool, std::move(wake)) {}

Validator::~Validator() { pool_.shutdown(StopMode::cancel); }

bool Validator::submit(const BytesRef& frame, uint32_t host, uint64_t tag) {
  FrameJob job;
  job.frame = frame;
  job.tag = tag;
  job.host = host;
  job.options = defaults_;
  return submit(job);
}

bool Validator::submit(FrameJob& job) {
  if (in_flight() >= pool_.capacity()) return false;
  const uint64_t key = order_key(job.frame.span(), job.host);
  const uint64_t serial = next_serial_;
  job.serial = serial;
  job.order_key = key;
  if (!pool_.submit(std::move(job))) return false;
  ++next_serial_;
  // Only this thread takes results, so the entry exists before its result can be taken.
  pending_[key].serials.push_back(serial);
  return true;
}

void Validator::deliver(FrameResult&& r, Pending& p, std::vector<FrameResult>& out) {
  if (p.serials[p.head] != r.serial) {
    p.early.push_back(std::move(r));
    ++held_;
    return;
  }
  out.push_back(std::move(r));
  ++p.head;
  // Release what finished ahead of it, as long as it continues the sequence.
  for (bool found = true; found && p.head < p.serials.size();) {
    found = false;
    for (size_t i = 0; i < p.early.size(); ++i) {
      if (p.early[i].serial != p.serials[p.head]) continue;
      out.push_back(std::move(p.early[i]));
      p.early.erase(p.early.begin() + static_cast<ptrdiff_t>(i));
      --held_;
      ++p.head;
      found = true;
      break;
    }
  }
}

size_t Validator::take_results(std::vector<FrameResult>& out) {
  out.clear();
  pool_.take_results(taken_);
  for (FrameResult& r : taken_) {
    auto it = pending_.find(r.order_key);
    RL_ASSERT(it != pending_.end());
    deliver(std::move(r), it->second, out);
    if (it->second.head == it->second.serials.size()) pending_.erase(it);
  }
  taken_.clear();
  return out.size();
}

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ValidatorBenchResult bench_validator(std::span<const BytesRef> frames,
                                     const firehose::ValidateOptions& options,
                                     std::shared_ptr<const KeyMap> keys, unsigned threads,
                                     double seconds) {
  ValidatorBenchResult r;
  if (frames.empty()) return r;
  std::atomic<uint32_t> word{0};
  ValidatorOptions vo;
  vo.pool.threads = threads;
  vo.pool.capacity = 1024;
  vo.pool.name = "rl-codec-bench";
  Validator v(vo, nullptr, [&word] {
    word.fetch_add(1, std::memory_order_release);
    futex_wake(word, 1);
  });
  r.threads = v.threads();
  std::vector<FrameResult> results;
  uint64_t submitted = 0;
  const double t0 = now_s();
  bool feeding = true;
  while (feeding || r.frames < submitted) {
    while (feeding) {
      FrameJob job{frames[submitted % frames.size()], submitted, 0, options, keys};
      if (!v.submit(job)) break;
      ++submitted;
    }
    const uint32_t seen = word.load(std::memory_order_acquire);
    if (v.take_results(results) == 0) {
      futex_wait(word, seen, 100);
      continue;
    }
    for (const FrameResult& res : results) {
      if (!res.verdict.ok() && r.failures++ == 0) r.first_failure = res.verdict.reason;
    }
    r.frames += results.size();
    if (now_s() - t0 >= seconds) feeding = false;
  }
  r.seconds = now_s() - t0;
  r.per_second = r.seconds > 0 ? static_cast<double>(r.frames) / r.seconds : 0;
  v.shutdown(StopMode::drain);
  return r;
}

}  // namespace ringlay::verify
