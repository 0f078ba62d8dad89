// SPDX-License-Identifier: MIT
// Helpers for the relay pipeline tests: a temp data dir, a RelayCore with its outputs collected
// as they come (polled, with a deadline), signed commit frames for a few accounts, and the log
// read back.
#pragma once

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"
#include "crypto/keys.h"
#include "firehose/commit_builder.h"
#include "log/reader.h"
#include "relay/relay_core.h"

namespace ringlay::relay_test {

using namespace ringlay::relay;
using ringlay::BytesRef;

class TempDir : public ringlay::test::TempDir {
 public:
  TempDir() : ringlay::test::TempDir("ringlay-relay") {}
};

inline RelayOptions options_for(const TempDir& d, unsigned threads = 2) {
  RelayOptions o;
  o.log.data_dir = d.path();
  o.log.boot_id = "boot-test";
  o.log.sync_interval_ms = 5;
  o.validator.pool.threads = threads;
  o.validator.pool.capacity = 64;
  return o;
}

// A RelayCore whose outputs are collected on the test thread.
struct Pipeline {
  std::shared_ptr<verify::KeyCache> keys = std::make_shared<verify::KeyCache>();
  std::shared_ptr<RelayCore> core;
  std::vector<Output> outs;
  std::vector<SummaryRecord> events;  // every summary, in arrival order
  std::vector<std::pair<uint64_t, uint64_t>> written;  // (id, seq), in notice order
  uint64_t durable = 0;
  std::map<uint32_t, HostUpdate> hosts;
  std::vector<ConnPause> pauses;
  bool closed = false;

  bool open(const RelayOptions& o, log_store::Status* st = nullptr) {
    log_store::Status s;
    core = RelayCore::open(o, keys, [] {}, &s);
    if (st != nullptr) *st = s;
    return core != nullptr;
  }

  void poll() {
    std::vector<Output> got;
    core->take_output(got);
    for (Output& o : got) {
      for (SummaryRecord& r : o.events) events.push_back(std::move(r));
      for (size_t i = 0; i < o.written_ids.size(); ++i) written.emplace_back(o.written_ids[i], o.written_seqs[i]);
      if (o.notice) durable = std::max(durable, o.durable_seq);
      for (const HostUpdate& h : o.hosts) hosts[h.host] = h;
      pauses.insert(pauses.end(), o.pauses.begin(), o.pauses.end());
      closed |= o.closed;
    }
  }

  // Polls until `done` holds; false after `ms`.
  bool wait_for(const std::function<bool()>& done, int ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      poll();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  bool close_and_wait() {
    core->close();
    bool ok = wait_for([this] { return closed; });
    core->join();
    return ok;
  }

  void decide(std::vector<Decision> ds, std::vector<SynthFrame> frames = {}) {
    DecisionBatch b;
    b.decisions = std::move(ds);
    b.frames = std::move(frames);
    core->decide(std::move(b));
  }
};

inline Decision accept(uint64_t id) { return {Action::accept, id, -1}; }
inline Decision drop(uint64_t id) { return {Action::drop, id, -1}; }

inline BytesRef bytes_of(const std::vector<uint8_t>& v) { return BytesRef::copy_of(v.data(), v.size()); }

// Accounts with signed commits; frames get consecutive upstream seqs.
struct Accounts {
  std::vector<std::unique_ptr<test::TestRepo>> repos;
  int64_t next_seq = 1;

  explicit Accounts(int n) {
    for (int i = 0; i < n; ++i) {
      auto r = std::make_unique<test::TestRepo>(crypto::Curve::secp256k1, "did:plc:relaytest" + std::to_string(i),
                                                static_cast<uint64_t>(i + 1));
      r->seed(5, {"app.bsky.feed.post"});
      repos.push_back(std::move(r));
    }
  }
  // One more commit of account `i`, as a frame with the next upstream seq.
  BytesRef commit(size_t i) {
    test::TestRepo& r = *repos[i];
    test::CommitParts p = r.commit({{"create", "app.bsky.feed.post/" + r.next_rkey()}});
    p.seq = next_seq++;
    return bytes_of(test::commit_frame(p));
  }
  void set_keys(verify::KeyCache& cache) const {
    for (const auto& r : repos) {
      crypto::PublicKey pk;
      crypto::parse_multikey(crypto::format_multikey(r->public_key()), pk);
      cache.set(r->did(), crypto::make_key_ref(std::move(pk)));
    }
  }
};

// Every frame in the log after `after`, by seq.
inline std::map<uint64_t, std::vector<uint8_t>> read_log(log_store::EventLog& log, uint64_t after = 0) {
  std::map<uint64_t, std::vector<uint8_t>> out;
  auto reader = log.open_reader(after);
  log_store::ReplayBatch batch;
  for (int guard = 0; guard < 100000; ++guard) {
    log_store::ReadResult r = reader->read(batch);
    if (r.state != log_store::ReadState::frames) break;
    for (size_t i = 0; i < batch.frames.size(); ++i) {
      auto f = batch.frame(i);
      out[batch.frames[i].seq] = std::vector<uint8_t>(f.begin(), f.end());
    }
  }
  return out;
}

}  // namespace ringlay::relay_test
