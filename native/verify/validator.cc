// SPDX-License-Identifier: MIT
#include "verify/validator.h"

#include <utility>

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
  return r;
}

FrameResult ValidateHandler::cancel(Job& job) const {
  FrameResult r;
  r.tag = job.tag;
  r.host = job.host;
  r.frame = std::move(job.frame);
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
  const uint64_t key = order_key(job.frame.span(), job.host);
  return pool_.submit_ordered(std::move(job), key);
}

}  // namespace ringlay::verify
