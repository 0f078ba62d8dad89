// SPDX-License-Identifier: MIT
// Consumers hold positions, not copies: a frame is stored once in `frames_` and referenced by
// every batch that sends it. Items that are not shared frames (the partially sent item, control
// frames, the error and close frames) are *moved* into a batch when it is built and settled back
// by complete(): finished ones are dropped, a half-sent one becomes `partial`, untouched ones
// return to where they came from. So the consumer state never points into a batch, and a batch
// the driver still holds after remove() only keeps its own references alive.
#include "fanout/fanout.h"

#include <algorithm>

#include "fanout/error_frame.h"
#include "util/assert.h"

namespace ringlay::fanout {

namespace {

// A binary message that is not a window frame (error frame, #info): payload + its header.
Item message_item(ItemKind kind, BytesRef payload) {
  Item item;
  item.kind = kind;
  item.size = payload.size();
  item.header = ws::server_frame_header(ws::Opcode::binary, item.size);
  item.payload = std::move(payload);
  return item;
}

// A whole encoded frame (control, close, the 101): no header of ours.
Item raw_item(ItemKind kind, BytesRef bytes) {
  Item item;
  item.kind = kind;
  item.size = bytes.size();
  item.payload = std::move(bytes);
  return item;
}

}  // namespace

const char* name(Start s) {
  switch (s) {
    case Start::live: return "live";
    case Start::replay: return "replay";
    case Start::outdated: return "outdated";
    case Start::future: return "future";
  }
  return "unknown";
}

void SendBatch::clear() {
  items.clear();
  iov.clear();
  bytes = 0;
  close_code = 0;
  close_reason = "";
  close_text = {};
}

Fanout::Consumer* Fanout::find(ConsumerId id) {
  uint32_t slot = static_cast<uint32_t>(id);
  uint32_t gen = static_cast<uint32_t>(id >> 32);
  if (slot >= slots_.size() || !slots_[slot].used || slots_[slot].generation != gen) return nullptr;
  return &slots_[slot];
}

const Fanout::Consumer* Fanout::find(ConsumerId id) const {
  return const_cast<Fanout*>(this)->find(id);
}

bool Fanout::contains(ConsumerId id) const { return find(id) != nullptr; }

ConsumerId Fanout::new_consumer(uint64_t next_frame) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Consumer& c = slots_[slot];
  uint32_t gen = c.generation + 1;  // ids of earlier occupants stop matching
  c = Consumer{};
  c.generation = gen;
  c.used = true;
  c.next_frame = next_frame;
  if (next_frame < head_index()) mark_ready(slot);
  return (uint64_t{gen} << 32) | slot;
}

ConsumerId Fanout::attach() { return new_consumer(head_index()); }

std::optional<ConsumerId> Fanout::attach_at(uint64_t index) {
  if (index < base_ || index > head_index()) return std::nullopt;
  return new_consumer(index);
}

bool Fanout::set_position(ConsumerId id, uint64_t index) {
  Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  if (c->in_flight || c->partial || c->mode == Mode::closing) return false;
  if (index < base_ || index > head_index()) return false;
  c->mode = Mode::live;
  c->next_frame = index;
  if (index > base_) c->after_seq = std::max(c->after_seq, frames_[index - 1 - base_].seq);
  mark_ready(static_cast<uint32_t>(id));
  return true;
}

std::optional<uint64_t> Fanout::index_after_seq(uint64_t seq) const {
  // Answerable only if nothing newer than `seq` has been released: either the window starts at
  // or before it, or the window is empty and nothing newer was ever published.
  // Empty, it also needs every frame after `seq` to be published from now on: not so below
  // the stream floor (frames the log wrote before this core was fed, e.g. by the process
  // before a restart).
  if (frames_.empty()) {
    if (seq >= last_seq_ && seq >= stream_floor_) return head_index();
    return std::nullopt;
  }
  if (frames_.front().seq > seq) return std::nullopt;
  auto it = std::partition_point(frames_.begin(), frames_.end(),
                                 [seq](const Frame& f) { return f.seq <= seq; });
  return base_ + static_cast<uint64_t>(it - frames_.begin());
}

void Fanout::mark_ready(uint32_t slot) {
  Consumer& c = slots_[slot];
  if (c.in_ready) return;
  c.in_ready = true;
  ready_.push_back(slot);
}

