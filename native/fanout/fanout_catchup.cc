// SPDX-License-Identifier: MIT
// The fan-out core's relay side: how consumers start from a cursor, fall behind to the log,
// are fed from log chunks and rejoin the live window (fanout.h, "Cursors and disk catch-up").
// Still sans-I/O: reads are requests (take_reads) and results (supply), run by the driver.
#include <algorithm>

#include "fanout/error_frame.h"
#include "fanout/fanout.h"
#include "util/assert.h"

namespace ringlay::fanout {

uint64_t Fanout::bytes_from(uint64_t index) const {
  if (index >= head_index()) return 0;
  return published_bytes_ - frames_[index - base_].start_bytes;
}

ConsumerId Fanout::attach_from(const StartAt& at, BytesRef opening) {
  ConsumerId id = new_consumer(head_index());
  uint32_t slot = static_cast<uint32_t>(id);
  Consumer& c = slots_[slot];
  // Live: everything published so far, and everything the log held before this core was fed,
  // counts as before it.
  c.after_seq = std::max(last_seq_, stream_floor_);
  if (opening) {
    Item item;
    item.kind = ItemKind::control;
    item.keep = true;  // the 101 goes out even if the consumer is closed at once
    item.size = opening.size();
    item.payload = std::move(opening);
    c.control_bytes += item.wire_size();
    c.control.push_back(std::move(item));
  }
  mark_ready(slot);
  switch (at.start) {
    case Start::live:
      counters_.cursor_live += 1;
      return id;
    case Start::future:
      counters_.cursor_future += 1;
      close_with_error(c, future_cursor_payload(), "future_cursor", kFutureCursorError);
      return id;
    case Start::outdated: {
      counters_.cursor_outdated += 1;
      Item info;
      info.kind = ItemKind::info;
      info.payload = outdated_cursor_payload();
      info.size = info.payload.size();
      info.header = ws::server_frame_header(ws::Opcode::binary, info.size);
      c.control_bytes += info.wire_size();
      c.control.push_back(std::move(info));
      break;
    }
    case Start::replay:
      counters_.cursor_replay += 1;
      break;
  }
  // Without a log nothing older than the head can be served (relay/replay_cursor.h never asks).
  if (!limits_.catch_up) return id;
  c.after_seq = at.after_seq;
  c.from_oldest = at.from_oldest;
  uint64_t head = std::max(at.head_seq, last_seq_);
  c.lag_allowance = head > at.after_seq ? head - at.after_seq : 0;
  c.mode = Mode::catching_up;
  continue_catch_up(c, slot, false);  // from the window if it still holds seq after_seq + 1
  return id;
}

void Fanout::take_reads(std::vector<ReadRequest>& out) {
  out.clear();
  out.swap(reads_);
}

void Fanout::supply(ConsumerId id, DiskChunk chunk) {
  Consumer* c = find(id);
  if (c == nullptr || !c->read_pending) return;  // removed meanwhile
  c->read_pending = false;
  c->from_oldest = false;  // the reader has started: from now on the window passing it is a gap
  if (c->mode != Mode::catching_up) return;  // closed meanwhile: the chunk is dropped
  uint32_t slot = static_cast<uint32_t>(id);
  counters_.catch_up_reads += 1;
  if (chunk.state == ChunkState::error) {
    counters_.read_errors += 1;
    enter_closing(*c, ws::kCloseInternalError, "replay_error", "InternalError");
    mark_ready(slot);
    return;
  }
  if (chunk.state == ChunkState::gap) {
    // Retention deleted frames it had not been sent: it cannot get a complete stream.
    evict_too_slow(*c, SlowCause::gap);
    mark_ready(slot);
    return;
  }
  size_t wire = 0;
  uint64_t prev = c->after_seq;
  for (const DiskFrame& f : chunk.frames) {
    RL_ASSERT(f.seq > prev);  // the reader continues exactly after after_seq
    RL_ASSERT(uint64_t{f.offset} + f.size <= chunk.buffer.size());
    prev = f.seq;
    wire += ws::server_frame_header(ws::Opcode::binary, f.size).size + f.size;
    counters_.catch_up_bytes_read += f.size;
  }
  RL_ASSERT(chunk.position >= prev);
  bool at_head = chunk.state == ChunkState::at_head;
  c->chunk = std::move(chunk);
  c->chunk_next = 0;
  c->chunk_left = wire;
  if (c->chunk.frames.empty()) {
    continue_catch_up(*c, slot, at_head);  // a skipped stretch, or nothing new yet
    return;
  }
  mark_ready(slot);
}

// Called whenever a catching-up consumer may need its next chunk: nothing in flight, no
// partial item, no read pending and the chunk used up. Everything up to the chunk's position
// was then accepted or skipped, so after_seq moves there; then rejoin the window or read on.
void Fanout::continue_catch_up(Consumer& c, uint32_t slot, bool at_head) {
  if (c.in_flight || c.read_pending || c.partial) return;  // complete() comes back here
  if (c.chunk_next < c.chunk.frames.size()) return;
  c.after_seq = std::max(c.after_seq, c.chunk.position);
  c.chunk = DiskChunk{};
  c.chunk_next = c.chunk_left = 0;
  if (try_rejoin(c, slot, at_head)) return;
  request_read(c, slot);
}

// The hand-off: the window holds every frame after after_seq (index_after_seq answers only
// then), so live from there has no gap; frames at or below after_seq are skipped by next(), so
// no duplicate. Away from the log head it waits until the rest is under half the queue
// bound, so a consumer does not bounce between the two modes.
bool Fanout::try_rejoin(Consumer& c, uint32_t slot, bool at_head) {
  std::optional<uint64_t> index = index_after_seq(c.after_seq);
  if (!index) return false;
  if (!at_head && bytes_from(*index) > limits_.queue_bytes / 2) return false;
  release_reader(c, slot);
  c.mode = Mode::live;
  c.next_frame = *index;
  c.lag_allowance = 0;
  counters_.handoffs += 1;
  mark_ready(slot);
  return true;
}

void Fanout::request_read(Consumer& c, uint32_t slot) {
  RL_ASSERT(!c.read_pending && c.mode == Mode::catching_up);
  c.read_pending = true;
  c.has_reader = true;
  reads_.push_back(ReadRequest{id_of(slot), c.after_seq, limits_.read_bytes, false, c.from_oldest});
}

void Fanout::release_reader(Consumer& c, uint32_t slot) {
  if (!c.has_reader) return;
  c.has_reader = false;
  reads_.push_back(ReadRequest{id_of(slot), 0, 0, true});
}

// Over queue_bytes: with a log, release the window and go on from disk; without one (or for
// frames without seqs, which the log cannot find) the consumer is evicted as before.
void Fanout::fall_behind(Consumer& c, uint32_t slot) {
  bool from_disk = limits_.catch_up && c.next_frame < head_index() &&
                   frames_[c.next_frame - base_].seq != 0;
  if (!from_disk) {
    evict_too_slow(c, SlowCause::queue);
    return;
  }
  // Every frame of its stream before the one it needs next was sent (or is the partial item):
  // the log read continues from there. (after_seq alone may lie below the stream's first frame,
  // e.g. 0 for a consumer attached to an empty log that falls behind before its first send:
  // the log would report those never-written seqs as a gap.)
  c.after_seq = std::max(c.after_seq, frames_[c.next_frame - base_].seq - 1);
  c.mode = Mode::catching_up;
  c.lag_allowance = last_seq_ > c.after_seq ? last_seq_ - c.after_seq : 0;
  counters_.fallbacks += 1;
  continue_catch_up(c, slot, false);  // waits for complete() while a send is in flight
}

// The hard bound: a catching-up consumer may be max_lag_seqs further behind the head than it
// was when it started catching up, no more.
void Fanout::check_lag(Consumer& c, uint32_t slot) {
  if (last_seq_ <= c.after_seq || last_seq_ - c.after_seq <= c.lag_allowance + limits_.max_lag_seqs) return;
  evict_too_slow(c, SlowCause::lag);
  mark_ready(slot);
}

void Fanout::add_disk_frames(Consumer& c, SendBatch& out, size_t max_items, size_t max_bytes) {
  for (size_t i = c.chunk_next; i < c.chunk.frames.size(); ++i) {
    if (out.items.size() >= max_items || out.bytes >= max_bytes) break;
    const DiskFrame& f = c.chunk.frames[i];
    Item item;
    item.kind = ItemKind::frame;
    item.from_disk = true;
    item.index = i;
    item.seq = f.seq;
    item.payload = c.chunk.buffer;  // a reference to the chunk, not a copy
    item.offset = f.offset;
    item.size = f.size;
    item.header = ws::server_frame_header(ws::Opcode::binary, f.size);
    out.bytes += item.wire_size();
    out.items.push_back(std::move(item));
  }
}

}  // namespace ringlay::fanout
