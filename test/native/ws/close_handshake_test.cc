// SPDX-License-Identifier: MIT
#include "ws/close_handshake.h"

#include "harness.h"

using namespace ringlay::ws;

TEST(ws_close_peer_first_is_echoed_once) {
  CloseHandshake c(Role::server);
  CHECK(c.on_peer_close(4000));
  CHECK_EQ(c.reply_code(), 4000);
  CHECK(c.complete());
  CHECK(c.should_close_tcp());
  CHECK(!c.close_locally(1001));  // already answered: never a second close frame
  CHECK(!c.on_peer_close(4000));
}

TEST(ws_close_local_first_waits_for_the_peer) {
  CloseHandshake c(Role::client);
  CHECK(c.close_locally(1000));
  CHECK(!c.close_locally(1000));
  CHECK(!c.complete());
  CHECK(!c.on_peer_close(1000));  // the peer's answer needs no reply
  CHECK(c.complete());
  CHECK(!c.should_close_tcp());   // a client lets the server close TCP first
  CHECK_EQ(c.reply_code(), 1000);
}

TEST(ws_close_without_code_echoes_empty) {
  CloseHandshake c(Role::server);
  CHECK(c.on_peer_close(kCloseNoStatus));
  CHECK_EQ(c.reply_code(), kCloseNoStatus);
  CHECK_EQ(close_payload(c.reply_code(), ""), "");
}