void Fanout::take_ready(std::vector<ConsumerId>& out) {
  out.clear();
  for (uint32_t slot : ready_) {
    Consumer& c = slots_[slot];
    if (!c.in_ready) continue;
    c.in_ready = false;
    if (c.used) out.push_back((uint64_t{c.generation} << 32) | slot);
  }
  ready_.clear();
}

size_t Fanout::queued(const Consumer& c) const {
  size_t n = c.control_bytes + c.inflight_moved_bytes;
  if (c.partial) n += c.partial->wire_size() - c.partial->skip;
  if (c.mode == Mode::live) n += static_cast<size_t>(bytes_from(c.next_frame));
  if (c.mode == Mode::catching_up) n += c.chunk_left;
  return n;
}

size_t Fanout::queued_bytes(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return queued(*c);
}

Mode Fanout::mode(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return c->mode;
}

bool Fanout::in_flight(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return c->in_flight;
}

const char* Fanout::close_reason(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return c->close_reason;
}

uint16_t Fanout::close_code(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return c->close_code;
}

uint64_t Fanout::after_seq(ConsumerId id) const {
  const Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  return c->after_seq;
}

void Fanout::publish(BytesRef payload, uint64_t seq) {
  PublishFrame f{std::move(payload), seq};
  publish(std::span<PublishFrame>(&f, 1));
}

void Fanout::publish(std::span<PublishFrame> frames) {
  if (frames.empty()) return;
  for (PublishFrame& f : frames) {
    // Hand-offs find their place by seq: with catch-up on, seqs strictly increase.
    RL_ASSERT(!limits_.catch_up || f.seq > last_seq_);
    Frame frame;
    frame.header = ws::server_frame_header(ws::Opcode::binary, f.payload.size());
    frame.payload = std::move(f.payload);
    frame.seq = f.seq;
    frame.start_bytes = published_bytes_;
    published_bytes_ += frame.wire_size();
    retained_bytes_ += frame.wire_size();
    counters_.frames_published += 1;
    counters_.bytes_published += frame.wire_size();
    last_seq_ = f.seq;
    frames_.push_back(std::move(frame));
  }
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    Consumer& c = slots_[slot];
    if (!c.used) continue;
    if (c.mode == Mode::catching_up) {
      check_lag(c, slot);
      continue;
    }
    if (c.mode != Mode::live) continue;
    if (queued(c) > limits_.queue_bytes) fall_behind(c, slot);
    if (!c.in_flight) mark_ready(slot);  // also a fallen one: its partial item goes on
  }
  release_unneeded();
}

void Fanout::evict_too_slow(Consumer& c, SlowCause cause) {
  counters_.too_slow_evictions += 1;
  switch (cause) {
    case SlowCause::queue: counters_.too_slow_queue += 1; break;
    case SlowCause::lag: counters_.too_slow_lag += 1; break;
    case SlowCause::gap: counters_.too_slow_gap += 1; break;
  }
  close_with_error(c, too_slow_payload(), "too_slow", kTooSlowError);
}

void Fanout::close_with_error(Consumer& c, const BytesRef& error_payload, const char* reason,
                              std::string_view wire_reason) {
  enter_closing(c, ws::kClosePolicy, reason, wire_reason);
  // The error frame goes just before the close frame enter_closing queued.
  Item close = std::move(c.control.back());
  c.control.pop_back();
  Item error = message_item(ItemKind::error, error_payload);
  c.control_bytes += error.wire_size();
  c.control.push_back(std::move(error));
  c.control.push_back(std::move(close));
}

void Fanout::queue_front(Consumer& c, Item item) {
  c.control_bytes += item.wire_size();
  c.control.push_front(std::move(item));
}

void Fanout::enter_closing(Consumer& c, uint16_t code, const char* reason,
                           std::string_view wire_reason) {
  uint32_t slot = static_cast<uint32_t>(&c - slots_.data());
  release_reader(c, slot);
  c.mode = Mode::closing;
  c.close_code = code;
  c.close_reason = reason;
  c.close_text = code == ws::kCloseNoStatus ? std::string_view() : wire_reason;
  // A chunk read from the log is no longer needed.
  c.chunk = DiskChunk{};
  c.chunk_next = c.chunk_left = 0;
  // Pending pongs and #info no longer matter (the 101 does: it is marked keep); the frame in
  // progress (partial) must still be finished so the peer can parse the close that follows.
  std::erase_if(c.control, [&](const Item& item) {
    if (item.keep) return false;
    c.control_bytes -= item.wire_size();
    return true;
  });
  Item close = raw_item(ItemKind::close,
                        ws::encode_server_frame(ws::Opcode::close,
                                                ws::as_bytes(ws::close_payload(code, c.close_text))));
  RL_ASSERT(close.payload);
  c.control_bytes += close.wire_size();
  c.control.push_back(std::move(close));
}

