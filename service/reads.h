// Linearizable reads (ReadIndex, thesis §6.4): ask the leader for a read
// index, wait until this node has applied it, then read the local state.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "raft/node.h"

namespace raftlock::service {

class Reads {
 public:
  // Called once: ok when the local state may be read; kNoLeader / kTimeout.
  using Done = std::function<void(Status)>;

  Reads(boost::asio::io_context& io, raft::Node& node);

  void linearizable(std::chrono::milliseconds timeout, Done done);
  // The node reports a read state / a new applied index.
  void on_read_state(const raft::ReadState& rs);
  void on_applied(raft::Index applied);
  // A new leader is known: reads still waiting for their read index may have
  // been lost with the old one, so ask again (a read index from any leader
  // of any later term is as good).
  void on_leader_change();

 private:
  struct Pending {
    Done done;
    raft::Index index = 0;  // 0 until the read state arrives
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  void finish(std::uint64_t id, Status s);

  boost::asio::io_context& io_;
  raft::Node& node_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending> pending_;
};

}  // namespace raftlock::service
