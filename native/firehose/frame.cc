// SPDX-License-Identifier: MIT
#include "firehose/frame.h"

#include "firehose/syntax.h"
#include "util/assert.h"

namespace ringlay::firehose {

const char* name(Type t) {
  switch (t) {
    case Type::commit: return "commit";
    case Type::sync: return "sync";
    case Type::identity: return "identity";
    case Type::account: return "account";
    case Type::info: return "info";
    case Type::error: return "error";
    case Type::unknown: return "unknown";
  }
  return "unknown";
}

const char* name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::frame_too_large: return "frame_too_large";
    case Error::bad_header_cbor: return "bad_header_cbor";
    case Error::missing_body: return "missing_body";
    case Error::bad_body_cbor: return "bad_body_cbor";
    case Error::header_not_map: return "header_not_map";
    case Error::bad_header_op: return "bad_header_op";
    case Error::unknown_op: return "unknown_op";
    case Error::missing_type: return "missing_type";
    case Error::body_not_map: return "body_not_map";
    case Error::missing_field: return "missing_field";
    case Error::wrong_field_type: return "wrong_field_type";
    case Error::seq_out_of_range: return "seq_out_of_range";
    case Error::blocks_too_large: return "blocks_too_large";
    case Error::too_many_ops: return "too_many_ops";
    case Error::bad_op_action: return "bad_op_action";
    case Error::bad_op_path: return "bad_op_path";
    case Error::op_missing_cid: return "op_missing_cid";
    case Error::op_unexpected_cid: return "op_unexpected_cid";
    case Error::op_missing_prev: return "op_missing_prev";
    case Error::op_unexpected_prev: return "op_unexpected_prev";
    case Error::bad_did: return "bad_did";
    case Error::bad_rev: return "bad_rev";
    case Error::bad_since: return "bad_since";
    case Error::bad_time: return "bad_time";
    case Error::bad_handle: return "bad_handle";
  }
  return "unknown";
}

const char* name(Action a) {
  switch (a) {
    case Action::create: return "create";
    case Action::update: return "update";
    case Action::delete_: return "delete";
  }
  return "unknown";
}

namespace {

cbor::Limits frame_limits(const Limits& l) {
  cbor::Limits c;
  c.max_string = l.max_frame;
  return c;
}

// Field readers: a missing required field, or any field of the wrong type, is a failure
// naming that field; `ok` distinguishes absent optional fields from failures.
enum class Read : uint8_t { ok, missing, wrong_type };

Read text(cbor::Value body, const char* key, std::string_view* out) {
  cbor::Value v = body.find(key);
  if (!v.exists()) return Read::missing;
  if (auto t = v.as_text()) {
    *out = *t;
    return Read::ok;
  }
  return Read::wrong_type;
}

Read link(cbor::Value v, cid::CidView* out) {
  if (!v.exists()) return Read::missing;
  if (auto c = v.as_link()) {
    *out = *c;
    return Read::ok;
  }
  return Read::wrong_type;
}

// Optional text: absent or null → nullopt; anything but text → wrong_type.
Read optional_text(cbor::Value body, const char* key, std::optional<std::string_view>* out) {
  cbor::Value v = body.find(key);
  out->reset();
  if (!v.exists() || v.is_null()) return Read::ok;
  if (auto t = v.as_text()) {
    *out = *t;
    return Read::ok;
  }
  return Read::wrong_type;
}

// Deprecated boolean (tooBig, rebase): absent → false.
Read optional_bool(cbor::Value body, const char* key, bool* out) {
  cbor::Value v = body.find(key);
  *out = false;
  if (!v.exists()) return Read::ok;
  if (auto b = v.as_bool()) {
    *out = *b;
    return Read::ok;
  }
  return Read::wrong_type;
}

}  // namespace

Parser::Parser(const Limits& limits) : limits_(limits), decoder_(frame_limits(limits)) {
  ops_.reserve(limits.max_ops);
}

Error Parser::fail(Error e, const char* field) {
  field_ = field;
  return e;
}

#define RL_READ(expr, field)                                                       \
  do {                                                                             \
    Read r_ = (expr);                                                              \
    if (r_ == Read::missing) return fail(Error::missing_field, field);             \
    if (r_ == Read::wrong_type) return fail(Error::wrong_field_type, field);       \
  } while (0)