void Fanout::begin_close(ConsumerId id, uint16_t code, const char* reason) {
  Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  if (c->mode == Mode::closing) return;  // the first reason wins
  enter_closing(*c, code, reason, reason);
  mark_ready(static_cast<uint32_t>(id));
  release_unneeded();
}

bool Fanout::queue_control(ConsumerId id, BytesRef frame) {
  Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  if (c->mode == Mode::closing || c->control_bytes + frame.size() > limits_.control_bytes) {
    counters_.control_refused += 1;
    return false;
  }
  Item item = raw_item(ItemKind::control, std::move(frame));
  c->control_bytes += item.wire_size();
  c->control.push_back(std::move(item));
  mark_ready(static_cast<uint32_t>(id));
  return true;
}

Action Fanout::next(ConsumerId id, SendBatch& out) {
  out.clear();
  Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  if (c->in_flight) return Action::none;
  if (c->mode == Mode::closing && !c->partial && c->control.empty()) return Action::close;
  auto room = [&] {
    return out.items.size() < limits_.batch_items && out.bytes < limits_.batch_bytes;
  };
  auto add = [&](Item&& item) {
    out.bytes += item.wire_size() - item.skip;
    if (item.kind == ItemKind::close) {
      out.close_code = c->close_code;
      out.close_reason = c->close_reason;
      out.close_text = c->close_text;
    }
    out.items.push_back(std::move(item));
  };
  c->batch_took_partial = c->partial.has_value();
  if (c->partial) {
    add(std::move(*c->partial));
    c->partial.reset();
  }
  while (!c->control.empty() && room()) {
    c->control_bytes -= c->control.front().wire_size();
    add(std::move(c->control.front()));
    c->control.pop_front();
  }
  c->inflight_moved_bytes = out.bytes;
  if (c->mode == Mode::live) {
    RL_ASSERT(c->next_frame >= base_ && c->next_frame <= head_index());
    // After a hand-off from disk: frames the log already delivered (nothing in flight, so
    // next_frame may move without a send).
    while (c->next_frame < head_index()) {
      uint64_t seq = frames_[c->next_frame - base_].seq;
      if (seq == 0 || seq > c->after_seq) break;
      ++c->next_frame;
    }
    for (uint64_t i = c->next_frame; i < head_index() && room(); ++i) {
      const Frame& f = frames_[i - base_];
      Item item;
      item.kind = ItemKind::frame;
      item.index = i;
      item.seq = f.seq;
      item.payload = f.payload;
      item.size = f.payload.size();
      item.header = f.header;
      add(std::move(item));
    }
  } else if (c->mode == Mode::catching_up) {
    add_disk_frames(*c, out, limits_.batch_items, limits_.batch_bytes);
  }
  if (out.items.empty()) return Action::none;
  build_iov(out);
  c->in_flight = true;
  return Action::send;
}

void Fanout::build_iov(SendBatch& out) {
  out.iov.reserve(out.items.size() * 2);
  for (const Item& item : out.items) {
    size_t skip = item.skip;
    if (skip < item.header.size) {
      uint8_t* base = const_cast<uint8_t*>(item.header.bytes.data());
      out.iov.push_back({base + skip, item.header.size - skip});
      skip = 0;
    } else {
      skip -= item.header.size;
    }
    if (item.size > skip) {
      uint8_t* base = const_cast<uint8_t*>(item.data());
      out.iov.push_back({base + skip, item.size - skip});
    }
  }
}

