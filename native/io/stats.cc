// SPDX-License-Identifier: MIT
#include "io/stats.h"

namespace ringlay::io {

const char* name(CloseReason reason) {
  switch (reason) {
    case CloseReason::peer_closed: return "peer_closed";
    case CloseReason::connection_reset: return "connection_reset";
    case CloseReason::recv_error: return "recv_error";
    case CloseReason::send_error: return "send_error";
    case CloseReason::local_close: return "local_close";
    case CloseReason::stopped: return "stopped";
    case CloseReason::too_slow: return "too_slow";
    case CloseReason::message_too_big: return "message_too_big";
    case CloseReason::protocol_error: return "protocol_error";
    case CloseReason::bad_request: return "bad_request";
    case CloseReason::bad_handshake: return "bad_handshake";
    case CloseReason::handshake_timeout: return "handshake_timeout";
    case CloseReason::idle_timeout: return "idle_timeout";
    case CloseReason::connect_refused: return "connect_refused";
    case CloseReason::connect_timeout: return "connect_timeout";
    case CloseReason::connect_error: return "connect_error";
    case CloseReason::tls_error: return "tls_error";
    case CloseReason::cert_untrusted: return "cert_untrusted";
    case CloseReason::cert_hostname_mismatch: return "cert_hostname_mismatch";
    case CloseReason::drain_timeout: return "drain_timeout";
    case CloseReason::out_of_memory: return "out_of_memory";
    case CloseReason::future_cursor: return "future_cursor";
    case CloseReason::replay_error: return "replay_error";
    case CloseReason::count_: break;
  }
  return "unknown";
}

}  // namespace ringlay::io
