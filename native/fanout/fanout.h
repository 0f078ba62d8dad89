// SPDX-License-Identifier: MIT
// The fan-out core: who gets which frame, send budgets, slow consumers. Written once, here, and
// used by both drivers (io_uring on its ring thread, uWebSockets.js through napi on the JS
// thread) so the policy cannot differ between them. Sans-I/O: no sockets, no threads, no locks.
//
// Model. Published frames form one ordered sequence, each frame stored once (payload BytesRef
// + its precomputed WebSocket header + its relay seq) and numbered by an absolute index. A
// consumer is a position in that sequence (`next_frame`) plus a little state: at most one
// partially sent item, a short queue of control frames, and whether a send is in flight. A
// consumer attached at time T starts at the head: it receives exactly the frames published
// after T, in publish order, byte-exact.
//
// Driving it (one send in flight per consumer: one writer per socket, zlay §6.1 crash 3):
//   publish(frames)         append frames; evicts consumers over their queue bound
//   take_ready(ids)         consumers that have something to send or must be closed
//   next(id, batch)         Action::send: write batch.iov (several frames: coalesced, at most
//                           Limits::batch_bytes unless one frame is larger); keep `batch`
//                           alive until the send completes (it holds the frame references
//                           and the header bytes the iovecs point at).
//                           Action::close: everything, close frame included, was accepted:
//                           close the socket, report close_code()/close_reason(), remove(id).
//                           Action::none: nothing to do now (or a send is in flight).
//   complete(id, batch, n)  the socket accepted n bytes of that batch (n < batch.bytes is a
//                           partial send: the rest is sent first next time). The cursor of a
//                           consumer only moves over accepted bytes (rsky-relay lost data by
//                           advancing on WouldBlock, peers.md A1).
//   remove(id)              the socket is gone (any time, even with a send in flight: the
//                           driver still holds that batch, so the bytes stay alive).
//
// Message-level drivers (uWebSockets.js frames messages itself): send each item's `payload`
// for kinds frame and error as one binary message, ws.end(batch.close_code, batch.close_text)
// for kind close; ignore kind control (uWS answers pings itself, so that driver never queues
// control frames); then complete(id, batch, batch.bytes) at once, and ask for the next batch
// only while getBufferedAmount() is below Limits::batch_bytes (on drain). Bytes then wait here,
// counted against the bound, rather than unbounded inside uWS.
//
// Opening: the io_uring driver can attach() as soon as the upgrade is accepted and queue the
// 101 response with queue_control(): control items go first at the next boundary, so the 101
// is the first thing on the wire and no frame published after attach() is missed.
//
// Closing: a peer's close frame → begin_close(id, its code, "peer_closed") echoes it; a
// protocol error → begin_close(id, ws::error_close_code(e), ws::error_name(e)); shutdown →
// begin_close(id, 1001, "shutdown"). next() then says close once the close frame is accepted.
//
// Slow consumers. A consumer's queued bytes are the bytes published after its position that
// its socket has not accepted (in flight included), plus its partial item and control frames.
// When publish() finds them over Limits::queue_bytes the consumer is evicted as too slow: it
// stops holding its place in the sequence (so the frames it pinned can be released), keeps
// only the item it must finish (a frame cannot be cut in the middle), and is sent the
// ConsumerTooSlow error frame then a close frame (1008, "ConsumerTooSlow"), after which next()
// says close. A consumer that never completes therefore pins at most its bound, and frames no
// consumer needs are released on the next publish(). The driver should also bound how long a
// closing consumer may take (a peer that stops reading never drains the error frame).
//
// Next issue (relay): catching up and cursors. A consumer may start at a frame still in memory
// (attach_at, with index_after_seq for a cursor). A consumer behind the in-memory window, or one
// over its bound once the relay has a log (design.md: "a slow consumer drops to disk catch-up
// before it is ever disconnected"), will be in Mode::catching_up: it holds no place here, the
// log reader feeds it through the same batch/complete path (kind frame items built from disk),
// and when the reader reaches a seq whose frame is still in memory (index_after_seq), the
// consumer rejoins with set_position(id, index): the frame after the last seq it was sent, so
// no gap and no duplicate. Frames carry their seq for that reason.
//
// Threading: one owner thread at a time; no locks, no atomics except BytesRef refcounts.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "util/shared_bytes.h"
#include "ws/frame.h"

