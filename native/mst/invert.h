// SPDX-License-Identifier: MIT
// Sync 1.1 operation inversion: proof that a #commit's ops are every change between the tree
// at prevData and the tree at commit.data, using only the blocks the message carries.
//
//   1. ops are well formed: create has cid and no prev, update both, delete prev and no cid;
//      paths are valid MST keys and unique;
//   2. forward check: each create/update path holds op.cid in the new tree (optionally: the
//      record block is in the message);
//   3. on the partial tree at commit.data, undo the ops, deletions first then by path:
//      create -> remove (the removed value must be op.cid), update -> put op.prev (the replaced
//      value must be op.cid), delete -> insert op.prev (the path must be absent);
//   4. the root CID of the result must equal prevData.
//
// Reentrant: all state is in the caller's Workspace (one per thread); no globals, no locks.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "cid/cid.h"
#include "mst/reason.h"
#include "mst/tree.h"

namespace ringlay::mst {

struct Op {
  std::string_view action;  // "create", "update" or "delete"; anything else is invalid_op
  std::string_view path;    // "<collection>/<rkey>"
  cid::CidView cid;         // empty for null
  cid::CidView prev;        // empty when absent (or null)
};

struct InvertOptions {
  // Step 2 also requires each create/update record block to be in `blocks`.
  bool require_record_blocks = false;
};

struct InvertResult {
  Reason reason = Reason::ok;
  int32_t op_index = -1;                 // index in `ops` of the op that failed, else -1
  NodeError node_error = NodeError::ok;  // detail when reason is bad_mst_node
  // The inverted tree's root: set when every op inverted (reason ok or inversion_mismatch).
  cid::Cid root;
  uint32_t nodes_loaded = 0;  // node blocks decoded
  uint32_t nodes_hashed = 0;  // nodes re-encoded and hashed
  bool ok() const { return reason == Reason::ok; }
};

// `data` is the commit's MST root, `prev_data` the message's prevData. With an empty
// prev_data (a pre-Sync-1.1 commit) nothing is compared: the result carries the computed root
// and reason ok, and the caller decides. Views in `ops` and the bytes `blocks` returns must
// stay valid during the call. Resets `ws` first.
InvertResult invert_commit(Workspace& ws, std::span<const Op> ops, const BlockSource& blocks,
                           cid::CidView data, cid::CidView prev_data,
                           const InvertOptions& options = {});

}  // namespace ringlay::mst
