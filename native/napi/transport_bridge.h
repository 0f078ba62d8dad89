// SPDX-License-Identifier: MIT
// The two ways the ring thread's events reach JS, both built so they can be measured side by
// side (bench/bridge.ts; the choice and its numbers are in HACKING.md):
//   tsfn    a napi threadsafe function: notify() = napi_call_threadsafe_function, which
//           queues a call and wakes libuv through its own uv_async.
//   uvpoll  an eventfd the ring thread writes, watched by a uv_poll on Node's loop
//           (napi_get_uv_event_loop): notify() = one write(2); JS is entered with
//           MakeCallback so promise jobs run after each batch.
// Either way notify() is called at most once per ring turn and only when the event queue
// was empty, and `drain` runs on the JS thread and takes everything queued.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "io/ring_thread.h"

namespace ringlay::napi {

using DrainFn = void (*)(Napi::Env env, void* context);

class Bridge : public io::EventNotifier {
 public:
  ~Bridge() override = default;
  // JS thread: keep (or stop keeping) the Node process alive while the transport runs.
  virtual void set_ref(bool ref) = 0;
  // JS thread, after the ring thread has exited: no notify() will come any more.
  virtual void close() = 0;
  virtual const char* name() const = 0;
};

// nullptr and `error` set on failure.
std::unique_ptr<Bridge> make_tsfn_bridge(Napi::Env env, DrainFn drain, void* context, std::string* error);
std::unique_ptr<Bridge> make_uvpoll_bridge(Napi::Env env, DrainFn drain, void* context, std::string* error);

}  // namespace ringlay::napi
