// SPDX-License-Identifier: MIT
// Full validation of one subscribeRepos frame, as a verify worker runs it: bytes in, a Verdict
// out — one named reason ("ok" or why not), a summary for the relay's policy layer, and flags.
//
//   #commit   frame parse + limits → identifier syntax → strict: tooBig/rebase false → op rules
//             (strict Sync 1.1: update/delete carry prev) → CAR + commit checks (commit.h) →
//             signature → MST inversion against the message's own prevData (forward check with
//             record blocks required, then undo; inversion.h in native/mst)
//   #sync     frame parse (blocks ≤ 10,000) → syntax → CAR holding just the commit, root is the
//             commit, did/rev match, future rev → signature
//   others    frame parse + syntax (#identity, #account, #info, error frames, unknown types)
//
// What is deliberately NOT here: anything that needs stored state. `since` vs the stored rev,
// prevData vs the stored data CID, rev ≤ stored rev, host authority and account status are the
// policy layer's, on the summaries (protocol.md §3.5a).
//
// prevData absent (a legacy commit, or an account's first commit) is reported, not judged: the
// verdict carries kFlagNoPrevData and the relay, which knows whether it holds state for the
// account, drops it (strict: prior state exists) or accepts it as a first commit (§3.1 item 11).
// Inversion mechanics still run on such a commit (there is just no root to compare), so a diff
// that lacks the blocks inversion needs fails either way. A caller that already knows prior
// state exists can set ValidateOptions::require_prev_data to get `missing_prev_data` here.
//
// Lenient mode (legacy hosts; indigo's RELAY_LENIENT_SYNC_VALIDATION): ops without prev are
// accepted (inversion is then impossible: kFlagLegacyOps | kFlagInversionSkipped), tooBig/rebase
// are flags instead of failures, an inversion failure is kFlagInversionFailed instead of a
// rejection, and a #sync CAR may carry extra blocks. Signatures and commit structure are checked
// the same in both modes.
//
// Views in the Verdict point into the frame bytes only: the result stays valid as long as the
// frame does, whatever happens to the scratch afterwards. Reentrant: one Scratch per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cid/cid.h"
#include "crypto/keys.h"
#include "firehose/commit.h"
#include "firehose/frame.h"
#include "mst/invert.h"
#include "mst/reason.h"
#include "mst/tree.h"

namespace ringlay::firehose {

// Why a frame was rejected. Names are stable (JS sees them, metrics count them); most are the
// name of the underlying module's reason, which `detail` may refine.
enum class Reason : uint8_t {
  ok,
  // Frame structure and limits (firehose::Error; detail: the field or the CBOR error).
  frame_too_large, bad_header_cbor, missing_body, bad_body_cbor, header_not_map, bad_header_op,
  unknown_op, missing_type, body_not_map, missing_field, wrong_field_type, seq_out_of_range,
  blocks_too_large, too_many_ops, bad_op_action,
  // Op rules (op_index says which op) and identifier syntax.
  bad_op_path, op_missing_cid, op_unexpected_cid, op_missing_prev, op_unexpected_prev,
  bad_did, bad_rev, bad_since, bad_time, bad_handle,
  // Strict mode: deprecated #commit flags that must be false.
  too_big_set, rebase_set,
  // CAR and commit block (firehose::CommitError; detail: car/cbor error or commit field).
  bad_car, car_root_mismatch, commit_block_missing, bad_commit_cbor, bad_commit_shape,
  bad_commit_version, commit_did_mismatch, commit_rev_mismatch, bad_commit_rev, future_rev,
  sync_extra_blocks,
  // Key: `no_key` = nothing known about the DID yet (hold the event, resolve, resubmit);
  // `key_unusable` = resolved without a usable key (detail: the crypto::KeyError).
  no_key, key_unusable,
  // Signature (crypto::VerifyError).
  der_signature, bad_signature_length, r_out_of_range, s_out_of_range, high_s, bad_signature,
  crypto_internal_error,
  // Inversion (mst::Reason; detail: the node error for bad_mst_node).
  missing_prev_data, key_not_found, invalid_key, missing_block, bad_mst_node, invalid_op,
  invalid_op_path, duplicate_op_path, op_value_mismatch, deleted_key_present,
  missing_record_block, inversion_mismatch,
  // Not a verdict on the frame: the worker pool shut down before validating it.
  cancelled,
};
const char* name(Reason r);

// Verdict::flags bits: facts the policy layer acts on; none of them is a failure by itself.
inline constexpr uint32_t kFlagNoPrevData = 1u << 0;         // #commit without prevData
inline constexpr uint32_t kFlagLegacyOps = 1u << 1;          // lenient: update/delete without prev
inline constexpr uint32_t kFlagInversionSkipped = 1u << 2;   // inversion not run (legacy ops, depth)
inline constexpr uint32_t kFlagInversionFailed = 1u << 3;    // lenient: accepted although inversion failed
inline constexpr uint32_t kFlagSignatureSkipped = 1u << 4;   // ValidateOptions::check_signature off
inline constexpr uint32_t kFlagTooBig = 1u << 5;             // lenient: tooBig was true
inline constexpr uint32_t kFlagRebase = 1u << 6;             // lenient: rebase was true
inline constexpr uint32_t kFlagCount = 7;
// Name of one flag bit (index 0..kFlagCount-1): "no_prev_data", "legacy_ops", …
const char* flag_name(uint32_t index);

// How far to go (benches compare the stages; the relay always runs `full`).
enum class Depth : uint8_t {
  frame,   // parse, limits, syntax, op rules
  commit,  // + CAR, commit block, did/rev, future rev, signature
  full,    // + inversion
};

struct ValidateOptions {
  bool lenient = false;
  Depth depth = Depth::full;
  // "Now" for the future-rev check, in ms since the epoch; <= 0 reads the realtime clock.
  int64_t now_ms = 0;
  // Tests only: skip the signature (kFlagSignatureSkipped), e.g. for captures without keys.
  bool check_signature = true;
  // The caller knows the account has prior state: a #commit without prevData is rejected with
  // `missing_prev_data` (strict mode only) instead of flagged.
  bool require_prev_data = false;
};

// The account's key, as the key cache (or a test) knows it.
enum class KeyStatus : uint8_t { not_checked, found, missing, unusable };
const char* name(KeyStatus s);

struct KeyAnswer {
  KeyStatus status = KeyStatus::missing;
  const crypto::PublicKey* key = nullptr;         // found: valid at least during validate()
  crypto::KeyError reason = crypto::KeyError::ok;  // unusable: why
  uint64_t version = 0;                           // the cache entry's version (0: none)
};

// Looked up once per #commit/#sync, after the frame parsed (the DID comes from the frame).
class KeyProvider {
 public:
  virtual KeyAnswer lookup(std::string_view did) = 0;

