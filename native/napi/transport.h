// SPDX-License-Identifier: MIT
// For other native/napi files: the io_uring transport behind a JS UringTransport object, as the
// command port native producers post to (the relay pipeline's link, native/relay/uring_link.h).
#pragma once

#include <napi.h>

#include <memory>

#include "io/ring_thread.h"

namespace ringlay::napi {

// Null when `value` is not a running UringTransport (checked with a napi type tag).
std::shared_ptr<io::CommandPort> uring_command_port(Napi::Value value);

}  // namespace ringlay::napi
