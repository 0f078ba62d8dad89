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
//   publish(frames)         append frames; consumers over their queue bound fall back to the
//                           log (catch_up) or are evicted
//   take_reads/supply       catch-up only: log reads to run and their chunks (see below)
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
// Message-level drivers (uWebSockets.js frames messages itself): send each item's message bytes
// (data(), size) for kinds frame, info and error as one binary message (a frame read from the
// log is a slice of its chunk), ws.end(batch.close_code, batch.close_text)
// for kind close; ignore kind control (uWS answers pings itself, so that driver never queues
// control frames); then complete(id, batch, batch.bytes) at once, and ask for the next batch
// only while getBufferedAmount() is below Limits::batch_bytes (on drain). Bytes then wait here,
// counted against the bound, rather than unbounded inside uWS.
//
// Opening: the io_uring driver attaches (attach_from, with the cursor decision) as soon as the
// upgrade is accepted, passing the 101 response as `opening`: control items go first at the
// next boundary, so the 101 is the first thing on the wire and no frame published after the
// attach is missed.
//
// Closing: a peer's close frame → begin_close(id, its code, "peer_closed") echoes it; a
// protocol error → begin_close(id, ws::error_close_code(e), ws::error_name(e)); shutdown →
// begin_close(id, 1001, "shutdown"). next() then says close once the close frame is accepted.
//
// Slow consumers. A consumer's queued bytes are the bytes published after its position that
// its socket has not accepted (in flight included), plus its partial item and control frames
// (catching up: the unsent part of its chunk instead). When publish() finds them over
// Limits::queue_bytes, with catch-up off, the consumer is evicted as too slow: it
// stops holding its place in the sequence (so the frames it pinned can be released), keeps
// only the item it must finish (a frame cannot be cut in the middle), and is sent the
// ConsumerTooSlow error frame then a close frame (1008, "ConsumerTooSlow"), after which next()
// says close. A consumer that never completes therefore pins at most its bound, and frames no
// consumer needs are released on the next publish(). The driver should also bound how long a
// closing consumer may take (a peer that stops reading never drains the error frame).
//
// Cursors and disk catch-up (the relay; Limits::catch_up on, frames published with their relay
// seqs after the log wrote them). A consumer's position is `after_seq`: every frame with a seq at
// or below it was accepted by its socket (or is its partial item, which goes first) or was
// skipped by the log reader (takedowns). It moves only over accepted bytes (rsky-relay lost data
// by advancing on WouldBlock, peers.md A1). Modes:
//   live         positioned in the in-memory window (next_frame); frames with seq <= after_seq
//                are skipped, so a rejoin never duplicates what the disk already sent.
//   catching_up  holds no place in the window. The core asks for log reads (take_reads: "frames
//                after seq S, about read_bytes"), the driver runs them where it likes (relay/
//                replay_reader.h: a reader thread) and hands the result back (supply). The chunk
//                is the pread buffer itself: frames go out as slices of it (stored bytes, no
//                re-encoding, no per-consumer copy), through the same next()/complete() path and
//                send budget. The next read is asked for only once the chunk is fully accepted,
//                so a consumer holds at most one chunk plus its in-flight batch.
// Hand-off to live: whenever a chunk is used up, or a read reaches the log head, the consumer
// rejoins at index_after_seq(after_seq) if the window still holds the frames after it (and,
// unless the log is at its head, they are under half the queue bound): every seq <= after_seq
// was sent or skipped, every seq above it is in the window from there or not published yet, so
// there is no gap and no duplicate. With catch_up on, the newest min_window_bytes stay in memory
// even when no live consumer needs them, so that lookup finds its seq while publishing goes on.
// Falling behind: a live consumer over queue_bytes releases its pins and goes catching_up from
// after_seq (design.md: "a slow consumer drops to disk catch-up before it is ever
// disconnected"). It is evicted with ConsumerTooSlow only past the hard bound: more than
// max_lag_seqs further behind the head than when it started catching up (its allowance), or the
// log reports a gap (retention deleted what it still needed). Causes are counted apart.
// Starting (attach_from): live at the head; replay after a seq (window or disk); outdated: the
// #info OutdatedCursor message first, then replay; future: the FutureCursor error frame, then
// close 1008. `opening` (the 101) is queued ahead of all of it. After a restart the window is
// empty while the log holds everything before it: start_after() tells the core where its
// publish stream begins, so no position below that counts as "in the window".
// Takedowns: the log reader skips taken-down DIDs; frames already in the in-memory window when
// a takedown lands may still go to consumers positioned in it (the window is the newest few MiB,
// and frames already sent cannot be recalled either). HACKING.md records this decision.
//
// Threading: one owner thread at a time; no locks, no atomics except BytesRef refcounts.
#pragma once

#include <sys/uio.h>

