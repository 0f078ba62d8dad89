// SPDX-License-Identifier: MIT
#include "relay/pending.h"

#include <algorithm>

#include "firehose/seq_patch.h"
#include "util/assert.h"

namespace ringlay::relay {

namespace {
constexpr uint32_t kGenLimit = 1u << 28;  // gen × 2^24 + slot < 2^52
}

uint64_t PendingTable::insert(BytesRef frame, uint32_t host, uint64_t conn, int64_t upstream_seq, uint64_t time_ms) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() >= kMaxSlots) return 0;
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Entry& e = slots_[slot];
  RL_ASSERT(e.state == EntryState::free);
  e.gen = e.gen + 1 >= kGenLimit ? 1 : e.gen + 1;
  e.frame = std::move(frame);
  e.did = {};
  e.synth_did.clear();
  e.seq_location = {};
  e.conn = conn;
  e.upstream_seq = upstream_seq;
  e.time_ms = time_ms;
  e.counted_bytes = 0;
  e.host = host;
  e.state = EntryState::validating;
  ++live_;
  return uint64_t{e.gen} * PendingTable::kMaxSlots + slot;
}

Entry* PendingTable::find(uint64_t id) {
  uint64_t slot = id % kMaxSlots;
  uint64_t gen = id / kMaxSlots;
  if (slot >= slots_.size()) return nullptr;
  Entry& e = slots_[slot];
  if (e.state == EntryState::free || e.gen != gen) return nullptr;
  return &e;
}

void PendingTable::release(uint64_t id) {
  Entry* e = find(id);
  if (e == nullptr) return;
  e->frame = BytesRef();
  e->did = {};
  e->state = EntryState::free;
  free_.push_back(static_cast<uint32_t>(id % kMaxSlots));
  --live_;
}

int64_t peek_upstream_seq(std::span<const uint8_t> frame, firehose::SeqLocation* out) {
  firehose::SeqLocation loc;
  if (firehose::locate_seq(frame, &loc) != firehose::PatchError::ok) return -1;
  // locate_seq checked the head: an unsigned integer of loc.size bytes.
  const uint8_t* p = frame.data() + loc.offset;
  uint64_t v = p[0] & 31u;
  if (loc.size > 1) {
    v = 0;
    for (uint32_t i = 1; i < loc.size; ++i) v = (v << 8) | p[i];
  }
  if (out != nullptr) *out = loc;
  return v > static_cast<uint64_t>(firehose::kMaxSeq) ? -1 : static_cast<int64_t>(v);
}

bool SeqOrder::admit(uint64_t conn, int64_t seq) {
  if (seq < 0) return true;
  auto [it, fresh] = last_.try_emplace(conn, seq);
  if (fresh) return true;
  if (seq <= it->second) return false;
  it->second = seq;
  return true;
}

FlowControl::Host& FlowControl::host(uint32_t id) { return hosts_[id]; }

void FlowControl::mark(uint32_t id, Host& h) {
  if (h.dirty) return;
  h.dirty = true;
  dirty_.push_back(id);
}

void FlowControl::set_paused(uint32_t id, Host& h, bool pause) {
  if (h.paused == pause) return;
  h.paused = pause;
  if (pause) paused_.insert(id);
  else paused_.erase(id);
  for (uint64_t c : h.conns) pauses_.push_back({c, pause});
  mark(id, h);
}

bool FlowControl::may_resume(const Host& h) const {
  return h.pending <= host_limit_ / 2 && (total_limit_ == 0 || total_bytes_ <= total_limit_ / 2);
}

void FlowControl::add(uint32_t id, uint64_t conn, uint64_t bytes) {
  Host& h = host(id);
  if (std::find(h.conns.begin(), h.conns.end(), conn) == h.conns.end()) {
    h.conns.push_back(conn);
    conn_host_[conn] = id;
    // A new connection of a paused host (a reconnect) starts paused.
    if (h.paused) pauses_.push_back({conn, true});
  }
  ++h.pending;
  ++total_events_;
  total_bytes_ += bytes;
  mark(id, h);
  if (h.pending > host_limit_ || (total_limit_ != 0 && total_bytes_ > total_limit_)) set_paused(id, h, true);
}

void FlowControl::remove(uint32_t id, uint64_t bytes) {
  auto it = hosts_.find(id);
  RL_ASSERT(it != hosts_.end() && it->second.pending > 0 && total_bytes_ >= bytes);
  Host& h = it->second;
  bool was_over = total_limit_ != 0 && total_bytes_ > total_limit_ / 2;
  --h.pending;
  --total_events_;
  total_bytes_ -= bytes;
  mark(id, h);
  if (h.paused && may_resume(h)) set_paused(id, h, false);
  // Hosts paused for the table's total (their own count may be low) resume once it fell.
  if (was_over && total_bytes_ <= total_limit_ / 2) resume_eligible();
}

void FlowControl::resume_eligible() {
  std::vector<uint32_t> ids(paused_.begin(), paused_.end());
  for (uint32_t id : ids) {
    Host& h = hosts_[id];
    if (may_resume(h)) set_paused(id, h, false);
  }
}

void FlowControl::connection_closed(uint64_t conn) {
  auto it = conn_host_.find(conn);
  if (it == conn_host_.end()) return;
  auto hit = hosts_.find(it->second);
  conn_host_.erase(it);
  if (hit == hosts_.end()) return;
  auto& conns = hit->second.conns;
  conns.erase(std::remove(conns.begin(), conns.end(), conn), conns.end());
  mark(hit->first, hit->second);
}

void FlowControl::take_changes(std::vector<PauseChange>& pauses, std::vector<HostCount>& out) {
  pauses.insert(pauses.end(), pauses_.begin(), pauses_.end());
  pauses_.clear();
  for (uint32_t id : dirty_) {
    auto it = hosts_.find(id);
    if (it == hosts_.end()) continue;
    Host& h = it->second;
    h.dirty = false;
    out.push_back({id, h.pending, h.paused});
    // Forget idle hosts (the last report said 0, not paused).
    if (h.pending == 0 && !h.paused && h.conns.empty()) hosts_.erase(it);
  }
  dirty_.clear();
}

uint32_t FlowControl::pending(uint32_t id) const {
  auto it = hosts_.find(id);
  return it == hosts_.end() ? 0 : it->second.pending;
}

}  // namespace ringlay::relay
