// SPDX-License-Identifier: MIT
#include "io/driver.h"

#include <unistd.h>

#include <cerrno>

#include "http/response.h"
#include "io/http_conn.h"
#include "io/net.h"
#include "io/upstream_conn.h"
#include "log/event_log.h"
#include "util/assert.h"
#include "util/log.h"

namespace ringlay::io {

std::unique_ptr<Driver> Driver::create(DriverConfig config, Stats* stats, RingError* error) {
  std::unique_ptr<Driver> d(new Driver(std::move(config)));
  d->stats_ = stats;
  d->loop_ = Loop::create(d->config_.loop, stats, error);
  if (!d->loop_) return nullptr;
  fanout::Limits limits;
  limits.queue_bytes = d->config_.limits.consumer_send_queue_bytes;
  limits.read_bytes = d->config_.limits.catch_up_read_bytes;
  limits.max_lag_seqs = d->config_.limits.consumer_max_lag_seqs;
  d->fanout_ = fanout::Fanout(limits);
  return d;
}

Driver::~Driver() {
  // The replay thread wakes the loop: it stops first.
  replay_.reset();
  // Handlers refer to the fan-out core and to this driver: they go first, with the loop.
  loop_.reset();
}

int Driver::start(std::function<void(std::vector<Command>&)> commands) {
  take_commands_ = std::move(commands);
  loop_->set_on_wake([this] {
    take_commands_(commands_);
    for (Command& c : commands_) handle(c);
    commands_.clear();
  });
  loop_->set_on_tick([this](uint64_t now) { on_tick(now); });
  return loop_->start();
}

bool Driver::turn() {
  if (stopped_) return false;
  int r = loop_->run_once(bench_left_ == 0);
  if (r < 0) {
    RL_LOG_ERROR("io", "io_uring loop failed: %s; stopping the transport", errno_name(r));
    stopped_ = true;
    Event e;
    e.kind = EventKind::stopped;
    e.code = -r;
    e.b = errno_name(r);
    emit(std::move(e));
    return false;
  }
  if (bench_left_ > 0) run_bench();
  service_replay();
  pump_consumers();
  flush_upstreams();
  update_queued_gauge(false);
  if (stopping_ && loop_->live_connections() == 0) {
    loop_->shutdown();
    stopped_ = true;
    Event e;
    e.kind = EventKind::stopped;
    emit(std::move(e));
    return false;
  }
  return true;
}

void Driver::take_outbox(std::vector<Event>& out) {
  out.swap(outbox_);
  outbox_.clear();
}

const std::string& Driver::date() {
  std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    date_ = http::http_date(now);
  }
  return date_;
}

void Driver::consumer_attached(fanout::ConsumerId consumer, uint64_t conn_id) {
  consumers_.emplace(consumer, conn_id);
}

void Driver::consumer_detached(fanout::ConsumerId consumer) { consumers_.erase(consumer); }

template <typename T>
T* Driver::handler_of(uint64_t conn_id, HandlerKind kind) {
  Conn* c = loop_->find(conn_id);
  if (c == nullptr || c->handler() == nullptr) return nullptr;
  auto* h = static_cast<DriverHandler*>(c->handler());
  return h->kind() == kind ? static_cast<T*>(h) : nullptr;
}

void Driver::handle(Command& cmd) {
  switch (cmd.kind) {
    case CommandKind::listen: listen(cmd); break;
    case CommandKind::respond: respond(cmd); break;
    case CommandKind::broadcast: broadcast(cmd); break;
    case CommandKind::connect: connect(cmd); break;
    case CommandKind::close_upstream: close_upstream(cmd); break;
    case CommandKind::stop:
      begin_stop();
      // seq 1: immediate (finalizer, process exit): cut everything at the next tick.
      if (cmd.seq == 1) stop_deadline_ms_ = 0;
      break;
    case CommandKind::bench_events:
      bench_left_ += cmd.count;
      bench_batch_ = cmd.batch == 0 ? 1 : cmd.batch;
      break;
    case CommandKind::attach_relay: relay_ = std::move(cmd.relay); break;
    case CommandKind::publish: publish(cmd); break;
    case CommandKind::replay_log: set_replay_log(cmd); break;
    case CommandKind::pause_upstream: pause_upstream(cmd); break;
  }
}

void Driver::listen(Command& cmd) {
  Event e;
  e.id = cmd.id;
  SocketAddress addr;
  int fd = stopping_ ? -ECANCELED : parse_address(cmd.text, cmd.port, &addr);
  if (fd == 0) fd = listen_tcp(addr, 4096, &cmd.port);
  if (fd < 0) {
    e.kind = EventKind::listen_failed;
    e.b = errno_name(fd);
    e.c = "cannot listen on " + cmd.text + ":" + std::to_string(cmd.port) + ": " + errno_name(fd);
    emit(std::move(e));
    return;
  }
  Conn* c = loop_->listen(fd, std::make_unique<ListenerHandler>(*this));
  listeners_.push_back(c->id());
  e.kind = EventKind::listening;
  e.code = cmd.port;
  emit(std::move(e));
}