#include <algorithm>
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
  // Disk catch-up (see "Cursors and disk catch-up"). Off: over queue_bytes means evicted.
  bool catch_up = false;
  size_t read_bytes = 256 * 1024;             // one log read (one chunk held) per consumer
  uint64_t max_lag_seqs = 1000000;            // hard bound beyond the starting lag
  size_t min_window_bytes = 4 * 1024 * 1024;  // newest frames kept for hand-offs
};

// How a consumer starts; relay/replay_cursor.h decides it from ?cursor= and the log.
enum class Start : uint8_t {
  live,      // at the head
  replay,    // frames with seq > after_seq, then live
  outdated,  // #info OutdatedCursor, then like replay
  future,    // FutureCursor error frame, then close 1008
};
const char* name(Start s);

// Where a consumer starts (relay/replay_cursor.h's StartDecision is one).
struct StartAt {
  Start start = Start::live;
  uint64_t after_seq = 0;  // replay/outdated: frames with seq > it
  uint64_t head_seq = 0;   // the log's newest seq when decided (the lag allowance)
  // The whole window (?cursor=0, an outdated cursor): after_seq is the window start - 1 when
  // decided. Should retention move the window before the first log read, that read begins at
  // the new start instead of reporting a gap.
  bool from_oldest = false;
};

// One log read's result, as the reader produced it: frames are slices of `buffer`.
struct DiskFrame {
  uint64_t seq = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
};
enum class ChunkState : uint8_t {
  frames,   // `frames` (possibly none: a skipped stretch); more may follow
  at_head,  // nothing above `position` was written when read
  gap,      // retention deleted frames the consumer still needed
  error,    // the read failed
};
struct DiskChunk {
  ChunkState state = ChunkState::at_head;
  BytesRef buffer;
  std::vector<DiskFrame> frames;
  uint64_t position = 0;  // every seq <= it was returned or deliberately skipped
};

// Work for the log reader: read frames after `after_seq` (about max_bytes) for consumer `id`,
// or (release) drop the reader kept for it. In order: a release follows that id's reads.
// from_oldest: the consumer's first read of a whole-window start (StartAt::from_oldest): a
// window start above after_seq + 1 moves the start there (log ReaderStart::clamp) rather than
// being a gap (ReaderStart::exact, every other read).
struct ReadRequest {
  ConsumerId id = 0;
  uint64_t after_seq = 0;
  size_t max_bytes = 0;
  bool release = false;
  bool from_oldest = false;
};

enum class ItemKind : uint8_t {
  frame,    // a published frame (or one read from the log): binary message, `header` first
  error,    // the event-stream error frame: binary message `payload` with `header`
  info,     // a relay #info message (OutdatedCursor): binary message, not in the sequence
  control,  // a control frame queued by the driver, whole in `payload` (no header)
  close,    // our close frame, whole in `payload`; close_code/close_reason for uWS
};

struct Item {
  ItemKind kind = ItemKind::frame;
  bool from_disk = false;  // frame: a slice of a log chunk, `index` within the chunk
  bool keep = false;       // control: goes out even when closing (the 101)
  uint64_t index = 0;      // frame: absolute index in the sequence (or in the chunk)
  uint64_t seq = 0;        // frame: relay seq
  BytesRef payload;        // owns the bytes; the message is payload[offset, offset + size)
  size_t offset = 0;
  size_t size = 0;
  ws::FrameHeader header;  // frame/error/info; size 0 otherwise
  size_t skip = 0;         // wire bytes already sent by an earlier, partial send
  const uint8_t* data() const { return payload.data() + offset; }
  size_t wire_size() const { return header.size + size; }
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
  catching_up,    // fed from the event log, holds no place here
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
  uint64_t too_slow_evictions = 0;  // all causes below
  uint64_t control_refused = 0;    // queue_control calls over Limits::control_bytes
  // Catch-up (relay).
  uint64_t consumers_live = 0, consumers_catching_up = 0, consumers_closing = 0;  // gauges
  uint64_t chunk_bytes_held = 0;   // gauge: log chunks held by catching-up consumers
  uint64_t catch_up_reads = 0;     // chunks supplied
  uint64_t catch_up_bytes_read = 0;  // frame bytes in them
  uint64_t catch_up_frames_sent = 0;  // disk frames the sockets accepted
  uint64_t fallbacks = 0;          // live → catching_up (over queue_bytes)
  uint64_t handoffs = 0;           // catching_up → live
  uint64_t too_slow_queue = 0;     // over queue_bytes without catch-up
  uint64_t too_slow_lag = 0;       // past max_lag_seqs beyond the allowance
  uint64_t too_slow_gap = 0;       // the log deleted frames it needed
  uint64_t read_errors = 0;        // reads that failed (consumer closed 1011)
  uint64_t cursor_live = 0, cursor_replay = 0, cursor_outdated = 0, cursor_future = 0,
           cursor_bad = 0;         // how consumers started (bad: HTTP 400, never attached)
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
  // A consumer started by the cursor decision; `opening`: queued first (the 101), may be
  // empty.
  ConsumerId attach_from(const StartAt& at, BytesRef opening = {});
  // Where this core's publish stream begins: every frame with a seq at or below `seq` was
  // written to the log before the core was fed (by an earlier process, or before the replay
  // log was set) and is never published here, so a consumer positioned below it must read the
  // log even while the in-memory window is empty. The drivers call it with the log's written
  // seq when the replay log is set, before any consumer is attached; frames at or below it
  // that are still published afterwards (written just before) are harmless.
  void start_after(uint64_t seq) { stream_floor_ = std::max(stream_floor_, seq); }
  void count_bad_cursor() { counters_.cursor_bad += 1; }
  // Repositions a consumer with nothing in flight; false if `index` is outside the window.
  bool set_position(ConsumerId id, uint64_t index);
  // The first in-memory frame with seq > `seq` (head_index() if none is newer); nullopt when
  // frames with seq > `seq` might have been released already or will never be published here
  // (below start_after's seq): then the log must serve it.
  std::optional<uint64_t> index_after_seq(uint64_t seq) const;

