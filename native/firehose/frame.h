// SPDX-License-Identifier: MIT
// subscribeRepos frame parser: one WebSocket binary message = header {op, t} + body, two
// strict DAG-CBOR items back to back. Produces a typed, zero-copy summary (Frame) of every
// message type; strings, CIDs, blocks and ops point into the frame bytes and the parser's
// reused storage. Unknown `t` gives Type::unknown (not an error); unknown body fields are
// ignored. Deprecated fields (tooBig, rebase, blobs) are accepted when absent or null.
//
//   firehose::Parser p;                   // one per thread, reused; no steady-state malloc
//   firehose::Frame f;
//   if (auto e = p.parse(bytes, &f); e != firehose::Error::ok) drop(name(e), p.field());
//
// Parsing checks structure, types and size limits. Op consistency (check_ops) and field
// syntax (check_syntax) are separate calls so the validator chooses strict or legacy rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cbor/decoder.h"
#include "cid/cid.h"

namespace ringlay::firehose {

inline constexpr uint32_t kMaxFrameBytes = 5000000;
inline constexpr uint32_t kMaxCommitBlocksBytes = 2000000;
inline constexpr uint32_t kMaxCommitOps = 200;
inline constexpr uint32_t kMaxSyncBlocksBytes = 10000;
inline constexpr int64_t kMaxSeq = (int64_t{1} << 53) - 1;

enum class Type : uint8_t { commit, sync, identity, account, info, error, unknown };
const char* name(Type t);

enum class Error : uint8_t {
  ok,
  frame_too_large,      // whole frame over Limits::max_frame
  bad_header_cbor,      // header not strict DAG-CBOR (Parser::cbor_error() says why)
  missing_body,         // nothing after the header
  bad_body_cbor,        // body not strict DAG-CBOR, or bytes after it
  header_not_map,
  bad_header_op,        // `op` missing or not an integer
  unknown_op,           // `op` neither 1 nor -1
  missing_type,         // op 1 without a text `t` (or `t` of another type)
  body_not_map,
  missing_field,        // a required body field is absent (Parser::field() names it)
  wrong_field_type,     // a body field has the wrong type (Parser::field() names it)
  seq_out_of_range,     // seq < 0 or > 2^53-1
  blocks_too_large,     // #commit blocks > 2,000,000 or #sync blocks > 10,000 bytes
  too_many_ops,         // more than 200 ops
  bad_op_action,        // action other than create/update/delete
  // check_ops():
  bad_op_path,          // path is not <nsid>/<rkey>
  op_missing_cid,       // create/update with cid null
  op_unexpected_cid,    // delete with a cid
  op_missing_prev,      // update/delete without prev (Sync 1.1 only)
  op_unexpected_prev,   // create with prev
  // check_syntax():
  bad_did,
  bad_rev,
  bad_since,
  bad_time,
  bad_handle,
};
const char* name(Error e);

enum class Action : uint8_t { create, update, delete_ };
const char* name(Action a);

struct RepoOp {
  Action action;
  std::string_view path;
  cid::CidView cid;   // empty: null (delete)
  cid::CidView prev;  // empty: absent
};

// Where the encoded `seq` value sits in the frame (for seq_patch).
struct SeqLocation {
  uint32_t offset = 0;  // first byte of the integer's head
  uint32_t size = 0;    // 0 = no seq; else 1, 2, 3, 5 or 9
};

struct Frame {
  Type type = Type::unknown;
  int64_t op = 0;
  std::string_view t;               // header `t` ("" when absent, e.g. error frames)
  uint32_t body_offset = 0;         // first byte of the body item

  // #commit, #sync, #identity, #account
  bool has_seq = false;
  int64_t seq = 0;
  SeqLocation seq_location;
  std::string_view did;             // `repo` on #commit, `did` elsewhere
  std::string_view time;

  // #commit, #sync
  std::string_view rev;
  std::span<const uint8_t> blocks;  // the CAR bytes, inside the frame

  // #commit
  cid::CidView commit;
  std::optional<std::string_view> since;  // nullopt: null
  std::span<const RepoOp> ops;            // the parser's storage
  cid::CidView prev_data;                 // empty: absent (legacy)
  bool too_big = false;
  bool rebase = false;
  uint32_t blobs = 0;                     // deprecated; count only

  // #identity
  std::optional<std::string_view> handle;

  // #account
  bool active = false;
  std::optional<std::string_view> status;

  // #info (`name`), error frames (`error`)
  std::string_view name;
  std::optional<std::string_view> message;
};

struct Limits {
  uint32_t max_frame = kMaxFrameBytes;
  uint32_t max_commit_blocks = kMaxCommitBlocksBytes;
  uint32_t max_ops = kMaxCommitOps;
  uint32_t max_sync_blocks = kMaxSyncBlocksBytes;
};

class Parser {
 public:
  explicit Parser(const Limits& limits = {});

  // Parses one frame. On success *out points into `frame` and into this parser (ops), valid
  // until the next parse(). On failure *out is partially filled.
  Error parse(std::span<const uint8_t> frame, Frame* out);

  // Details of the last failure.
  const char* field() const { return field_; }          // for missing/wrong field, else ""
  cbor::Error cbor_error() const { return cbor_error_; }  // for bad_*_cbor
  uint32_t error_offset() const { return error_offset_; }

  // The decoded items of the last successful parse (e.g. for unknown fields).
  cbor::Value header() const { return header_; }
  cbor::Value body() const { return body_; }

 private:
  Error fail(Error e, const char* field = "");
  Error parse_body(Frame* out);
  Error parse_commit(cbor::Value body, Frame* out);
  Error parse_ops(cbor::Value ops, Frame* out);
  Error parse_sync(cbor::Value body, Frame* out);
  Error parse_identity(cbor::Value body, Frame* out);
  Error parse_account(cbor::Value body, Frame* out);
  Error parse_named(cbor::Value body, const char* key, Frame* out);
  Error read_seq(cbor::Value body, Frame* out);

  Limits limits_;
  cbor::Decoder decoder_;
  std::vector<RepoOp> ops_;
  cbor::Value header_, body_;
  const char* field_ = "";
  cbor::Error cbor_error_ = cbor::Error::ok;
  uint32_t error_offset_ = 0;
};

// Op consistency for a parsed #commit: create ⇒ cid set, prev absent; update ⇒ cid set
// (and prev set when require_prev); delete ⇒ cid null (and prev set when require_prev);
// every path is <nsid>/<rkey>. require_prev = Sync 1.1 strict mode. *index = failing op.
Error check_ops(const Frame& f, bool require_prev, size_t* index = nullptr);

// Syntax of the summary's identifiers: did (DID), rev/since (TID), time (datetime),
// handle (handle). Types without a field skip it.
Error check_syntax(const Frame& f);

}  // namespace ringlay::firehose