void Driver::respond(Command& cmd) {
  Conn* c = loop_->find(cmd.id);
  HttpConn* h = handler_of<HttpConn>(cmd.id, HandlerKind::http);
  if (c != nullptr && h != nullptr) h->respond(*loop_, *c, cmd);
}

void Driver::broadcast(Command& cmd) {
  if (cmd.frames.empty()) return;
  std::vector<fanout::PublishFrame> frames;
  frames.reserve(cmd.frames.size());
  uint64_t bytes = 0;
  // JS may give relay seqs (napi/transport.cc checked them: one per frame, increasing).
  for (size_t i = 0; i < cmd.frames.size(); ++i) {
    bytes += cmd.frames[i].size();
    frames.push_back(fanout::PublishFrame{std::move(cmd.frames[i]), cmd.seqs.empty() ? 0 : cmd.seqs[i]});
  }
  fanout_.publish(frames);
  stats_->frames_broadcast.add(frames.size());
  update_queued_gauge(true);
  stats_->posted_broadcast_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

// Frames the relay wrote to its log, with their relay seqs (native/relay/uring_link.h).
void Driver::publish(Command& cmd) {
  if (cmd.frames.empty()) return;
  RL_ASSERT(cmd.seqs.size() == cmd.frames.size());
  std::vector<fanout::PublishFrame> frames;
  frames.reserve(cmd.frames.size());
  for (size_t i = 0; i < cmd.frames.size(); ++i) frames.push_back(fanout::PublishFrame{std::move(cmd.frames[i]), cmd.seqs[i]});
  fanout_.publish(frames);
  stats_->frames_broadcast.add(frames.size());
  update_queued_gauge(true);
}

// Consumer replay: from now on ?cursor= is decided against this log, and consumers behind the
// in-memory window (or falling behind it) read it on the replay thread. Set once; the relay
// never swaps its log.
void Driver::set_replay_log(Command& cmd) {
  if (cmd.log == nullptr) return;
  if (replay_ != nullptr) {
    if (&replay_->log() != cmd.log.get()) RL_LOG_WARN("io", "replay log already set; ignoring another");
    return;
  }
  std::string error;
  Loop* loop = loop_.get();
  // What the log holds now was never published to this fan-out (a restart) or is on its way;
  // frames written from now on are published here. The relay posts this command before its
  // listen command, so every consumer is decided against the log and this floor.
  const uint64_t written = cmd.log->written_seq();
  replay_ = relay::ReplayReader::start(std::move(cmd.log), [loop] { loop->wake(); }, &error);
  if (replay_ == nullptr) {
    RL_LOG_ERROR("io", "cannot start the replay reader: %s; cursors are served live only", error.c_str());
    return;
  }
  fanout_.start_after(written);
  fanout_.set_catch_up(true);
}

void Driver::service_replay() {
  if (replay_ != nullptr) {
    replay_->take(read_results_);
    for (relay::ReplayResult& r : read_results_) fanout_.supply(r.id, std::move(r.chunk));
    read_results_.clear();
  }
  fanout_.take_reads(read_requests_);
  if (replay_ != nullptr) replay_->post(read_requests_);
  read_requests_.clear();
}

// The relay's flow control: a host with too many events pending stops being read.
void Driver::pause_upstream(Command& cmd) {
  auto it = upstreams_.find(cmd.id);
  if (it == upstreams_.end()) return;
  Conn* c = loop_->find(it->second);
  UpstreamConn* h = handler_of<UpstreamConn>(it->second, HandlerKind::upstream);
  if (c != nullptr && h != nullptr) h->set_paused(*loop_, *c, cmd.count != 0);
}

void Driver::connect(Command& cmd) {
  std::unique_ptr<UpstreamSpec> spec = std::move(cmd.upstream);
  RL_ASSERT(spec != nullptr);
  SocketAddress addr;
  int fd = stopping_ ? -ECANCELED : parse_address(spec->address, spec->port, &addr);
  if (fd == 0) fd = connect_socket(addr);
  if (fd < 0) {
    Event e;
    e.kind = EventKind::upstream_close;
    e.id = cmd.id;
    e.code = 1006;
    e.b = "connect_error";
    e.c = "cannot connect to " + spec->address + ": " + errno_name(fd);
    emit(std::move(e));
    return;
  }
  uint32_t timeout = spec->handshake_timeout_ms;
  auto handler = std::make_unique<UpstreamConn>(*this, cmd.id, std::move(spec));
  Conn* c = loop_->connect(fd, addr.ss, addr.len, timeout, std::move(handler));
  upstreams_[cmd.id] = c->id();
}

void Driver::close_upstream(Command& cmd) {
  auto it = upstreams_.find(cmd.id);
  if (it == upstreams_.end()) return;
  Conn* c = loop_->find(it->second);
  UpstreamConn* h = handler_of<UpstreamConn>(it->second, HandlerKind::upstream);
  if (c != nullptr && h != nullptr) h->close_by_caller(*loop_, *c, static_cast<uint16_t>(cmd.status), cmd.text);
}

// Listeners close at once; consumers get 1001, upstreams our 1001 close frame, HTTP
// connections their pending answer. Whatever still runs at the deadline is cut.
void Driver::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ms_ = loop_->now_ms() + config_.limits.close_timeout_ms;
  loop_->for_each_conn([this](Conn& c) {
    if (!c.is_open() || c.handler() == nullptr) return;
    auto* h = static_cast<DriverHandler*>(c.handler());
    switch (h->kind()) {
      case HandlerKind::listener: loop_->close(c, CloseReason::stopped, false); break;
      case HandlerKind::http: static_cast<HttpConn*>(h)->shut_down(*loop_, c); break;
      case HandlerKind::upstream: static_cast<UpstreamConn*>(h)->close_by_caller(*loop_, c, 1001, "shutdown"); break;
    }
  });
}

