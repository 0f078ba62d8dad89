// SPDX-License-Identifier: MIT
// The relay thread's bookkeeping, sans-I/O (unit-tested on its own):
//   PendingTable  id → pending event (its frame stays native until decided and written)
//   SeqOrder      per upstream connection: the last upstream seq seen (replays are dropped)
//   FlowControl   per host: events pending; pause/resume of the host's connections
// Relay thread only: no locks, no atomics.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "firehose/frame.h"
#include "util/shared_bytes.h"

namespace ringlay::relay {

enum class EntryState : uint8_t {
  free,
  validating,  // queued for or inside the Validator
  undecided,   // summary sent to JS
  writing,     // handed to the LogWriter (accept/replace)
};

struct Entry {
  BytesRef frame;                     // upstream bytes (replace: the relay-built frame)
  std::string_view did;               // into `frame` (from the verdict); synth: into `synth_did`
  std::string synth_did;
  firehose::SeqLocation seq_location;  // where the log patches the seq
  uint64_t conn = 0;
  int64_t upstream_seq = -1;
  uint64_t time_ms = 0;                // relay receive time
  uint64_t counted_bytes = 0;          // what FlowControl was told
  uint32_t host = 0;
  uint32_t gen = 0;
  EntryState state = EntryState::free;
};

// Slots reused through a free list; an id is generation × 2^24 + slot, so a stale id (an
// event already released) never finds the slot's next occupant, and ids stay below 2^53.
class PendingTable {
 public:
  static constexpr uint32_t kMaxSlots = 1u << 24;

  // The new entry's id (never 0); 0 when kMaxSlots entries are live.
  uint64_t insert(BytesRef frame, uint32_t host, uint64_t conn, int64_t upstream_seq, uint64_t time_ms);
  // Null when the id is stale or free.
  Entry* find(uint64_t id);
  void release(uint64_t id);
  size_t size() const { return live_; }

 private:
  std::vector<Entry> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

// The upstream seq of a frame without parsing it (firehose::locate_seq); -1 when it has none.
int64_t peek_upstream_seq(std::span<const uint8_t> frame, firehose::SeqLocation* loc = nullptr);

class SeqOrder {
 public:
  // True when `seq` is newer than everything the connection sent before (frames without a seq,
  // seq < 0, always pass). Records it.
  bool admit(uint64_t conn, int64_t seq);
  void forget(uint64_t conn) { last_.erase(conn); }
  size_t connections() const { return last_.size(); }

 private:
  std::unordered_map<uint64_t, int64_t> last_;
};

struct PauseChange {
  uint64_t conn = 0;
  bool pause = false;
};

struct HostCount {
  uint32_t host = 0;
  uint32_t pending = 0;
  bool paused = false;
};

class FlowControl {
 public:
  FlowControl(uint32_t host_limit, uint64_t total_bytes_limit)
      : host_limit_(host_limit == 0 ? 1 : host_limit), total_limit_(total_bytes_limit) {}

  // An event of `host`, received on `conn`, is pending with `bytes` of frame.
  void add(uint32_t host, uint64_t conn, uint64_t bytes);
  // It was dropped or written.
  void remove(uint32_t host, uint64_t bytes);
  void connection_closed(uint64_t conn);

  // Pause/resume orders and changed host counts since the last call (both appended).
  void take_changes(std::vector<PauseChange>& pauses, std::vector<HostCount>& hosts);

  uint32_t pending(uint32_t host) const;
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t total_events() const { return total_events_; }
  size_t paused_hosts() const { return paused_.size(); }

 private:
  struct Host {
    uint32_t pending = 0;
    bool paused = false;
    bool dirty = false;
    std::vector<uint64_t> conns;  // live connections (usually one)
  };
  Host& host(uint32_t id);
  void mark(uint32_t id, Host& h);
  void set_paused(uint32_t id, Host& h, bool pause);
  bool may_resume(const Host& h) const;
  void resume_eligible();

  uint32_t host_limit_;
  uint64_t total_limit_;
  uint64_t total_bytes_ = 0;
  uint64_t total_events_ = 0;
  std::unordered_map<uint32_t, Host> hosts_;
  std::unordered_map<uint64_t, uint32_t> conn_host_;
  std::unordered_set<uint32_t> paused_;
  std::vector<uint32_t> dirty_;
  std::vector<PauseChange> pauses_;
};

}  // namespace ringlay::relay
