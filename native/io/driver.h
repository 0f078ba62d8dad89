// SPDX-License-Identifier: MIT
// Driver: everything the ring thread does besides turning the ring. It owns the Loop and
// the fan-out core, runs commands from JS (listen, respond, broadcast, connect, close,
// stop), keeps the connection handlers (http_conn.h: the HTTP front door and firehose
// consumers; upstream_conn.h: WebSocket clients) and collects events for JS into one outbox
// per turn. Single-threaded: every method runs on the ring thread, except create().
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fanout/fanout.h"
#include "io/loop.h"
#include "io/transport_types.h"
#include "relay/replay_reader.h"
#include "tls/client.h"

namespace ringlay::io {

struct DriverConfig {
  LoopOptions loop;
  TransportLimits limits;
  std::string server_header;  // the Server value on every response, contains "atproto-relay"
  std::string user_agent;     // for upstream handshakes
  // Trust for wss:// upstreams; null when none could be built (wss then fails with tls_error).
  std::shared_ptr<const tls::Context> tls;
};

// What each of the driver's Handlers is, so a Conn found by id can be used as the right one
// (the build has no RTTI to ask).
enum class HandlerKind : uint8_t { listener, http, upstream };

class DriverHandler : public Handler {
 public:
  explicit DriverHandler(HandlerKind kind) : kind_(kind) {}
  HandlerKind kind() const { return kind_; }

 private:
  HandlerKind kind_;
};

class Driver {
 public:
  // Where upstream messages go instead of JS when it returns true (later: native
  // validation). Runs on the ring thread; may take the messages out of the vector.
  using MessageHook = std::function<bool(uint64_t upstream_id, std::vector<BytesRef>& messages)>;

  // On the JS thread: sets up the ring (or fails with the probe's kind of message).
  static std::unique_ptr<Driver> create(DriverConfig config, Stats* stats, RingError* error);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // On the ring thread, first. `commands` is called when the wake-up eventfd fires and must
  // hand over the commands posted since.
  int start(std::function<void(std::vector<Command>&)> commands);
  // One loop turn plus the driver's end-of-turn work. False once stopped and drained.
  bool turn();
  int wake_fd() const { return loop_->wake_fd(); }
  void take_outbox(std::vector<Event>& out);
  void set_message_hook(MessageHook hook) { hook_ = std::move(hook); }

  // For the handlers.
  Loop& loop() { return *loop_; }
  fanout::Fanout& fanout() { return fanout_; }
  // The event log ?cursor= is decided against (relay/replay_cursor.h); null until the relay
  // sets one (CommandKind::replay_log).
  const log_store::EventLog* replay_log() const { return replay_ != nullptr ? &replay_->log() : nullptr; }
  const DriverConfig& config() const { return config_; }
  Stats& stats() { return *stats_; }
  bool stopping() const { return stopping_; }
  void emit(Event e) { outbox_.push_back(std::move(e)); }
  // The Date header value, recomputed once a second.
  const std::string& date();
  void consumer_attached(fanout::ConsumerId consumer, uint64_t conn_id);
  void consumer_detached(fanout::ConsumerId consumer);
  // An upstream has messages to deliver at the end of this turn.
  void upstream_has_messages(uint64_t conn_id) { upstreams_with_messages_.push_back(conn_id); }
  void upstream_ended(uint64_t upstream_id) { upstreams_.erase(upstream_id); }
  // Delivers one upstream's pending messages now (before its close event).
  void flush_upstream(uint64_t conn_id);
  // A relay-mode upstream ended (after its last messages went to the sink).
  void relay_upstream_closed(uint32_t host, uint64_t upstream_id) {
    if (relay_) relay_->upstream_closed(host, upstream_id);
  }

 private:
  explicit Driver(DriverConfig config) : config_(std::move(config)) {}
  void handle(Command& cmd);
  void listen(Command& cmd);
  void respond(Command& cmd);
  void broadcast(Command& cmd);
  void connect(Command& cmd);
  void close_upstream(Command& cmd);
  void publish(Command& cmd);
  void set_replay_log(Command& cmd);
  // Catch-up reads: results from the replay thread to the fan-out core, its requests back.
  void service_replay();
  void pause_upstream(Command& cmd);
  void begin_stop();
  void on_tick(uint64_t now_ms);
  void pump_consumers();
  void flush_upstreams();
  void run_bench();
  void update_queued_gauge(bool now);
  template <typename T>
  T* handler_of(uint64_t conn_id, HandlerKind kind);

  DriverConfig config_;
  Stats* stats_ = nullptr;
  std::unique_ptr<Loop> loop_;
  fanout::Fanout fanout_;
  // Reads the log for catching-up consumers on its own thread (its header says why). Declared
  // after the Loop: destroyed first, so its wake-ups never reach a freed Loop.
  std::unique_ptr<relay::ReplayReader> replay_;
  std::vector<fanout::ReadRequest> read_requests_;
  std::vector<relay::ReplayResult> read_results_;
  std::function<void(std::vector<Command>&)> take_commands_;
  std::vector<Command> commands_;
  std::vector<Event> outbox_;
  std::unordered_map<fanout::ConsumerId, uint64_t> consumers_;  // → conn id
  std::unordered_map<uint64_t, uint64_t> upstreams_;             // JS upstream id → conn id
  std::vector<uint64_t> upstreams_with_messages_;
  std::vector<fanout::ConsumerId> ready_;
  std::vector<uint64_t> listeners_;
  MessageHook hook_;
  std::shared_ptr<RelaySink> relay_;  // relay-mode upstreams deliver here (attach_relay)
  bool stopping_ = false;
  bool stopped_ = false;
  uint64_t stop_deadline_ms_ = 0;
  uint64_t queued_updated_ms_ = 0;
  uint64_t bench_left_ = 0;
  uint64_t bench_batch_ = 0;
  uint64_t bench_seq_ = 0;
  std::time_t date_second_ = 0;
  std::string date_;
};

}  // namespace ringlay::io