Error Parser::parse(std::span<const uint8_t> frame, Frame* out) {
  *out = Frame();
  field_ = "";
  cbor_error_ = cbor::Error::ok;
  error_offset_ = 0;
  header_ = body_ = cbor::Value();
  ops_.clear();
  decoder_.clear();
  if (frame.size() > limits_.max_frame) return fail(Error::frame_too_large);

  size_t header_end = 0;
  cbor::Result h = decoder_.decode_prefix(frame, &header_end);
  if (!h.ok()) {
    cbor_error_ = h.error;
    error_offset_ = h.offset;
    return fail(Error::bad_header_cbor);
  }
  if (header_end == frame.size()) return fail(Error::missing_body);
  cbor::Result b = decoder_.decode(frame.subspan(header_end));
  if (!b.ok()) {
    cbor_error_ = b.error;
    error_offset_ = static_cast<uint32_t>(header_end + b.offset);
    return fail(Error::bad_body_cbor);
  }
  header_ = h.value;
  body_ = b.value;
  out->body_offset = static_cast<uint32_t>(header_end);

  if (!header_.is_map()) return fail(Error::header_not_map);
  std::optional<int64_t> op = header_.find("op").as_int();
  if (!op) return fail(Error::bad_header_op);
  out->op = *op;
  cbor::Value t = header_.find("t");
  if (t.exists() && !t.as_text()) return fail(Error::missing_type);
  out->t = t.as_text().value_or(std::string_view());
  if (*op == -1) {
    // Error frame. `t` should be absent; Go's encoder writes "" (accepted, kept in out->t).
    out->type = Type::error;
  } else if (*op == 1) {
    if (!t.exists()) return fail(Error::missing_type);
    std::string_view s = out->t;
    out->type = s == "#commit"     ? Type::commit
                : s == "#sync"     ? Type::sync
                : s == "#identity" ? Type::identity
                : s == "#account"  ? Type::account
                : s == "#info"     ? Type::info
                                   : Type::unknown;
  } else {
    return fail(Error::unknown_op);
  }
  if (!body_.is_map()) return fail(Error::body_not_map);
  return parse_body(out);
}

Error Parser::parse_body(Frame* out) {
  switch (out->type) {
    case Type::commit: return parse_commit(body_, out);
    case Type::sync: return parse_sync(body_, out);
    case Type::identity: return parse_identity(body_, out);
    case Type::account: return parse_account(body_, out);
    case Type::info: return parse_named(body_, "name", out);
    case Type::error: return parse_named(body_, "error", out);
    case Type::unknown: return Error::ok;
  }
  return Error::ok;
}

Error Parser::read_seq(cbor::Value body, Frame* out) {
  cbor::Value v = body.find("seq");
  if (!v.exists()) return fail(Error::missing_field, "seq");
  std::optional<int64_t> seq = v.as_int();
  if (!seq) return fail(Error::wrong_field_type, "seq");
  if (*seq < 0 || *seq > kMaxSeq) return fail(Error::seq_out_of_range, "seq");
  out->has_seq = true;
  out->seq = *seq;
  // Positions are relative to the body's input; the body starts at body_offset.
  out->seq_location.offset = out->body_offset + v.pos();
  out->seq_location.size = v.end_pos() - v.pos();
  return Error::ok;
}

Error Parser::parse_commit(cbor::Value body, Frame* out) {
  if (Error e = read_seq(body, out); e != Error::ok) return e;
  RL_READ(text(body, "repo", &out->did), "repo");
  RL_READ(link(body.find("commit"), &out->commit), "commit");
  RL_READ(text(body, "rev", &out->rev), "rev");
  cbor::Value since = body.find("since");
  if (!since.exists()) return fail(Error::missing_field, "since");
  if (!since.is_null()) {
    if (!since.as_text()) return fail(Error::wrong_field_type, "since");
    out->since = *since.as_text();
  }
  cbor::Value blocks = body.find("blocks");
  if (!blocks.exists()) return fail(Error::missing_field, "blocks");
  if (!blocks.as_bytes()) return fail(Error::wrong_field_type, "blocks");
  out->blocks = *blocks.as_bytes();
  if (out->blocks.size() > limits_.max_commit_blocks) return fail(Error::blocks_too_large, "blocks");
  cbor::Value prev_data = body.find("prevData");
  if (prev_data.exists() && !prev_data.is_null()) {
    RL_READ(link(prev_data, &out->prev_data), "prevData");
  }
  RL_READ(optional_bool(body, "tooBig", &out->too_big), "tooBig");
  RL_READ(optional_bool(body, "rebase", &out->rebase), "rebase");
  cbor::Value blobs = body.find("blobs");
  if (blobs.exists() && !blobs.is_null()) {
    if (!blobs.is_array()) return fail(Error::wrong_field_type, "blobs");
    out->blobs = blobs.size();
  }
  RL_READ(text(body, "time", &out->time), "time");
  cbor::Value ops = body.find("ops");
  if (!ops.exists()) return fail(Error::missing_field, "ops");
  return parse_ops(ops, out);
}

