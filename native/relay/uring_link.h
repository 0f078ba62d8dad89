// SPDX-License-Identifier: MIT
// UringLink: the relay pipeline wired to the io_uring transport, both ways, with no JS between.
//   ring thread → relay   io::RelaySink: relay-mode upstreams' messages go straight into the
//                         relay thread's Inbox (one push per upstream per ring turn), and their
//                         ends reset the per-connection seq check.
//   relay → ring thread   Downstream: written frames become a `publish` command (the ring
//                         thread calls fanout.publish with their relay seqs), flow control a
//                         `pause_upstream` command.
// It holds only the two queues (Inbox, CommandPort), never the RelayCore or the RingThread, so
// either side may be torn down first: pushes into a closed inbox are dropped, commands posted
// after the ring thread ended are never run.
#pragma once

#include <memory>
#include <vector>

#include "io/ring_thread.h"
#include "io/transport_types.h"
#include "relay/inbox.h"
#include "relay/relay_core.h"

namespace ringlay::relay {

class UringLink final : public io::RelaySink, public Downstream {
 public:
  UringLink(std::shared_ptr<Inbox> inbox, std::shared_ptr<io::CommandPort> ring)
      : inbox_(std::move(inbox)), ring_(std::move(ring)) {}

  // io::RelaySink (ring thread)
  void upstream_messages(uint32_t host, uint64_t upstream_id, std::vector<BytesRef>& messages) override;
  void upstream_closed(uint32_t host, uint64_t upstream_id) override;

  // Downstream (relay thread)
  void publish(std::vector<fanout::PublishFrame>& frames) override;
  bool pause_upstream(uint64_t conn, bool pause) override;

 private:
  std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<io::CommandPort> ring_;
};

}  // namespace ringlay::relay
