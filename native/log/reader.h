// SPDX-License-Identifier: MIT
// Replay reader: "give me the frames after seq N", in batches, up to the written watermark.
//
// For catching-up consumers and ?cursor=N. Usable from any thread (one thread per Reader):
// it shares nothing with the writer but the segment list (a short lock when it changes
// segment), each segment's atomic end, which it never reads past, and the log's window start
// (one atomic load per read). It holds the segment it reads by shared_ptr, so retention may
// delete the file meanwhile (the fd stays open), but once the window start has moved past the
// reader's position it returns none of those records: it reports the gap and goes on from the
// window (event_log.h, window_start()).
//
// Each read() is one pread of up to max_bytes into one SharedBytes chunk; the frames of the
// batch are slices of that chunk (ReplayBatch), so frame bytes are copied once, by the kernel.
// A consumer that needs one BytesRef per frame (fanout::Item today) calls copy_frame().
//
// Hand-off to live (fanout.h "catching up"): read until at_head or until position() reaches a
// seq the fan-out still holds in memory, then rejoin at index_after_seq(position()). Seqs only
// increase and every record at or below position() has been returned or deliberately skipped,
// so the switch has no gap and no duplicate.
//
// Skipped, never returned: records of taken-down DIDs (hash hit and stored DID equal),
// scrubbed records, and records whose payload checksum fails (counted).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "log/format.h"
#include "log/segment.h"
#include "log/takedown_set.h"
#include "util/shared_bytes.h"

namespace ringlay::log_store {

class EventLog;

struct ReplayFrame {
  uint64_t seq = 0;
  uint64_t time_ms = 0;
  uint32_t offset = 0;  // of the frame within ReplayBatch::buffer
  uint32_t size = 0;
};

struct ReplayBatch {
  BytesRef buffer;  // holds every frame of the batch; keep it while any slice is in use
  std::vector<ReplayFrame> frames;

  std::span<const uint8_t> frame(size_t i) const {
    return {buffer.data() + frames[i].offset, frames[i].size};
  }
  BytesRef copy_frame(size_t i) const { return BytesRef::copy_of(frame(i).data(), frame(i).size()); }
  size_t bytes() const;
  void clear() {
    buffer = BytesRef();
    frames.clear();
  }
};

enum class ReadState : uint8_t {
  frames,   // `out` has frames (or none, when a long skipped stretch used the call's budget:
            // call again)
  at_head,  // nothing above position() is written yet
  error,    // see status
};

struct ReadResult {
  ReadState state = ReadState::at_head;
  Status status;
  // Retention deleted records this reader had not returned: frames between position()
  // before and after this call are gone (the consumer should get #info OutdatedCursor, or be
  // cut). Not set for a ReaderStart::clamp reader's opening move to the window.
  bool gap = false;
};

class Reader {
 public:
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Up to about max_bytes of frames (at least one frame if any is readable, however large);
  // 0 = Options::read_chunk_bytes.
  ReadResult read(ReplayBatch& out, size_t max_bytes = 0);

  // The last seq returned or skipped (initially the after_seq given to open_reader; moved up
  // to window_start() - 1 when that is higher).
  uint64_t position() const { return after_; }

 private:
  friend class EventLog;
  Reader(EventLog* log, uint64_t after_seq, bool clamp);

  // Parses chunk[0, n) (file bytes from offset_) into out; returns bytes consumed. *need > 0:
  // nothing consumed, the next record needs a read of at least *need bytes.
  size_t parse_chunk(const uint8_t* chunk, size_t n, bool to_end, size_t max_bytes,
                     ReplayBatch& out, size_t* need);
  bool taken_down(const RecordHeader& h, const uint8_t* record) const;

  EventLog* log_;
  uint64_t after_;
  bool clamp_;  // ReaderStart::clamp and not started yet (no segment located)
  std::shared_ptr<Segment> seg_;
  uint64_t offset_ = 0;
  uint64_t snap_gen_ = ~uint64_t{0};
  std::shared_ptr<const TakedownSnapshot> snap_;
};

}  // namespace ringlay::log_store