Error Parser::parse_ops(cbor::Value ops, Frame* out) {
  if (!ops.is_array()) return fail(Error::wrong_field_type, "ops");
  if (ops.size() > limits_.max_ops) return fail(Error::too_many_ops, "ops");
  for (uint32_t i = 0; i < ops.size(); i++) {
    cbor::Value o = ops.at(i);
    if (!o.is_map()) return fail(Error::wrong_field_type, "ops");
    RepoOp op{};
    std::string_view action;
    RL_READ(text(o, "action", &action), "ops.action");
    if (action == "create") {
      op.action = Action::create;
    } else if (action == "update") {
      op.action = Action::update;
    } else if (action == "delete") {
      op.action = Action::delete_;
    } else {
      return fail(Error::bad_op_action, "ops.action");
    }
    RL_READ(text(o, "path", &op.path), "ops.path");
    cbor::Value c = o.find("cid");
    if (!c.exists()) return fail(Error::missing_field, "ops.cid");
    if (!c.is_null()) RL_READ(link(c, &op.cid), "ops.cid");
    cbor::Value prev = o.find("prev");
    if (prev.exists() && !prev.is_null()) RL_READ(link(prev, &op.prev), "ops.prev");
    ops_.push_back(op);
  }
  out->ops = ops_;
  return Error::ok;
}

Error Parser::parse_sync(cbor::Value body, Frame* out) {
  if (Error e = read_seq(body, out); e != Error::ok) return e;
  RL_READ(text(body, "did", &out->did), "did");
  RL_READ(text(body, "rev", &out->rev), "rev");
  cbor::Value blocks = body.find("blocks");
  if (!blocks.exists()) return fail(Error::missing_field, "blocks");
  if (!blocks.as_bytes()) return fail(Error::wrong_field_type, "blocks");
  out->blocks = *blocks.as_bytes();
  if (out->blocks.size() > limits_.max_sync_blocks) return fail(Error::blocks_too_large, "blocks");
  RL_READ(text(body, "time", &out->time), "time");
  return Error::ok;
}

Error Parser::parse_identity(cbor::Value body, Frame* out) {
  if (Error e = read_seq(body, out); e != Error::ok) return e;
  RL_READ(text(body, "did", &out->did), "did");
  RL_READ(text(body, "time", &out->time), "time");
  RL_READ(optional_text(body, "handle", &out->handle), "handle");
  return Error::ok;
}

Error Parser::parse_account(cbor::Value body, Frame* out) {
  if (Error e = read_seq(body, out); e != Error::ok) return e;
  RL_READ(text(body, "did", &out->did), "did");
  RL_READ(text(body, "time", &out->time), "time");
  cbor::Value active = body.find("active");
  if (!active.exists()) return fail(Error::missing_field, "active");
  if (!active.as_bool()) return fail(Error::wrong_field_type, "active");
  out->active = *active.as_bool();
  RL_READ(optional_text(body, "status", &out->status), "status");
  return Error::ok;
}

// #info {name, message?} and error frames {error, message?}.
Error Parser::parse_named(cbor::Value body, const char* key, Frame* out) {
  RL_READ(text(body, key, &out->name), key);
  RL_READ(optional_text(body, "message", &out->message), "message");
  return Error::ok;
}

#undef RL_READ

Error check_ops(const Frame& f, bool require_prev, size_t* index) {
  for (size_t i = 0; i < f.ops.size(); i++) {
    const RepoOp& op = f.ops[i];
    if (index != nullptr) *index = i;
    if (!valid_repo_path(op.path)) return Error::bad_op_path;
    switch (op.action) {
      case Action::create:
        if (op.cid.empty()) return Error::op_missing_cid;
        if (!op.prev.empty()) return Error::op_unexpected_prev;
        break;
      case Action::update:
        if (op.cid.empty()) return Error::op_missing_cid;
        if (require_prev && op.prev.empty()) return Error::op_missing_prev;
        break;
      case Action::delete_:
        if (!op.cid.empty()) return Error::op_unexpected_cid;
        if (require_prev && op.prev.empty()) return Error::op_missing_prev;
        break;
    }
  }
  return Error::ok;
}

Error check_syntax(const Frame& f) {
  switch (f.type) {
    case Type::commit:
    case Type::sync:
    case Type::identity:
    case Type::account: break;
    default: return Error::ok;
  }
  if (!valid_did(f.did)) return Error::bad_did;
  if (!valid_datetime(f.time)) return Error::bad_time;
  if (f.type == Type::commit || f.type == Type::sync) {
    if (!valid_tid(f.rev)) return Error::bad_rev;
  }
  if (f.type == Type::commit && f.since && !valid_tid(*f.since)) return Error::bad_since;
  if (f.type == Type::identity && f.handle && !valid_handle(*f.handle)) return Error::bad_handle;
  return Error::ok;
}

}  // namespace ringlay::firehose
