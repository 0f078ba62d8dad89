// SPDX-License-Identifier: MIT
// Reason names, flag names, and the mapping of each module's reasons onto Reason.
#include "firehose/validate.h"

namespace ringlay::firehose {

const char* name(Reason r) {
  switch (r) {
    case Reason::ok: return "ok";
    case Reason::frame_too_large: return "frame_too_large";
    case Reason::bad_header_cbor: return "bad_header_cbor";
    case Reason::missing_body: return "missing_body";
    case Reason::bad_body_cbor: return "bad_body_cbor";
    case Reason::header_not_map: return "header_not_map";
    case Reason::bad_header_op: return "bad_header_op";
    case Reason::unknown_op: return "unknown_op";
    case Reason::missing_type: return "missing_type";
    case Reason::body_not_map: return "body_not_map";
    case Reason::missing_field: return "missing_field";
    case Reason::wrong_field_type: return "wrong_field_type";
    case Reason::seq_out_of_range: return "seq_out_of_range";
    case Reason::blocks_too_large: return "blocks_too_large";
    case Reason::too_many_ops: return "too_many_ops";
    case Reason::bad_op_action: return "bad_op_action";
    case Reason::bad_op_path: return "bad_op_path";
    case Reason::op_missing_cid: return "op_missing_cid";
    case Reason::op_unexpected_cid: return "op_unexpected_cid";
    case Reason::op_missing_prev: return "op_missing_prev";
    case Reason::op_unexpected_prev: return "op_unexpected_prev";
    case Reason::bad_did: return "bad_did";
    case Reason::bad_rev: return "bad_rev";
    case Reason::bad_since: return "bad_since";
    case Reason::bad_time: return "bad_time";
    case Reason::bad_handle: return "bad_handle";
    case Reason::too_big_set: return "too_big_set";
    case Reason::rebase_set: return "rebase_set";
    case Reason::bad_car: return "bad_car";
    case Reason::car_root_mismatch: return "car_root_mismatch";
    case Reason::commit_block_missing: return "commit_block_missing";
    case Reason::bad_commit_cbor: return "bad_commit_cbor";
    case Reason::bad_commit_shape: return "bad_commit_shape";
    case Reason::bad_commit_version: return "bad_commit_version";
    case Reason::commit_did_mismatch: return "commit_did_mismatch";
    case Reason::commit_rev_mismatch: return "commit_rev_mismatch";
    case Reason::bad_commit_rev: return "bad_commit_rev";
    case Reason::future_rev: return "future_rev";
    case Reason::sync_extra_blocks: return "sync_extra_blocks";
    case Reason::no_key: return "no_key";
    case Reason::key_unusable: return "key_unusable";
    case Reason::der_signature: return "der_signature";
    case Reason::bad_signature_length: return "bad_signature_length";
    case Reason::r_out_of_range: return "r_out_of_range";
    case Reason::s_out_of_range: return "s_out_of_range";
    case Reason::high_s: return "high_s";
    case Reason::bad_signature: return "bad_signature";
    case Reason::crypto_internal_error: return "crypto_internal_error";
    case Reason::missing_prev_data: return "missing_prev_data";
    case Reason::key_not_found: return "key_not_found";
    case Reason::invalid_key: return "invalid_key";
    case Reason::missing_block: return "missing_block";
    case Reason::bad_mst_node: return "bad_mst_node";
    case Reason::invalid_op: return "invalid_op";
    case Reason::invalid_op_path: return "invalid_op_path";
    case Reason::duplicate_op_path: return "duplicate_op_path";
    case Reason::op_value_mismatch: return "op_value_mismatch";
    case Reason::deleted_key_present: return "deleted_key_present";
    case Reason::missing_record_block: return "missing_record_block";
    case Reason::inversion_mismatch: return "inversion_mismatch";
    case Reason::cancelled: return "cancelled";
  }
  return "unknown";
}

const char* flag_name(uint32_t index) {
  static constexpr const char* kNames[kFlagCount] = {
      "no_prev_data", "legacy_ops",  "inversion_skipped", "inversion_failed",
      "signature_skipped", "too_big", "rebase",
  };
  return index < kFlagCount ? kNames[index] : "unknown";
}

const char* name(KeyStatus s) {
  switch (s) {
    case KeyStatus::not_checked: return "not_checked";
    case KeyStatus::found: return "found";
    case KeyStatus::missing: return "missing";
    case KeyStatus::unusable: return "unusable";
  }
  return "unknown";
}

Reason reason_of(Error e) {
  switch (e) {
    case Error::ok: return Reason::ok;
    case Error::frame_too_large: return Reason::frame_too_large;
    case Error::bad_header_cbor: return Reason::bad_header_cbor;
    case Error::missing_body: return Reason::missing_body;
    case Error::bad_body_cbor: return Reason::bad_body_cbor;
    case Error::header_not_map: return Reason::header_not_map;
    case Error::bad_header_op: return Reason::bad_header_op;
    case Error::unknown_op: return Reason::unknown_op;
    case Error::missing_type: return Reason::missing_type;
    case Error::body_not_map: return Reason::body_not_map;
    case Error::missing_field: return Reason::missing_field;
    case Error::wrong_field_type: return Reason::wrong_field_type;
    case Error::seq_out_of_range: return Reason::seq_out_of_range;
    case Error::blocks_too_large: return Reason::blocks_too_large;
    case Error::too_many_ops: return Reason::too_many_ops;
    case Error::bad_op_action: return Reason::bad_op_action;
    case Error::bad_op_path: return Reason::bad_op_path;
    case Error::op_missing_cid: return Reason::op_missing_cid;
    case Error::op_unexpected_cid: return Reason::op_unexpected_cid;
    case Error::op_missing_prev: return Reason::op_missing_prev;
    case Error::op_unexpected_prev: return Reason::op_unexpected_prev;
    case Error::bad_did: return Reason::bad_did;
    case Error::bad_rev: return Reason::bad_rev;
    case Error::bad_since: return Reason::bad_since;
    case Error::bad_time: return Reason::bad_time;
    case Error::bad_handle: return Reason::bad_handle;
  }
  return Reason::bad_body_cbor;
}

Reason reason_of(CommitError e) {
  switch (e) {
    case CommitError::ok: return Reason::ok;
    case CommitError::bad_car: return Reason::bad_car;
    case CommitError::car_root_mismatch: return Reason::car_root_mismatch;
    case CommitError::commit_block_missing: return Reason::commit_block_missing;
    case CommitError::bad_commit_cbor: return Reason::bad_commit_cbor;
    case CommitError::bad_commit_shape: return Reason::bad_commit_shape;
    case CommitError::bad_commit_version: return Reason::bad_commit_version;
    case CommitError::commit_did_mismatch: return Reason::commit_did_mismatch;
    case CommitError::commit_rev_mismatch: return Reason::commit_rev_mismatch;
    case CommitError::bad_commit_rev: return Reason::bad_commit_rev;
    case CommitError::future_rev: return Reason::future_rev;
    case CommitError::sync_extra_blocks: return Reason::sync_extra_blocks;
  }
  return Reason::bad_car;
}

Reason reason_of(crypto::VerifyError e) {
  using V = crypto::VerifyError;
  switch (e) {
    case V::ok: return Reason::ok;
    case V::no_key: return Reason::key_unusable;  // the key object itself is not valid()
    case V::der_signature: return Reason::der_signature;
    case V::bad_signature_length: return Reason::bad_signature_length;
    case V::r_out_of_range: return Reason::r_out_of_range;
    case V::s_out_of_range: return Reason::s_out_of_range;
    case V::high_s: return Reason::high_s;
    case V::bad_signature: return Reason::bad_signature;
    case V::internal_error: return Reason::crypto_internal_error;
  }
  return Reason::bad_signature;
}

Reason reason_of(mst::Reason r) {
  switch (r) {
    case mst::Reason::ok: return Reason::ok;
    case mst::Reason::key_not_found: return Reason::key_not_found;
    case mst::Reason::invalid_key: return Reason::invalid_key;
    case mst::Reason::missing_block: return Reason::missing_block;
    case mst::Reason::bad_mst_node: return Reason::bad_mst_node;
    case mst::Reason::invalid_op: return Reason::invalid_op;
    case mst::Reason::invalid_op_path: return Reason::invalid_op_path;
    case mst::Reason::duplicate_op_path: return Reason::duplicate_op_path;
    case mst::Reason::op_value_mismatch: return Reason::op_value_mismatch;
    case mst::Reason::deleted_key_present: return Reason::deleted_key_present;
    case mst::Reason::missing_record_block: return Reason::missing_record_block;
    case mst::Reason::inversion_mismatch: return Reason::inversion_mismatch;
  }
  return Reason::inversion_mismatch;
}

}  // namespace ringlay::firehose
