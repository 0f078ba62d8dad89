// SPDX-License-Identifier: MIT
// ReplayReader: the thread that reads the event log for catching-up consumers (fanout.h,
// "Cursors and disk catch-up"). The fan-out core asks for reads (ReadRequest: frames after
// seq S for consumer C, about N bytes); its owner posts them here and takes the chunks back.
//
// Why a thread and not the ring thread: a read is one pread into a fresh chunk (log/reader.h).
// Measured on the 2-core dev VM (HACKING.md, "Consumer replay"), 256 KiB chunks: page-cached,
// p50 36 µs, mean 80 µs; cold (an old cursor), mean 0.44 ms, p99 4.3 ms, max 14 ms. The warm
// case the ring thread could afford; the cold one, times a reconnect storm of replaying
// consumers, would stall every socket. Here the cost lands on this thread only; the owner (ring
// thread or JS thread) pays one queue push and one eventfd/uv_async wake per batch, and the
// round trip adds ~5 µs per chunk over the read itself.
// log/reader.h readers are used by one thread each: all of them live on this thread, one per
// catching-up consumer, kept between reads so a consumer's next chunk continues where the last
// ended (no seek); a request whose after_seq is not the reader's position reopens it.
//
// Threads meet only in the two MpscQueues; this thread sleeps in read(2) on its eventfd.
// Fairness: requests run in arrival order and each is one read, so catching-up consumers share
// the thread round-robin, one chunk at a time.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fanout/fanout.h"
#include "util/mpsc_queue.h"

namespace ringlay::log_store {
class EventLog;
class Reader;
}  // namespace ringlay::log_store

namespace ringlay::relay {

struct ReplayResult {
  fanout::ConsumerId id = 0;
  fanout::DiskChunk chunk;
};

struct ReplayReaderStats {
  uint64_t reads = 0;          // read() calls
  uint64_t bytes = 0;          // chunk bytes read
  uint64_t read_ns_total = 0;  // time in read(), this thread
  uint64_t read_ns_max = 0;
  uint64_t readers_open = 0;   // gauge: consumers with a reader
  uint64_t reopens = 0;        // requests that did not continue where the reader was
};

class ReplayReader {
 public:
  // Starts the thread over `log` (kept alive by it). `wake` runs on this thread after results
  // were pushed to an empty queue (later ones ride along): an eventfd write for the ring
  // thread, a threadsafe-function call for JS. nullptr and *error on failure.
  static std::unique_ptr<ReplayReader> start(std::shared_ptr<log_store::EventLog> log,
                                             std::function<void()> wake, std::string* error);
  // Stops and joins the thread (it finishes the read in progress, at most one chunk).
  ~ReplayReader();
  ReplayReader(const ReplayReader&) = delete;
  ReplayReader& operator=(const ReplayReader&) = delete;

  // The owner thread: hand over requests (the vector is emptied), take results (cleared first).
  void post(std::vector<fanout::ReadRequest>& requests);
  void take(std::vector<ReplayResult>& out) { results_.take_all(out); }

  const log_store::EventLog& log() const { return *log_; }
  std::shared_ptr<log_store::EventLog> shared_log() const { return log_; }
  ReplayReaderStats stats() const;

 private:
  ReplayReader(std::shared_ptr<log_store::EventLog> log, std::function<void()> wake);
  static void* thread_main(void* self);
  void run();
  void serve(const fanout::ReadRequest& req, std::vector<ReplayResult>& out);
  void signal();

  std::shared_ptr<log_store::EventLog> log_;
  std::function<void()> wake_;
  int efd_ = -1;
  pthread_t thread_{};
  bool running_ = false;
  std::atomic<bool> stop_{false};
  MpscQueue<fanout::ReadRequest> requests_;
  MpscQueue<ReplayResult> results_;
  // Reader thread only.
  std::unordered_map<fanout::ConsumerId, std::unique_ptr<log_store::Reader>> readers_;
  struct Counters {
    std::atomic<uint64_t> reads{0}, bytes{0}, read_ns_total{0}, read_ns_max{0}, readers{0}, reopens{0};
  };
  Counters c_;
};

}  // namespace ringlay::relay
