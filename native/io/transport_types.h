// SPDX-License-Identifier: MIT
// What crosses between the JS thread and the ring thread: commands one way, events the
// other, both as plain values moved through MpscQueues (util/mpsc_queue.h). Frame bytes
// cross as BytesRef (one copy when JS hands a Buffer down, none afterwards).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/shared_bytes.h"

namespace ringlay::log_store {
class EventLog;
}

namespace ringlay::io {

struct HeaderPair {
  std::string name;
  std::string value;
};

// TransportLimits (lib/transport/types.ts), plus the driver's own timing knobs.
struct TransportLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_consumer_message_bytes = 64 * 1024;
  size_t consumer_send_queue_bytes = 16 * 1024 * 1024;
  size_t upstream_max_message_bytes = 5000000;
  uint32_t consumer_ping_interval_ms = 30000;
  uint32_t http_idle_timeout_ms = 60000;      // keep-alive connection without a request
  uint32_t http_request_timeout_ms = 30000;   // a request's head and body must arrive by then
  uint32_t close_timeout_ms = 5000;           // close handshakes and draining closes
  // Consumer replay (fanout::Limits): one log read per catching-up consumer, and the hard bound.
  size_t catch_up_read_bytes = 256 * 1024;
  uint64_t consumer_max_lag_seqs = 1000000;
};

// An upstream connection as TypeScript describes it (URL already split, DNS resolved).
struct UpstreamSpec {
  bool tls = false;
  std::string host;          // URL host: Host header, SNI, certificate name
  uint16_t port = 0;
  std::string address;       // IP literal to connect to
  std::string host_header;   // "host" or "host:port"
  std::string path_and_query;
  std::vector<HeaderPair> headers;
  size_t max_message_bytes = 5000000;
  uint32_t ping_interval_ms = 30000;
  uint32_t handshake_timeout_ms = 10000;
  // Relay mode: messages go to the attached RelaySink as host `relay_host`'s, not to JS.
  bool relay = false;
  uint32_t relay_host = 0;
};

// Where upstreams connected in relay mode deliver their messages (native/relay implements it,
// attached with CommandKind::attach_relay). Called on the ring thread only.
class RelaySink {
 public:
  virtual ~RelaySink() = default;
  // One upstream's messages of this turn, in arrival order (moved out of `messages`).
  virtual void upstream_messages(uint32_t host, uint64_t upstream_id, std::vector<BytesRef>& messages) = 0;
  // The upstream ended (after its last messages).
  virtual void upstream_closed(uint32_t host, uint64_t upstream_id) = 0;
};

enum class CommandKind : uint8_t {
  listen,          // id = request id, text = host, port
  respond,         // id = connection, seq = request seq, status, headers, body
  broadcast,       // frames
  connect,         // id = upstream id, upstream
  close_upstream,  // id = upstream id, status = close code, text = reason
  stop,            // close everything, then end the thread
  bench_events,    // emit `count` synthetic events in batches of `batch` (bridge benchmark)
  // Relay (native/relay/uring_link.h):
  attach_relay,    // relay = the sink for relay-mode upstreams (null: detach)
  publish,         // frames with their relay seqs (seqs), written to the log: to the fan-out
  pause_upstream,  // id = upstream id, count = 1 pause receiving / 0 resume
  // Consumer replay (native/relay/replay_reader.h):
  replay_log,      // log = the event log ?cursor= is decided against and catch-up reads
};

struct Command {
  CommandKind kind = CommandKind::stop;
  uint64_t id = 0;
  uint64_t seq = 0;
  int status = 0;
  uint16_t port = 0;
  std::string text;
  std::vector<HeaderPair> headers;
  BytesRef body;
  std::vector<BytesRef> frames;
  std::unique_ptr<UpstreamSpec> upstream;
  uint64_t count = 0;
  uint64_t batch = 0;
  std::vector<uint64_t> seqs;        // publish: one per frame
  std::shared_ptr<RelaySink> relay;  // attach_relay
  std::shared_ptr<log_store::EventLog> log;  // replay_log
};

enum class EventKind : uint8_t {
  listening,          // id = request id, code = bound port
  listen_failed,      // id = request id, b = errno name, c = message
  http_request,       // id = connection, seq, a = method, b = path, c = query, d = remote,
                      // headers (lower-case names, repeats joined), body
  consumer_open,      // id = consumer, c = query, d = remote, b = how it starts (fanout::Start
                      // name: live, replay, outdated, future)
  consumer_close,     // id = consumer, code, a = reason
  upstream_open,      // id = upstream, code = HTTP status, headers
  upstream_messages,  // id = upstream, messages
  upstream_close,     // id = upstream, code, a = reason, b = error code ("" if none), c = message
  stopped,            // the ring thread has ended
  bench,              // seq = sequence number, time_ns = CLOCK_MONOTONIC when emitted
};

struct Event {
  EventKind kind = EventKind::stopped;
  uint64_t id = 0;
  uint64_t seq = 0;
  int code = 0;
  uint64_t time_ns = 0;
  std::string a, b, c, d;
  std::vector<HeaderPair> headers;
  BytesRef body;
  std::vector<BytesRef> messages;
};

}  // namespace ringlay::io
