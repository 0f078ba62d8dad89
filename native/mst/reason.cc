// SPDX-License-Identifier: MIT
#include "mst/reason.h"

namespace ringlay::mst {

const char* name(Reason r) {
  switch (r) {
    case Reason::ok: return "ok";
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
  }
  return "unknown";
}

const char* name(NodeError e) {
  switch (e) {
    case NodeError::ok: return "ok";
    case NodeError::cbor: return "cbor";
    case NodeError::bad_shape: return "bad_shape";
    case NodeError::bad_link: return "bad_link";
    case NodeError::bad_prefix: return "bad_prefix";
    case NodeError::bad_key: return "bad_key";
    case NodeError::key_order: return "key_order";
    case NodeError::wrong_layer: return "wrong_layer";
    case NodeError::key_out_of_range: return "key_out_of_range";
    case NodeError::empty_node: return "empty_node";
    case NodeError::leaf_has_children: return "leaf_has_children";
    case NodeError::too_many_entries: return "too_many_entries";
  }
  return "unknown";
}

}  // namespace ringlay::mst
