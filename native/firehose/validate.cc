// SPDX-License-Identifier: MIT
#include "firehose/validate.h"

#include <time.h>

#include "util/assert.h"

namespace ringlay::firehose {
namespace {

int64_t now_us(const ValidateOptions& o) {
  if (o.now_ms > 0) return o.now_ms * 1000;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void summarize(const Frame& f, Summary* s) {
  s->type = f.type;
  s->t = f.t;
  s->has_seq = f.has_seq;
  s->seq = f.seq;
  s->seq_location = f.seq_location;
  s->did = f.did;
  s->time = f.time;
  s->rev = f.rev;
  s->since = f.since;
  s->commit = f.commit;
  s->prev_data = f.prev_data;
  s->ops = static_cast<uint32_t>(f.ops.size());
  s->blocks_size = static_cast<uint32_t>(f.blocks.size());
  s->active = f.active;
  s->status = f.status;
  s->handle = f.handle;
  s->name = f.name;
  s->message = f.message;
}

Verdict& fail(Verdict& v, Reason r, const char* detail = "", int32_t op_index = -1) {
  v.reason = r;
  v.detail = detail;
  v.op_index = op_index;
  return v;
}

// The frame parser's failure, with its most useful detail.
Verdict& fail_parse(Verdict& v, Error e, const Parser& p) {
  const char* detail = "";
  if (e == Error::bad_header_cbor || e == Error::bad_body_cbor) detail = cbor::name(p.cbor_error());
  if (e == Error::missing_field || e == Error::wrong_field_type) detail = p.field();
  return fail(v, reason_of(e), detail);
}

// Key lookup and signature; ok or the failure already recorded in v.
bool check_signature(Verdict& v, const Commit& commit, std::string_view did, KeyProvider* keys,
                     const ValidateOptions& o, Scratch& s) {
  if (!o.check_signature) {
    v.flags |= kFlagSignatureSkipped;
    return true;
  }
  KeyAnswer k = keys != nullptr ? keys->lookup(did) : KeyAnswer{};
  v.key_status = k.status;
  v.key_version = k.version;
  if (k.status == KeyStatus::missing || (k.status == KeyStatus::found && k.key == nullptr)) {
    v.key_status = KeyStatus::missing;
    fail(v, Reason::no_key);
    return false;
  }
  if (k.status != KeyStatus::found) {
    fail(v, Reason::key_unusable, crypto::name(k.reason));
    return false;
  }
  crypto::VerifyError e = verify_commit_signature(commit, *k.key, s.commit);
  if (e != crypto::VerifyError::ok) {
    fail(v, reason_of(e), crypto::name(e));
    return false;
  }
  return true;
}

// CAR, commit block, did/rev, future rev (shared by #commit and #sync).
bool load_and_check(Verdict& v, const Frame& f, cid::CidView expected_root,
                    const ValidateOptions& o, Scratch& s, Commit* commit) {
  const char* detail = "";
  CommitError e = load_commit(f.blocks, expected_root, s.commit, commit, &detail);
  if (e == CommitError::ok) {
    v.summary.commit = commit->cid;
    v.summary.data = commit->data;
    if (f.type == Type::sync && !o.lenient) e = check_sync_blocks(s.commit, *commit);
  }
  if (e == CommitError::ok) e = check_commit_fields(*commit, f.did, f.rev, now_us(o));
  if (e != CommitError::ok) {
    fail(v, reason_of(e), detail);
    return false;
  }
  return true;
}

// Sync 1.1 inversion against the message's own prevData.
Verdict& invert(Verdict& v, const Frame& f, const Commit& commit, const ValidateOptions& o,
                Scratch& s) {
  if (f.prev_data.empty()) {
    v.flags |= kFlagNoPrevData;
    if (!o.lenient && o.require_prev_data) return fail(v, Reason::missing_prev_data);
  }
  s.ops.clear();
  for (const RepoOp& op : f.ops) {
    if (op.action != Action::create && op.prev.empty()) {
      // Only reachable in lenient mode (check_ops required prev otherwise): without the old
      // value an update or delete cannot be undone.
      v.flags |= kFlagLegacyOps | kFlagInversionSkipped;
      return v;
    }
    s.ops.push_back(mst::Op{name(op.action), op.path, op.cid, op.prev});
  }
  mst::BlockSourceOf<car::Reader> blocks(s.commit.car);
  mst::InvertOptions io;
  io.require_record_blocks = true;
  mst::InvertResult r = mst::invert_commit(s.mst, s.ops, blocks, commit.data, f.prev_data, io);
  if (r.ok()) return v;
  v.invert_reason = r.reason;
  if (o.lenient) {
    v.flags |= kFlagInversionFailed;
    return v;
  }
  const char* detail = r.reason == mst::Reason::bad_mst_node ? mst::name(r.node_error) : "";
  return fail(v, reason_of(r.reason), detail, r.op_index);
}

Verdict& validate_commit(Verdict& v, const Frame& f, KeyProvider* keys, const ValidateOptions& o,
                         Scratch& s) {
  if (f.too_big) {
    if (!o.lenient) return fail(v, Reason::too_big_set);
    v.flags |= kFlagTooBig;
  }
  if (f.rebase) {
    if (!o.lenient) return fail(v, Reason::rebase_set);
    v.flags |= kFlagRebase;
  }
  size_t index = 0;
  if (Error e = check_ops(f, !o.lenient, &index); e != Error::ok) {
    return fail(v, reason_of(e), "", static_cast<int32_t>(index));
  }
  if (o.depth == Depth::frame) return v;
  Commit commit;
  if (!load_and_check(v, f, f.commit, o, s, &commit)) return v;
  if (!check_signature(v, commit, f.did, keys, o, s)) return v;
  if (o.depth == Depth::commit) {
    v.flags |= kFlagInversionSkipped;
    return v;
  }
  return invert(v, f, commit, o, s);
}

Verdict& validate_sync(Verdict& v, const Frame& f, KeyProvider* keys, const ValidateOptions& o,
                       Scratch& s) {
  if (o.depth == Depth::frame) return v;
  Commit commit;
  // #sync names no commit CID: the CAR's root is the commit.
  if (!load_and_check(v, f, cid::CidView(), o, s, &commit)) return v;
  check_signature(v, commit, f.did, keys, o, s);
  return v;
}

}  // namespace

Verdict validate(std::span<const uint8_t> frame, KeyProvider* keys, const ValidateOptions& options,
                 Scratch& scratch) {
  Verdict v;
  Frame& f = scratch.frame;
  Error e = scratch.parser.parse(frame, &f);
  summarize(f, &v.summary);
  if (e != Error::ok) return fail_parse(v, e, scratch.parser);
  if (e = check_syntax(f); e != Error::ok) return fail(v, reason_of(e));
  switch (f.type) {
    case Type::commit: return validate_commit(v, f, keys, options, scratch);
    case Type::sync: return validate_sync(v, f, keys, options, scratch);
    default: return v;  // #identity, #account, #info, errors, unknown: parse + syntax only
  }
}

}  // namespace ringlay::firehose
