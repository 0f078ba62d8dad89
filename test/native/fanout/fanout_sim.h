// SPDX-License-Identifier: MIT
// The socket side of fan-out simulations shared by the fan-out, catch-up and replay tests: a
// peer's "socket" accepts some bytes of its batch, and the driver's turn asks for batches.
// Peer types differ per test; they need `id`, `sending`, `closed`, `batch` and `wire`.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fanout/fanout.h"

namespace ringlay::fanout_sim {

// Appends the first n bytes of the batch's iovecs to `out`.
inline void accept_bytes(const fanout::SendBatch& b, size_t n, std::string& out) {
  for (const iovec& v : b.iov) {
    size_t k = std::min(n, v.iov_len);
    out.append(static_cast<const char*>(v.iov_base), k);
    n -= k;
    if (n == 0) break;
  }
}

// The socket accepted n bytes of the peer's batch: record them and complete the send.
template <class Peer>
void settle(fanout::Fanout& f, Peer& p, size_t n) {
  accept_bytes(p.batch, n, p.wire);
  p.sending = false;
  f.complete(p.id, p.batch, n);
}

// Asks for batches for every ready consumer (the driver's turn).
template <class PeerMap>
void turn(fanout::Fanout& f, PeerMap& peers) {
  std::vector<fanout::ConsumerId> ready;
  f.take_ready(ready);
  for (fanout::ConsumerId id : ready) {
    auto& p = peers.at(id);
    if (p.sending || p.closed) continue;
    fanout::Action a = f.next(id, p.batch);
    if (a == fanout::Action::send) p.sending = true;
    if (a == fanout::Action::close) p.closed = true;
  }
}

}  // namespace ringlay::fanout_sim
