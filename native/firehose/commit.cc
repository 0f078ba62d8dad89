// SPDX-License-Identifier: MIT
#include "firehose/commit.h"

#include <optional>

#include "cbor/encoder.h"
#include "firehose/syntax.h"
#include "util/assert.h"
#include "util/sha256.h"

namespace ringlay::firehose {

const char* name(CommitError e) {
  switch (e) {
    case CommitError::ok: return "ok";
    case CommitError::bad_car: return "bad_car";
    case CommitError::car_root_mismatch: return "car_root_mismatch";
    case CommitError::commit_block_missing: return "commit_block_missing";
    case CommitError::bad_commit_cbor: return "bad_commit_cbor";
    case CommitError::bad_commit_shape: return "bad_commit_shape";
    case CommitError::bad_commit_version: return "bad_commit_version";
    case CommitError::commit_did_mismatch: return "commit_did_mismatch";
    case CommitError::commit_rev_mismatch: return "commit_rev_mismatch";
    case CommitError::bad_commit_rev: return "bad_commit_rev";
    case CommitError::future_rev: return "future_rev";
    case CommitError::sync_extra_blocks: return "sync_extra_blocks";
  }
  return "unknown";
}

namespace {

// The six keys of a v3 commit; anything else would be signed along (the unsigned bytes are the
// map minus `sig`) but both reference implementations drop unknown fields before checking the
// signature, so such a commit could never verify there: refuse it up front.
constexpr uint32_t kCommitFields = 6;

// Decodes the commit map's fields into *out; on failure *detail names the offending field.
CommitError read_fields(cbor::Value m, Commit* out, const char** detail) {
  if (!m.is_map()) return *detail = "not_map", CommitError::bad_commit_shape;
  auto text = [&](const char* key, std::string_view* dst) {
    auto t = m.find(key).as_text();
    if (t) *dst = *t;
    return t.has_value();
  };
  if (!text("did", &out->did)) return *detail = "did", CommitError::bad_commit_shape;
  if (!text("rev", &out->rev)) return *detail = "rev", CommitError::bad_commit_shape;
  auto sig = m.find("sig").as_bytes();
  if (!sig) return *detail = "sig", CommitError::bad_commit_shape;
  out->sig = *sig;
  // MST roots and commit links must be the blessed dag-cbor form (protocol.md §4.3).
  auto data = m.find("data").as_link();
  if (!data || !data->is_blessed_dag_cbor()) return *detail = "data", CommitError::bad_commit_shape;
  out->data = *data;
  cbor::Value prev = m.find("prev");  // required, nullable: dropping it changes the signed bytes
  if (!prev.exists()) return *detail = "prev", CommitError::bad_commit_shape;
  if (!prev.is_null()) {
    auto link = prev.as_link();
    if (!link || !link->is_blessed_dag_cbor()) return *detail = "prev", CommitError::bad_commit_shape;
    out->prev = *link;
  }
  auto version = m.find("version").as_int();
  if (!version) return *detail = "version", CommitError::bad_commit_shape;
  out->version = *version;
  if (m.size() != kCommitFields) return *detail = "unknown_field", CommitError::bad_commit_shape;
  if (*version != 3) return CommitError::bad_commit_version;
  return CommitError::ok;
}

}  // namespace

CommitError load_commit(std::span<const uint8_t> blocks, cid::CidView expected_root,
                        CommitScratch& scratch, Commit* out, const char** detail) {
  *out = Commit();
  *detail = "";
  if (car::Error e = scratch.car.parse(blocks); e != car::Error::ok) {
    *detail = car::name(e);
    return CommitError::bad_car;
  }
  if (scratch.car.roots().empty()) return CommitError::car_root_mismatch;
  const cid::CidView root = scratch.car.roots()[0];
  if (!expected_root.empty() && !(root == expected_root)) return CommitError::car_root_mismatch;
  auto block = scratch.car.find(root);
  if (!block) return CommitError::commit_block_missing;
  out->cid = root;
  out->block = *block;
  scratch.decoder.clear();
  cbor::Result r = scratch.decoder.decode(*block);
  if (!r.ok()) {
    *detail = cbor::name(r.error);
    return CommitError::bad_commit_cbor;
  }
  out->value = r.value;
  return read_fields(r.value, out, detail);
}

CommitError check_sync_blocks(const CommitScratch& scratch, const Commit& commit) {
  for (const car::Block& b : scratch.car.blocks()) {
    if (!(b.cid == commit.cid)) return CommitError::sync_extra_blocks;
  }
  return CommitError::ok;
}

CommitError check_commit_fields(const Commit& commit, std::string_view did, std::string_view rev,
                                int64_t now_us) {
  if (commit.did != did) return CommitError::commit_did_mismatch;
  if (commit.rev != rev) return CommitError::commit_rev_mismatch;
  std::optional<int64_t> micros = valid_tid(commit.rev) ? tid_micros(commit.rev) : std::nullopt;
  if (!micros) return CommitError::bad_commit_rev;
  if (*micros > now_us + kFutureRevToleranceUs) return CommitError::future_rev;
  return CommitError::ok;
}

std::span<const uint8_t> unsigned_commit_bytes(const Commit& commit, CommitScratch& scratch) {
  scratch.unsigned_bytes.clear();
  // The map came from a strict decode, so its source bytes are canonical and reusing them is
  // exactly the canonical encoding without `sig`.
  bool ok = cbor::encode_map_without(commit.value, commit.block, "sig", scratch.unsigned_bytes);
  RL_ASSERT(ok);  // load_commit() checked that the map has a sig
  return scratch.unsigned_bytes;
}

crypto::VerifyError verify_commit_signature(const Commit& commit, const crypto::PublicKey& key,
                                            CommitScratch& scratch) {
  return crypto::verify(key, sha256(unsigned_commit_bytes(commit, scratch)), commit.sig);
}

}  // namespace ringlay::firehose