void Fanout::complete(ConsumerId id, SendBatch& batch, size_t accepted) {
  Consumer* c = find(id);
  if (c == nullptr) return;  // removed while the send was in flight
  RL_ASSERT(c->in_flight);
  RL_ASSERT(accepted <= batch.bytes);
  c->in_flight = false;
  c->inflight_moved_bytes = 0;
  settle(*c, batch, accepted);
  batch.clear();
  uint32_t slot = static_cast<uint32_t>(id);
  if (c->mode == Mode::catching_up && c->chunk_next == c->chunk.frames.size()) {
    continue_catch_up(*c, slot, false);  // the chunk is used up (or there was none)
  }
  bool more = c->partial || !c->control.empty() || c->mode == Mode::closing ||
              (c->mode == Mode::live && c->next_frame < head_index()) ||
              (c->mode == Mode::catching_up && c->chunk_next < c->chunk.frames.size());
  if (more) mark_ready(slot);
}

// Walks the batch over `accepted` bytes: finished items advance the consumer, the item cut in
// the middle becomes `partial`, untouched items go back where they came from.
void Fanout::settle(Consumer& c, SendBatch& batch, size_t accepted) {
  size_t left = accepted;
  size_t i = 0;
  for (; i < batch.items.size(); ++i) {
    Item& item = batch.items[i];
    size_t remaining = item.wire_size() - item.skip;
    if (left >= remaining) {
      left -= remaining;
      advance(c, item);
      continue;
    }
    if (left > 0) {
      item.skip += left;
      left = 0;
      advance(c, item);  // the rest travels as `partial`, which always goes first
      c.partial = std::move(item);
      ++i;
    }
    break;
  }
  RL_ASSERT(left == 0);
  // Untouched items, last first so push_front restores their order.
  for (size_t j = batch.items.size(); j-- > i;) {
    Item& item = batch.items[j];
    if (j == 0 && c.batch_took_partial) {
      c.partial = std::move(item);
    } else if (item.kind == ItemKind::error || item.kind == ItemKind::close || item.keep ||
               (item.kind != ItemKind::frame && c.mode != Mode::closing)) {
      queue_front(c, std::move(item));
    }
    // Untouched frames need nothing: next_frame (chunk_next) still points at them.
  }
  c.batch_took_partial = false;
}

// A frame item was accepted whole, or is now the partial item (it goes first, so it counts as
// sent). Fresh frames move the consumer's place; any frame moves its seq position.
void Fanout::advance(Consumer& c, const Item& item) {
  if (item.kind != ItemKind::frame) return;
  if (item.seq > c.after_seq) c.after_seq = item.seq;
  // An item resumed from `partial` is not fresh: its index is one behind the place.
  if (item.from_disk) {
    if (c.mode == Mode::catching_up && item.index == c.chunk_next) {
      ++c.chunk_next;
      c.chunk_left -= item.wire_size();
      counters_.catch_up_frames_sent += 1;
    }
  } else if (c.mode == Mode::live && item.index == c.next_frame) {
    ++c.next_frame;
  }
}

void Fanout::remove(ConsumerId id) {
  Consumer* c = find(id);
  RL_ASSERT(c != nullptr);
  release_reader(*c, static_cast<uint32_t>(id));
  uint32_t gen = c->generation;
  *c = Consumer{};
  c->generation = gen;  // new_consumer() bumps it, so stale ids never match a new occupant
  free_slots_.push_back(static_cast<uint32_t>(id));
  release_unneeded();
}

void Fanout::release_unneeded() {
  uint64_t keep_from = head_index();
  for (const Consumer& c : slots_) {
    if (c.used && c.mode == Mode::live) keep_from = std::min(keep_from, c.next_frame);
  }
  // With catch-up on, the newest min_window_bytes stay: a consumer finishing its disk
  // catch-up finds its seq here while publishing goes on.
  while (base_ < keep_from && (!limits_.catch_up ||
                               retained_bytes_ - frames_.front().wire_size() >= limits_.min_window_bytes)) {
    retained_bytes_ -= frames_.front().wire_size();
    frames_.pop_front();
    ++base_;
  }
}

Stats Fanout::stats() const {
  Stats s = counters_;
  s.consumers = 0;
  s.queued_bytes = 0;
  for (const Consumer& c : slots_) {
    if (!c.used) continue;
    s.consumers += 1;
    s.queued_bytes += queued(c);
    s.consumers_live += c.mode == Mode::live;
    s.consumers_catching_up += c.mode == Mode::catching_up;
    s.consumers_closing += c.mode == Mode::closing;
    s.chunk_bytes_held += c.chunk.buffer.size();
  }
  s.retained_frames = frames_.size();
  s.retained_bytes = retained_bytes_;
  return s;
}

}  // namespace ringlay::fanout