namespace ringlay::fanout {

// Generation << 32 | slot. 0 is never a valid id.
using ConsumerId = uint64_t;

struct Limits {
  // TransportLimits.consumerSendQueueBytes: over it a consumer is too slow.
  size_t queue_bytes = 16 * 1024 * 1024;
  // Budget of one send (bytes handed to the socket at once). A larger single frame is still
  // sent whole (one item).
  size_t batch_bytes = 256 * 1024;
  // Items (frames + control frames) per send; each is up to two iovecs.
  size_t batch_items = 64;
  // Control frames waiting (pongs, close); over it queue_control refuses.
  size_t control_bytes = 4 * 1024;
};

enum class ItemKind : uint8_t {
  frame,    // a published frame: binary message `payload` with `header`
  error,    // the event-stream error frame: binary message `payload` with `header`
  control,  // a control frame queued by the driver, whole in `payload` (no header)
  close,    // our close frame, whole in `payload`; close_code/close_reason for uWS
};

struct Item {
  ItemKind kind = ItemKind::frame;
  uint64_t index = 0;  // frame: absolute index in the sequence
  uint64_t seq = 0;    // frame: relay seq given to publish()
  BytesRef payload;
  ws::FrameHeader header;  // frame/error; size 0 otherwise
  size_t skip = 0;         // wire bytes already sent by an earlier, partial send
  size_t wire_size() const { return header.size + payload.size(); }
};

// One send for one consumer. Move-only: iov points into items (header bytes, payloads), and
// moving keeps those heap buffers in place. Keep one per consumer and reuse it: next() clears
// it but keeps its capacity, so steady-state sends allocate nothing.
struct SendBatch {
  std::vector<Item> items;
  std::vector<iovec> iov;  // the wire bytes, in order; the first item starts at its `skip`
  size_t bytes = 0;        // total of iov
  uint16_t close_code = 0;        // set when the batch holds the close item
  const char* close_reason = "";  // why (a stable reason name for metrics, e.g. "too_slow")
  std::string_view close_text;    // what the close frame says (e.g. "ConsumerTooSlow")

  SendBatch() = default;
  SendBatch(SendBatch&&) = default;
  SendBatch& operator=(SendBatch&&) = default;
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  void clear();
};

enum class Action : uint8_t { none, send, close };

enum class Mode : uint8_t {
  live,           // positioned in the in-memory sequence
  catching_up,    // reserved for the relay: fed from the event log, holds no place here
  closing,        // no more frames: finish the partial item, send control/error/close, then close
};

struct PublishFrame {
  BytesRef payload;  // the WebSocket message payload (the event-stream frame)
  uint64_t seq = 0;  // relay seq (0 when the caller has none, e.g. issue #2 broadcast)
};

struct Stats {
  uint64_t consumers = 0;          // attached, closing ones included
  uint64_t queued_bytes = 0;       // sum of every consumer's queued bytes
  uint64_t retained_frames = 0;    // frames held in memory for some consumer
  uint64_t retained_bytes = 0;     // their wire bytes
  uint64_t frames_published = 0;
  uint64_t bytes_published = 0;    // wire bytes (header + payload)
  uint64_t too_slow_evictions = 0;
  uint64_t control_refused = 0;    // queue_control calls over Limits::control_bytes
};

class Fanout {
 public:
  explicit Fanout(Limits limits = {}) : limits_(limits) {}

  // Appends frames (publish order = wire order), marks consumers ready, evicts those over
  // their bound, and releases frames no consumer needs. Payload references are taken over.
  void publish(std::span<PublishFrame> frames);
  void publish(BytesRef payload, uint64_t seq = 0);

