// SPDX-License-Identifier: MIT
// Why an MST operation or a Sync 1.1 inversion failed. The names are stable: JS sees them and
// metrics count them.
#pragma once

#include <cstdint>

namespace ringlay::mst {

enum class Reason : uint8_t {
  ok,
  key_not_found,         // get/remove: the key is not in the tree
  invalid_key,           // a key that breaks the repo path rules
  missing_block,         // the step needs a node whose block the source lacks (partial tree)
  bad_mst_node,          // a node block that is not a valid MST node (see NodeError)
  invalid_op,            // action unknown, or cid/prev do not fit the action
  invalid_op_path,       // an op path that is not a valid MST key
  duplicate_op_path,     // two ops on one path
  op_value_mismatch,     // the new tree's value at an op's path is not the op's cid
  deleted_key_present,   // a delete op's path is still in the new tree
  missing_record_block,  // a create/update op's record block is not in the message
  inversion_mismatch,    // the inverted tree's root is not prevData
};

const char* name(Reason r);

// Detail for Reason::bad_mst_node: which rule the node broke.
enum class NodeError : uint8_t {
  ok,
  cbor,                // not strict DAG-CBOR
  bad_shape,           // not {e: [...], l: link|null} with entries {k, p, t, v}
  bad_link,            // l or t is not a dag-cbor sha2-256 CID
  bad_prefix,          // p longer than the previous key, non-zero first, or not maximal
  bad_key,             // empty or longer than kMaxKeyBytes
  key_order,           // keys not strictly increasing
  wrong_layer,         // a key whose height is not the node's layer
  key_out_of_range,    // a key outside the gap its parent hangs the node in
  empty_node,          // a node with nothing in it below the root, or a root that only points down
  leaf_has_children,   // a layer-0 node with subtree links
  too_many_entries,    // more than kMaxNodeEntries
};

const char* name(NodeError e);

}  // namespace ringlay::mst