  // Queues a whole encoded control frame (e.g. a pong) to go at the next frame boundary.
  // False (and counted) when over Limits::control_bytes or the consumer is closing.
  bool queue_control(ConsumerId id, BytesRef frame);
  // Stops sending frames; sends the close frame (code, reason) after the partial item.
  // `reason` must be a static string (a stable reason name, e.g. "peer_closed").
  void begin_close(ConsumerId id, uint16_t code, const char* reason);

  // Catch-up: the reads to run (cleared first), and their results (any order across ids;
  // ignored for a removed or closing consumer).
  void take_reads(std::vector<ReadRequest>& out);
  void supply(ConsumerId id, DiskChunk chunk);
  bool catch_up() const { return limits_.catch_up; }
  void set_catch_up(bool on) { limits_.catch_up = on; }

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
  // Every frame with seq <= this was accepted (or is the partial item) or skipped.
  uint64_t after_seq(ConsumerId id) const;

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
    uint64_t after_seq = 0;            // see "Cursors and disk catch-up"
    uint64_t lag_allowance = 0;        // seqs behind the head allowed on top of max_lag_seqs
    DiskChunk chunk;                   // catching_up: frames read, sent from chunk_next on
    size_t chunk_next = 0;
    size_t chunk_left = 0;             // wire bytes of chunk frames not yet accepted
    bool read_pending = false;         // a read was asked for; its chunk has not come
    bool from_oldest = false;          // StartAt::from_oldest, until its first chunk comes
    bool has_reader = false;           // the reader service may hold a reader for it
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
  enum class SlowCause : uint8_t { queue, lag, gap };
  void evict_too_slow(Consumer& c, SlowCause cause);
  void enter_closing(Consumer& c, uint16_t code, const char* reason, std::string_view wire_reason);
  // Error frame, then close 1008 with `wire_reason`.
  void close_with_error(Consumer& c, const BytesRef& error_payload, const char* reason,
                        std::string_view wire_reason);
  void queue_front(Consumer& c, Item item);
  void settle(Consumer& c, SendBatch& batch, size_t accepted);
  void advance(Consumer& c, const Item& item);
  void release_unneeded();
  static void build_iov(SendBatch& out);
  // fanout_catchup.cc
  uint64_t bytes_from(uint64_t index) const;
  void fall_behind(Consumer& c, uint32_t slot);
  void check_lag(Consumer& c, uint32_t slot);
  void continue_catch_up(Consumer& c, uint32_t slot, bool at_head);
  bool try_rejoin(Consumer& c, uint32_t slot, bool at_head);
  void request_read(Consumer& c, uint32_t slot);
  void release_reader(Consumer& c, uint32_t slot);
  void add_disk_frames(Consumer& c, SendBatch& out, size_t max_items, size_t max_bytes);
  ConsumerId id_of(uint32_t slot) const { return (uint64_t{slots_[slot].generation} << 32) | slot; }

  Limits limits_;
  std::deque<Frame> frames_;
  uint64_t base_ = 0;            // index of frames_.front()
  uint64_t published_bytes_ = 0;  // wire bytes ever published (= end of the sequence)
  uint64_t retained_bytes_ = 0;   // wire bytes of frames_
  uint64_t last_seq_ = 0;         // seq of the newest frame ever published
  uint64_t stream_floor_ = 0;     // start_after()
  std::vector<Consumer> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> ready_;
  std::vector<ReadRequest> reads_;
  Stats counters_;
};

}  // namespace ringlay::fanout
