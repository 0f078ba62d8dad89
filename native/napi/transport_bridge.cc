// SPDX-License-Identifier: MIT
#include "napi/transport_bridge.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

#include "util/assert.h"

namespace ringlay::napi {
namespace {

class TsfnBridge final : public Bridge {
 public:
  TsfnBridge(DrainFn drain, void* context) : drain_(drain), context_(context) {}

  bool init(Napi::Env env, std::string* error) {
    napi_value name;
    napi_create_string_utf8(env, "ringlay.io.events", NAPI_AUTO_LENGTH, &name);
    napi_status s = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, this,
                                                    &TsfnBridge::call_js, &tsfn_);
    if (s != napi_ok) {
      *error = "napi_create_threadsafe_function failed";
      return false;
    }
    return true;
  }

  void notify() override {
    // Non-blocking with an unbounded queue: it only fails once the function is released
    // (napi_closing), after which nobody needs the events.
    napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
  }

  void set_ref(bool ref) override {
    if (tsfn_ == nullptr) return;
    if (ref) napi_ref_threadsafe_function(env_, tsfn_);
    else napi_unref_threadsafe_function(env_, tsfn_);
  }

  void close() override {
    if (tsfn_ == nullptr) return;
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_ = nullptr;
  }

  const char* name() const override { return "tsfn"; }

  void set_env(napi_env env) { env_ = env; }

 private:
  static void call_js(napi_env env, napi_value, void* context, void*) {
    // env is null while the function is being torn down: nothing to deliver to.
    if (env == nullptr) return;
    auto* self = static_cast<TsfnBridge*>(context);
    self->drain_(Napi::Env(env), self->context_);
  }

  DrainFn drain_;
  void* context_;
  napi_env env_ = nullptr;
  napi_threadsafe_function tsfn_ = nullptr;
};

class UvPollBridge final : public Bridge {
 public:
  UvPollBridge(napi_env env, DrainFn drain, void* context) : env_(env), drain_(drain), context_(context) {}

  ~UvPollBridge() override {
    // close() hands the poll handle to uv_close, whose callback frees it; a bridge never
    // closed (process teardown) leaves the handle to the dying loop.
    if (efd_ >= 0 && poll_ == nullptr) ::close(efd_);
  }

  bool init(std::string* error) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) {
      *error = "napi_get_uv_event_loop failed";
      return false;
    }
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) {
      *error = std::string("eventfd failed: ") + std::strerror(errno);
      return false;
    }
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, efd_) != 0 || uv_poll_start(poll_, UV_READABLE, &UvPollBridge::on_readable) != 0) {
      *error = "uv_poll_init/uv_poll_start failed";
      delete poll_;
      poll_ = nullptr;
      return false;
    }
    return true;
  }

  void notify() override {
    uint64_t one = 1;
    while (::write(efd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  void set_ref(bool ref) override {
    if (poll_ == nullptr) return;
    if (ref) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }

  void close() override {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    // The handle (and the eventfd, closed in its callback) outlive this bridge until libuv
    // is done with them.
    poll_->data = reinterpret_cast<void*>(static_cast<intptr_t>(efd_));
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
      ::close(static_cast<int>(reinterpret_cast<intptr_t>(h->data)));
      delete reinterpret_cast<uv_poll_t*>(h);
    });
    poll_ = nullptr;
    efd_ = -1;
  }

  const char* name() const override { return "uvpoll"; }

 private:
  static void on_readable(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<UvPollBridge*>(handle->data);
    uint64_t count;
    // Reset the counter first: a notify() racing with the drain below re-arms readability.
    while (::read(self->efd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    if (status < 0) return;
    Napi::Env env(self->env_);
    Napi::HandleScope scope(env);
    self->drain_(env, self->context_);
  }

  napi_env env_;
  DrainFn drain_;
  void* context_;
  int efd_ = -1;
  uv_poll_t* poll_ = nullptr;
};

}  // namespace

std::unique_ptr<Bridge> make_tsfn_bridge(Napi::Env env, DrainFn drain, void* context, std::string* error) {
  auto b = std::make_unique<TsfnBridge>(drain, context);
  b->set_env(env);
  if (!b->init(env, error)) return nullptr;
  return b;
}

std::unique_ptr<Bridge> make_uvpoll_bridge(Napi::Env env, DrainFn drain, void* context, std::string* error) {
  auto b = std::make_unique<UvPollBridge>(env, drain, context);
  if (!b->init(error)) return nullptr;
  return b;
}

}  // namespace ringlay::napi