 protected:
  ~KeyProvider() = default;
};

// One key for every DID (tests, single-account callers); null = always missing.
class FixedKey final : public KeyProvider {
 public:
  explicit FixedKey(const crypto::PublicKey* key) : key_(key) {}
  KeyAnswer lookup(std::string_view) override {
    KeyAnswer a;
    if (key_ != nullptr) {
      a.status = KeyStatus::found;
      a.key = key_;
    }
    return a;
  }

 private:
  const crypto::PublicKey* key_;
};

// What the policy layer needs of a frame. Every view points into the frame bytes.
struct Summary {
  Type type = Type::unknown;
  std::string_view t;                      // header `t` (tells unknown types apart)
  bool has_seq = false;
  int64_t seq = 0;                         // upstream seq
  SeqLocation seq_location;                // for the log's seq patch
  std::string_view did;                    // `repo` on #commit
  std::string_view time;
  std::string_view rev;                    // #commit, #sync
  std::optional<std::string_view> since;   // #commit; nullopt: null
  cid::CidView commit;                     // #commit: the message's; #sync: the CAR root
  cid::CidView data;                       // the commit block's MST root (once decoded)
  cid::CidView prev_data;                  // empty: absent
  uint32_t ops = 0;
  uint32_t blocks_size = 0;
  bool active = false;                     // #account
  std::optional<std::string_view> status;  // #account
  std::optional<std::string_view> handle;  // #identity
  std::string_view name;                   // #info name, error frame `error`
  std::optional<std::string_view> message;
};

struct Verdict {
  Reason reason = Reason::ok;
  const char* detail = "";  // a static sub-reason name, or ""
  int32_t op_index = -1;    // the op a reason is about, else -1
  uint32_t flags = 0;
  mst::Reason invert_reason = mst::Reason::ok;  // the inversion's own answer (kFlagInversionFailed)
  KeyStatus key_status = KeyStatus::not_checked;
  uint64_t key_version = 0;  // refresh protocol: retry a failed signature only with a newer key
  Summary summary;           // filled as far as parsing got, also on failure
  bool ok() const { return reason == Reason::ok; }
};

// Per-thread state, reused across frames (steady state allocates nothing).
struct Scratch {
  Scratch() = default;  // not an aggregate: `Scratch s{}` must not list-initialize the members
  Parser parser;
  Frame frame;
  CommitScratch commit;
  mst::Workspace mst;
  std::vector<mst::Op> ops;
};

Verdict validate(std::span<const uint8_t> frame, KeyProvider* keys, const ValidateOptions& options,
                 Scratch& scratch);

// Mapping of the module reasons onto Reason (validate_reason.cc).
Reason reason_of(Error e);
Reason reason_of(CommitError e);
Reason reason_of(crypto::VerifyError e);
Reason reason_of(mst::Reason r);

// The DID of a frame (`repo` or `did` of the body) by a structural walk, without validating
// anything: for picking a per-DID ordering key on the thread that received the frame. ""
// when the frame is malformed or has none.
std::string_view peek_did(std::span<const uint8_t> frame);

}  // namespace ringlay::firehose
