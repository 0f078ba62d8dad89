// SPDX-License-Identifier: MIT
#include "mst/invert.h"

#include <algorithm>

#include "mst/key.h"
#include "util/assert.h"

namespace ringlay::mst {

namespace {

enum class Action : uint8_t { create, update, del, invalid };

Action parse_action(std::string_view a) {
  if (a == "create") return Action::create;
  if (a == "update") return Action::update;
  if (a == "delete") return Action::del;
  return Action::invalid;
}

Reason check_op(const Op& op, Action action) {
  const bool has_cid = !op.cid.empty();
  const bool has_prev = !op.prev.empty();
  bool ok = false;
  switch (action) {
    case Action::create: ok = has_cid && !has_prev; break;
    case Action::update: ok = has_cid && has_prev; break;
    case Action::del: ok = !has_cid && has_prev; break;
    case Action::invalid: ok = false; break;
  }
  if (!ok) return Reason::invalid_op;
  if (!is_valid_key(op.path)) return Reason::invalid_op_path;
  return Reason::ok;
}

InvertResult fail(Reason reason, int32_t op_index, const Tree* tree = nullptr) {
  InvertResult r;
  r.reason = reason;
  r.op_index = op_index;
  if (tree != nullptr) {
    r.node_error = reason == Reason::bad_mst_node ? tree->node_error() : NodeError::ok;
    r.nodes_loaded = tree->nodes_loaded();
    r.nodes_hashed = tree->nodes_hashed();
  }
  return r;
}

// Step 2: the new tree holds each create/update op's cid at its path.
InvertResult forward_check(Tree& tree, std::span<const Op> ops, const Action* actions,
                           const BlockSource& blocks, const InvertOptions& options) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (actions[i] == Action::del) continue;
    const int32_t index = static_cast<int32_t>(i);
    cid::CidView value;
    const Reason r = tree.get(ops[i].path, &value);
    if (r == Reason::key_not_found || (r == Reason::ok && !(value == ops[i].cid))) {
      return fail(Reason::op_value_mismatch, index, &tree);
    }
    if (r != Reason::ok) return fail(r, index, &tree);
    if (options.require_record_blocks && !blocks.find(ops[i].cid)) {
      return fail(Reason::missing_record_block, index, &tree);
    }
  }
  return InvertResult{};
}

// Step 3 for one op.
Reason undo(Tree& tree, const Op& op, Action action) {
  cid::CidView old;
  Reason r = Reason::ok;
  switch (action) {
    case Action::create:
      r = tree.remove(op.path, &old);
      if (r == Reason::key_not_found || (r == Reason::ok && !(old == op.cid))) {
        return Reason::op_value_mismatch;
      }
      return r;
    case Action::update:
      r = tree.put(op.path, op.prev, &old);
      if (r == Reason::ok && !(old == op.cid)) return Reason::op_value_mismatch;
      return r;
    case Action::del:
      r = tree.put(op.path, op.prev, &old);
      if (r == Reason::ok && !old.empty()) return Reason::deleted_key_present;
      return r;
    case Action::invalid: break;
  }
  RL_ASSERT(false && "undo of an unchecked op");
  return Reason::invalid_op;
}

// Step 1, and the order of step 3: checks every op, rejects duplicate paths, and fills
// `undo_order` with deletions first, each group by path (as indigo normalises ops).
InvertResult normalize(Arena& arena, std::span<const Op> ops, Action* actions,
                       uint32_t* undo_order) {
  const size_t n = ops.size();
  uint32_t* by_path = arena.make_array<uint32_t>(n == 0 ? 1 : n);
  for (size_t i = 0; i < n; ++i) {
    actions[i] = parse_action(ops[i].action);
    if (Reason r = check_op(ops[i], actions[i]); r != Reason::ok) {
      return fail(r, static_cast<int32_t>(i));
    }
    by_path[i] = static_cast<uint32_t>(i);
  }
  std::sort(by_path, by_path + n,
            [&](uint32_t a, uint32_t b) { return ops[a].path < ops[b].path; });
  for (size_t i = 1; i < n; ++i) {
    if (ops[by_path[i]].path == ops[by_path[i - 1]].path) {
      return fail(Reason::duplicate_op_path, static_cast<int32_t>(by_path[i]));
    }
  }
  // A stable partition by hand: std::stable_partition may take a heap buffer.
  size_t filled = 0;
  for (size_t k = 0; k < n; ++k) {
    if (actions[by_path[k]] == Action::del) undo_order[filled++] = by_path[k];
  }
  for (size_t k = 0; k < n; ++k) {
    if (actions[by_path[k]] != Action::del) undo_order[filled++] = by_path[k];
  }
  return InvertResult{};
}

}  // namespace

InvertResult invert_commit(Workspace& ws, std::span<const Op> ops, const BlockSource& blocks,
                           cid::CidView data, cid::CidView prev_data,
                           const InvertOptions& options) {
  ws.reset();
  const size_t n = ops.size();
  Action* actions = ws.arena.make_array<Action>(n == 0 ? 1 : n);
  uint32_t* undo_order = ws.arena.make_array<uint32_t>(n == 0 ? 1 : n);
  if (InvertResult r = normalize(ws.arena, ops, actions, undo_order); !r.ok()) return r;

  Tree tree(ws, &blocks);
  if (Reason r = tree.open(data); r != Reason::ok) return fail(r, -1, &tree);
  if (InvertResult r = forward_check(tree, ops, actions, blocks, options); !r.ok()) return r;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t i = undo_order[k];
    if (Reason r = undo(tree, ops[i], actions[i]); r != Reason::ok) {
      return fail(r, static_cast<int32_t>(i), &tree);
    }
  }

  InvertResult result;
  result.root = tree.root_cid();
  result.nodes_loaded = tree.nodes_loaded();
  result.nodes_hashed = tree.nodes_hashed();
  if (!prev_data.empty() && !(result.root == prev_data)) result.reason = Reason::inversion_mismatch;
  return result;
}

}  // namespace ringlay::mst
