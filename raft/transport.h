// The interface the node driver uses to reach its peers. The TCP
// implementation is tcp_transport.h; tests use in-process ones.
#pragma once

#include <functional>
#include <string>

#include "raft/types.h"

namespace raftlock::raft {

class Transport {
 public:
  using MessageHandler = std::function<void(Message)>;
  using UnreachableHandler = std::function<void(NodeId)>;

  virtual ~Transport() = default;
  // Queues `m` for m.to. Never blocks; when the peer's queue is full or its
  // address unknown the message is dropped (Raft retransmits what matters).
  virtual void send(const Message& m) = 0;
  // Between hold() and release(), send() only queues; release() starts the
  // writes, so the messages of one batch leave in one write per peer.
  // Without hold(), send() starts writing at once.
  virtual void hold() {}
  virtual void release() {}
  // Where to reach a peer's peer port ("host:port"); replaces an older address.
  virtual void set_peer(NodeId id, const std::string& address) = 0;
  virtual void remove_peer(NodeId id) = 0;
  // Handlers run on the driver's executor.
  virtual void set_handlers(MessageHandler on_message, UnreachableHandler on_unreachable) = 0;
};

}  // namespace raftlock::raft
