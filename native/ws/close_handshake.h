// SPDX-License-Identifier: MIT
// The closing handshake (RFC 6455 §5.5.1, §7) as a small state machine, so both drivers and
// both roles follow the same rules: a close frame is sent at most once; the peer's close is
// answered with the same code unless we already sent ours; once both directions are closed
// the TCP connection may end, the server side ending it first (§7.1.1: the server closes TCP,
// the client waits for that, with a timeout of the driver's choosing).
#pragma once

#include <cstdint>

#include "ws/frame.h"

namespace ringlay::ws {

class CloseHandshake {
 public:
  explicit CloseHandshake(Role role) : role_(role) {}

  // We want to close. True: send a close frame with `code` now (the first call only).
  bool close_locally(uint16_t code) {
    if (sent_) return false;
    sent_ = true;
    code_ = code;
    return true;
  }
  // The peer's close frame arrived. True: answer with a close frame carrying reply_code()
  // (only when we had not sent ours).
  bool on_peer_close(uint16_t peer_code) {
    received_ = true;
    if (!received_code_) {
      received_code_ = true;
      code_ = sent_ ? code_ : peer_code;
    }
    if (sent_) return false;
    sent_ = true;
    return true;
  }
  // The code to put in our answer (1005 means: an empty close payload).
  uint16_t reply_code() const { return code_; }
  bool sent() const { return sent_; }
  bool received() const { return received_; }
  // Both close frames exchanged: the server should close TCP now; a client waits for the
  // server to do it (and closes itself after a timeout).
  bool complete() const { return sent_ && received_; }
  bool should_close_tcp() const { return complete() && role_ == Role::server; }

 private:
  Role role_;
  bool sent_ = false;
  bool received_ = false;
  bool received_code_ = false;
  uint16_t code_ = kCloseNoStatus;
};

}  // namespace ringlay::ws
