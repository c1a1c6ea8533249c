// ClusterService: what the cluster administration routes need — who leads,
// this node's status, the members and their addresses, adding (as a learner,
// promoted once caught up), removing, and leadership transfer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "raft/logger.h"
#include "raft/node.h"
#include "service/state_machine.h"

namespace raftlock::service {

struct LeaderInfo {
  raft::NodeId id = 0;
  std::string http;  // "" when not known yet
  raft::Term term = 0;
};

class ClusterService {
 public:
  using PeerHttpLookup = std::function<std::optional<std::string>(raft::NodeId)>;
  using Done = std::function<void(Status)>;

  ClusterService(boost::asio::io_context& io, raft::Node& node, SqliteStateMachine& sm,
                 std::string own_http, PeerHttpLookup peer_http, Logger& log,
                 std::chrono::milliseconds election_timeout);

  void start();
  void stop();

  raft::CoreStatus status() const { return node_.status(); }
  // How many times this node has seen the leader change to a new known leader.
  std::uint64_t leader_changes() const { return node_.leader_changes(); }
  std::optional<LeaderInfo> leader() const;
  std::vector<Member> members() const;
  bool is_leader() const;
  // /readyz: a leader is known, everything committed is applied, and a leader
  // has heard from a quorum recently.
  bool ready() const;

  // Leader only (kNotLeader otherwise). Each calls `done` once: ok when the
  // change is applied on this node; kTimeout when not seen in time.
  void add_member(raft::NodeId id, const std::string& peer, const std::string& http, Done done);
  void remove_member(raft::NodeId id, Done done);
  void transfer_leadership(raft::NodeId to, Done done);

 private:
  struct PendingOp {
    std::function<bool()> finished;
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  void schedule();
  void on_timer();
  void promote_caught_up_learners();
  void wait_for(std::function<bool()> finished, std::chrono::milliseconds timeout, Done done);
  bool has_member(raft::NodeId id) const;

  boost::asio::io_context& io_;
  raft::Node& node_;
  SqliteStateMachine& sm_;
  std::string own_http_;
  PeerHttpLookup peer_http_;
  Logger& log_;
  std::chrono::milliseconds election_timeout_;
  boost::asio::steady_timer timer_;
  std::vector<PendingOp> ops_;
  bool stopped_ = false;
};

}  // namespace raftlock::service
