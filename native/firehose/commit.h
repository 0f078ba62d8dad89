// SPDX-License-Identifier: MIT
// Commit checks for a parsed #commit or #sync (protocol.md §3.1 items 6–10, §3.3, §4.5):
//
//   1. load_commit: parse the CAR (every block hash verified), require roots[0] to be the
//      message's `commit` (for #sync, which has no such field, roots[0] *is* the commit), find
//      the commit block and decode it strictly as a repo v3 commit: a map of exactly
//      {did, rev, sig, data, prev, version} with `prev` present (null or a link), `data` a
//      dag-cbor sha2-256 link, version 3;
//   2. check_commit_fields: the commit's did/rev equal the message's, rev is a TID and not
//      later than now + 5 minutes;
//   3. verify_commit_signature: SHA-256 of the commit without `sig` (the canonical source bytes
//      minus that entry: no re-encoding, see cbor::encode_map_without), then ECDSA with
//      atproto's rules (64-byte compact r||s, low-S) — crypto::verify().
//
// Views in Commit point into the CAR bytes (so into the frame) and into the scratch decoder:
// valid until the scratch is used again. Reentrant; one CommitScratch per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "car/car.h"
#include "cbor/decoder.h"
#include "cid/cid.h"
#include "crypto/keys.h"
#include "crypto/verify.h"

namespace ringlay::firehose {

// A rev may run ahead of our clock by this much (indigo's futureRevTolerance; the spec says
// "a few minutes").
inline constexpr int64_t kFutureRevToleranceUs = int64_t{5} * 60 * 1000 * 1000;

enum class CommitError : uint8_t {
  ok,
  bad_car,               // the CAR does not parse or a block hash is wrong (detail: car error)
  car_root_mismatch,     // CAR has no root, or roots[0] is not the message's `commit`
  commit_block_missing,  // the CAR lacks the block of its own root
  bad_commit_cbor,       // the commit block is not strict, canonical DAG-CBOR (detail: cbor error)
  bad_commit_shape,      // not {did, rev, sig, data, prev, version} of the right types (detail: field)
  bad_commit_version,    // version other than 3
  commit_did_mismatch,   // commit.did != the message's repo/did
  commit_rev_mismatch,   // commit.rev != the message's rev
  bad_commit_rev,        // commit.rev is not a TID
  future_rev,            // commit.rev's timestamp is later than now + 5 minutes
  sync_extra_blocks,     // a #sync CAR carries blocks besides the commit
};
const char* name(CommitError e);

struct Commit {
  cid::CidView cid;                // the commit block's CID (CAR root)
  std::span<const uint8_t> block;  // its bytes
  cbor::Value value;               // the decoded map (for the unsigned bytes)
  std::string_view did;
  std::string_view rev;
  std::span<const uint8_t> sig;
  cid::CidView data;               // MST root
  cid::CidView prev;               // empty: null (the usual case)
  int64_t version = 0;
};

// Per-thread state, reused across commits (no steady-state allocation).
struct CommitScratch {
  car::Reader car;
  cbor::Decoder decoder;
  std::vector<uint8_t> unsigned_bytes;
};

// Step 1. `expected_root` empty: accept whatever roots[0] is (#sync). On failure *detail names
// the sub-reason (a car/cbor error name or a commit field), else "".
CommitError load_commit(std::span<const uint8_t> blocks, cid::CidView expected_root,
                        CommitScratch& scratch, Commit* out, const char** detail);

// #sync: the CAR must hold only the commit block (duplicates of it are tolerated).
CommitError check_sync_blocks(const CommitScratch& scratch, const Commit& commit);

// Step 2. `now_us`: microseconds since the Unix epoch.
CommitError check_commit_fields(const Commit& commit, std::string_view did, std::string_view rev,
                                int64_t now_us);

// The bytes the signature covers: the commit map without `sig` (into scratch.unsigned_bytes).
std::span<const uint8_t> unsigned_commit_bytes(const Commit& commit, CommitScratch& scratch);

// Step 3.
crypto::VerifyError verify_commit_signature(const Commit& commit, const crypto::PublicKey& key,
                                            CommitScratch& scratch);

}  // namespace ringlay::firehose
