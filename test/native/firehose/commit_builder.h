// SPDX-License-Identifier: MIT
// Test helper: signed repo commits and the #commit / #sync frames a PDS would send for them,
// built with the product encoder, MST and test signer (crypto/sign.h), plus the pieces to
// build broken ones (any signature bytes, any block list, any CAR root).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbor/atjson.h"
#include "cid/cid.h"
#include "crypto/keys.h"
#include "crypto/sign.h"

namespace ringlay::test {

struct Block {
  cid::Cid cid;
  Bytes bytes;
};

struct WireOp {
  std::string action;  // create, update, delete
  std::string path;
  cid::Cid cid;   // empty: null
  cid::Cid prev;  // empty: absent
};

// Every field of a #commit body; encode with commit_frame().
struct CommitParts {
  int64_t seq = 1;
  std::string repo;
  std::string rev;
  std::optional<std::string> since;
  cid::Cid commit;            // the message's `commit`
  cid::Cid car_root;          // CAR roots[0]; empty: `commit`
  std::vector<Block> blocks;  // CAR sections, in this order
  std::vector<WireOp> ops;
  cid::Cid prev_data;         // empty: absent
  bool too_big = false;
  bool rebase = false;
  std::string time = "2025-04-16T21:30:26.717Z";
};

Bytes car_bytes(cid::CidView root, const std::vector<Block>& blocks);
Bytes commit_frame(const CommitParts& p);
// A #sync frame whose CAR holds `blocks` with `root` as roots[0].
Bytes sync_frame(int64_t seq, std::string_view did, std::string_view rev, cid::CidView root,
                 const std::vector<Block>& blocks);

// A TID for `micros` since the epoch (clock id 0).
std::string tid_at(int64_t micros);

// The v3 commit map without `sig` (what gets signed), and with the given signature bytes.
Bytes unsigned_commit(std::string_view did, std::string_view rev, cid::CidView data);
Block commit_block(std::string_view did, std::string_view rev, std::span<const uint8_t> sig,
                   cid::CidView data);
// A commit block signed (low-S compact) by `key`.
Block signed_commit(const crypto::SigningKey& key, std::string_view did, std::string_view rev,
                    cid::CidView data, std::array<uint8_t, 64>* sig = nullptr);

// An account's repo in memory. commit() applies writes and returns what the PDS would emit:
// ops with prev, prevData, since, and a CAR of the commit, every node of the new tree and the
// new record blocks (a superset of the blocks inversion needs).
class TestRepo {
 public:
  TestRepo(crypto::Curve curve, std::string did, uint64_t seed = 1);

  // `writes`: {action, path}; creates and updates get a fresh record.
  CommitParts commit(const std::vector<std::pair<std::string, std::string>>& writes);
  // Fills the repo with `n` records of `collections` (one commit, not returned).
  void seed(size_t n, const std::vector<std::string>& collections);

  const crypto::PublicKey& public_key() const { return pub_; }
  const crypto::SigningKey& signing_key() const { return key_; }
  const std::string& did() const { return did_; }
  const cid::Cid& data() const { return data_; }
  const std::string& rev() const { return rev_; }
  const std::map<std::string, cid::Cid>& records() const { return records_; }
  // The node blocks of the current tree (after the last commit).
  const std::vector<Block>& nodes() const { return nodes_; }
  // A fresh record key (TID-shaped).
  std::string next_rkey();

 private:
  Block record(std::string_view collection);
  void rebuild();

  crypto::SigningKey key_;
  crypto::PublicKey pub_;
  std::string did_;
  uint64_t counter_;
  int64_t clock_us_;
  std::map<std::string, cid::Cid> records_;
  std::vector<Block> nodes_;
  cid::Cid data_;
  std::string rev_;
};

}  // namespace ringlay::test