// Publishers pace themselves on queuedSendBytes (bench/fanout.ts, the shared suite's
// bound checks), so the gauge is refreshed after every publish and every turn. Fanout::stats()
// walks every consumer, though: past a few thousand consumers it is refreshed at most once
// a millisecond instead.
void Driver::update_queued_gauge(bool now) {
  constexpr size_t kEveryTurnUpTo = 2048;
  if (!now && consumers_.size() > kEveryTurnUpTo && loop_->now_ms() == queued_updated_ms_) return;
  queued_updated_ms_ = loop_->now_ms();
  fanout::Stats fs = fanout_.stats();
  stats_->fanout_queued_bytes.set(fs.queued_bytes);
  stats_->consumers_live.set(fs.consumers_live);
  stats_->consumers_catching_up.set(fs.consumers_catching_up);
  stats_->catch_up_chunk_bytes.set(fs.chunk_bytes_held);
  stats_->catch_up_reads.set(fs.catch_up_reads);
  stats_->catch_up_bytes_read.set(fs.catch_up_bytes_read);
  stats_->catch_up_frames_sent.set(fs.catch_up_frames_sent);
  stats_->catch_up_fallbacks.set(fs.fallbacks);
  stats_->catch_up_handoffs.set(fs.handoffs);
  stats_->too_slow_queue.set(fs.too_slow_queue);
  stats_->too_slow_lag.set(fs.too_slow_lag);
  stats_->too_slow_gap.set(fs.too_slow_gap);
  stats_->replay_read_errors.set(fs.read_errors);
  stats_->cursor_live.set(fs.cursor_live);
  stats_->cursor_replay.set(fs.cursor_replay);
  stats_->cursor_outdated.set(fs.cursor_outdated);
  stats_->cursor_future.set(fs.cursor_future);
  stats_->cursor_bad.set(fs.cursor_bad);
}

void Driver::on_tick(uint64_t now_ms) {
  if (!stopping_ || now_ms < stop_deadline_ms_) return;
  loop_->for_each_conn([this](Conn& c) { loop_->close(c, CloseReason::stopped, false); });
}

void Driver::pump_consumers() {
  fanout_.take_ready(ready_);
  for (fanout::ConsumerId id : ready_) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) continue;
    Conn* c = loop_->find(it->second);
    HttpConn* h = handler_of<HttpConn>(it->second, HandlerKind::http);
    if (c != nullptr && h != nullptr) h->pump(*loop_, *c);
  }
}

void Driver::flush_upstream(uint64_t conn_id) {
  UpstreamConn* h = handler_of<UpstreamConn>(conn_id, HandlerKind::upstream);
  if (h == nullptr) return;
  std::vector<BytesRef> messages;
  h->take_messages(messages);
  if (messages.empty()) return;
  if (relay_ && h->spec().relay) {
    relay_->upstream_messages(h->spec().relay_host, h->upstream_id(), messages);
    return;
  }
  if (hook_ && hook_(h->upstream_id(), messages)) return;
  Event e;
  e.kind = EventKind::upstream_messages;
  e.id = h->upstream_id();
  e.messages = std::move(messages);
  emit(std::move(e));
}

void Driver::flush_upstreams() {
  if (upstreams_with_messages_.empty()) return;
  std::vector<uint64_t> ids;
  ids.swap(upstreams_with_messages_);
  for (uint64_t id : ids) flush_upstream(id);
}

// Synthetic events for bench/bridge: one batch per turn, stamped with CLOCK_MONOTONIC.
void Driver::run_bench() {
  uint64_t n = bench_left_ < bench_batch_ ? bench_left_ : bench_batch_;
  for (uint64_t i = 0; i < n; ++i) {
    Event e;
    e.kind = EventKind::bench;
    e.seq = ++bench_seq_;
    e.time_ns = monotonic_ns();
    emit(std::move(e));
  }
  bench_left_ -= n;
}

}  // namespace ringlay::io
