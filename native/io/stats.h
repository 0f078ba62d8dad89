// SPDX-License-Identifier: MIT
// Transport counters: written by the ring thread only, read by JS (stats() → Prometheus) at
// any time. Each is a relaxed atomic; the single writer uses load+store rather than a locked
// read-modify-write, since nobody else writes it.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringlay::io {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Why a connection ended. The names are what JS sees (ConsumerCloseInfo.reason, metrics
// labels); append only, never reorder (the order is the counter array's index).
enum class CloseReason : uint8_t {
  peer_closed,          // orderly close from the peer (EOF or a WebSocket close frame)
  connection_reset,     // ECONNRESET, EPIPE, ETIMEDOUT on an established socket
  recv_error,           // any other receive failure
  send_error,           // any other send failure
  local_close,          // the relay closed it (normal)
  stopped,              // the transport is shutting down
  too_slow,             // a consumer's send queue passed its budget
  message_too_big,      // a peer's message passed the size limit (1009)
  protocol_error,       // malformed WebSocket framing (1002)
  bad_request,          // malformed HTTP (400)
  bad_handshake,        // WebSocket handshake refused
  handshake_timeout,    // no handshake in time
  idle_timeout,         // no traffic (or no pong) in time
  connect_refused,      // upstream connect: ECONNREFUSED
  connect_timeout,      // upstream connect: timed out
  connect_error,        // upstream connect: other errno
  tls_error,            // TLS failure other than certificates
  cert_untrusted,       // certificate chain not trusted
  cert_hostname_mismatch,
  drain_timeout,        // queued bytes could not be written before the close deadline
  out_of_memory,
  future_cursor,        // a consumer's ?cursor= was above the newest seq (FutureCursor, 1008)
  replay_error,         // reading the event log for a consumer failed (1011)
  count_
};
inline constexpr size_t kCloseReasons = static_cast<size_t>(CloseReason::count_);

const char* name(CloseReason reason);

struct Stats {
  Counter submissions;
  Counter completions;
  Counter enters;
  Counter bytes_in;
  Counter bytes_out;
  Counter connections_open;   // gauge: sockets open (accepted + upstream), listeners excluded
  Counter connections_accepted;
  Counter consumers;          // gauge: open WebSocket consumers
  Counter upstreams;          // gauge: open upstream connections
  Counter queued_send_bytes;  // gauge: bytes queued on sockets, not yet written
  Counter fanout_queued_bytes;  // gauge: consumers' bytes waiting in the fan-out core
  Counter sends;              // sendmsg submissions
  Counter send_iovecs;        // iovecs across those sendmsgs (coalescing ratio)
  Counter partial_sends;      // sendmsg completions that wrote less than asked
  Counter recv_enobufs;       // multishot receives stopped by an empty buffer ring
  Counter recv_rearms;        // multishot receives re-armed after ending
  Counter cq_overflows;       // turns that found the CQ overflow flag set
  Counter sqe_backlog;        // SQEs that had to wait in the backlog (SQ full)
  Counter accept_errors;
  Counter unexpected_errors;  // errnos no table names
  Counter http_requests;
  Counter frames_broadcast;
  Counter upstream_messages;
  Counter events_to_js;
  Counter event_batches;
  Counter closes[kCloseReasons];
  // Consumer replay and disk catch-up: a copy of the fan-out core's (fanout::Stats), refreshed
  // with fanout_queued_bytes.
  Counter consumers_live;          // gauge
  Counter consumers_catching_up;   // gauge
  Counter catch_up_chunk_bytes;    // gauge: log chunks held by catching-up consumers
  Counter catch_up_reads;
  Counter catch_up_bytes_read;
  Counter catch_up_frames_sent;
  Counter catch_up_fallbacks;      // live → catching up
  Counter catch_up_handoffs;       // catching up → live
  Counter too_slow_queue;          // evicted over the queue bound (no log to fall back to)
  Counter too_slow_lag;            // evicted past the hard lag bound
  Counter too_slow_gap;            // evicted: retention deleted frames it needed
  Counter replay_read_errors;
  Counter cursor_live, cursor_replay, cursor_outdated, cursor_future, cursor_bad;
  // Broadcast bytes JS has posted that the ring thread has not published yet. The one value
  // with two writers (JS adds, the ring thread subtracts), hence a real read-modify-write.
  std::atomic<uint64_t> posted_broadcast_bytes{0};

  void closed(CloseReason r) { closes[static_cast<size_t>(r)].add(); }
};

}  // namespace ringlay::io
