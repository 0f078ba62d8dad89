// SPDX-License-Identifier: MIT
#include "relay/uring_link.h"

namespace ringlay::relay {

void UringLink::upstream_messages(uint32_t host, uint64_t upstream_id, std::vector<BytesRef>& messages) {
  Inbound in;
  in.kind = Inbound::Kind::frames;
  in.host = host;
  in.conn = upstream_id;
  in.frames = std::move(messages);
  messages.clear();
  inbox_->push(std::move(in));
}

void UringLink::upstream_closed(uint32_t, uint64_t upstream_id) {
  Inbound in;
  in.kind = Inbound::Kind::conn_closed;
  in.conn = upstream_id;
  inbox_->push(std::move(in));
}

void UringLink::publish(std::vector<fanout::PublishFrame>& frames) {
  io::Command c;
  c.kind = io::CommandKind::publish;
  c.frames.reserve(frames.size());
  c.seqs.reserve(frames.size());
  for (fanout::PublishFrame& f : frames) {
    c.frames.push_back(std::move(f.payload));
    c.seqs.push_back(f.seq);
  }
  frames.clear();
  ring_->post(std::move(c));
}

bool UringLink::pause_upstream(uint64_t conn, bool pause) {
  io::Command c;
  c.kind = io::CommandKind::pause_upstream;
  c.id = conn;
  c.count = pause ? 1 : 0;
  ring_->post(std::move(c));
  return true;
}

}  // namespace ringlay::relay