  // A live consumer that receives the frames published from now on.
  ConsumerId attach();
  // A live consumer starting at frame `index` (head_index() = from now on); nullopt when that
  // frame is no longer (or not yet) in memory.
  std::optional<ConsumerId> attach_at(uint64_t index);
  // Repositions a consumer with nothing in flight (the catch-up hand-off); false if `index` is
  // outside the window.
  bool set_position(ConsumerId id, uint64_t index);
  // The first in-memory frame with seq > `seq` (head_index() if none is newer); nullopt when
  // frames with seq ≤ `seq` might have been released already (then the log must serve it).
  std::optional<uint64_t> index_after_seq(uint64_t seq) const;

  // Queues a whole encoded control frame (e.g. a pong) to go at the next frame boundary.
  // False (and counted) when over Limits::control_bytes or the consumer is closing.
  bool queue_control(ConsumerId id, BytesRef frame);
  // Stops sending frames; sends the close frame (code, reason) after the partial item.
  // `reason` must be a static string (a stable reason name, e.g. "peer_closed").
  void begin_close(ConsumerId id, uint16_t code, const char* reason);

  Action next(ConsumerId id, SendBatch& out);
  void complete(ConsumerId id, SendBatch& batch, size_t accepted);
  void remove(ConsumerId id);

  // Moves the ids needing next() into `out` (cleared first). May hold ids that turn out to
  // have nothing to do; never removed ones.
  void take_ready(std::vector<ConsumerId>& out);

  bool contains(ConsumerId id) const;
  Mode mode(ConsumerId id) const;
  bool in_flight(ConsumerId id) const;
  size_t queued_bytes(ConsumerId id) const;
  // Why the consumer is closing ("too_slow" or begin_close's reason) and its close code.
  const char* close_reason(ConsumerId id) const;
  uint16_t close_code(ConsumerId id) const;

  uint64_t head_index() const { return base_ + frames_.size(); }
  uint64_t base_index() const { return base_; }
  Stats stats() const;
  const Limits& limits() const { return limits_; }

 private:
  struct Frame {
    BytesRef payload;
    ws::FrameHeader header;
    uint64_t seq;
    uint64_t start_bytes;  // wire bytes published before this frame
    size_t wire_size() const { return header.size + payload.size(); }
  };
  struct Consumer {
    uint32_t generation = 0;
    bool used = false;
    bool in_ready = false;
    bool in_flight = false;
    Mode mode = Mode::live;
    uint64_t next_frame = 0;           // live: next whole frame to send
    std::optional<Item> partial;       // started by an earlier send; goes first
    std::deque<Item> control;          // control/error/close items, in order
    size_t control_bytes = 0;
    uint16_t close_code = 0;
    const char* close_reason = "";
    std::string_view close_text;
    // While a send is in flight: bytes of the items moved out of `partial`/`control` into the
    // batch (still queued until accepted), and whether the batch starts with `partial`.
    size_t inflight_moved_bytes = 0;
    bool batch_took_partial = false;
  };

  Consumer* find(ConsumerId id);
  const Consumer* find(ConsumerId id) const;
  ConsumerId new_consumer(uint64_t next_frame);
  void mark_ready(uint32_t slot);
  size_t queued(const Consumer& c) const;
  void evict_too_slow(Consumer& c);
  void enter_closing(Consumer& c, uint16_t code, const char* reason, std::string_view wire_reason);
  void settle(Consumer& c, SendBatch& batch, size_t accepted);
  void release_unneeded();
  static void build_iov(SendBatch& out);

  Limits limits_;
  std::deque<Frame> frames_;
  uint64_t base_ = 0;            // index of frames_.front()
  uint64_t published_bytes_ = 0;  // wire bytes ever published (= end of the sequence)
  uint64_t retained_bytes_ = 0;   // wire bytes of frames_
  uint64_t last_seq_ = 0;         // seq of the newest frame ever published
  std::vector<Consumer> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> ready_;
  Stats counters_;
};

}  // namespace ringlay::fanout
