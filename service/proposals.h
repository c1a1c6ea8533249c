// Proposals: proposes commands and answers the waiting client once the entry
// is applied on THIS node (so a follower answers from its own state), or
// with an honest error: no_leader (refused, nothing proposed) or timeout
// (proposed, outcome unknown: the commit was not seen in time).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "raft/logger.h"
#include "raft/node.h"
#include "service/command.h"

namespace raftlock::service {

class Proposals {
 public:
  using Done = std::function<void(const CommandResult&)>;

  Proposals(boost::asio::io_context& io, raft::Node& node, std::size_t pending_max = 100000);

  // Proposes `c` (its op and operands; the request id is set here, and
  // "now" to this node's wall clock in ms unless given) and calls `done`
  // exactly once. Error codes in the result: "no_leader" (503), "timeout"
  // (504), "overloaded" (503).
  void propose(Command c, std::chrono::milliseconds timeout, Done done);

  // The state machine applied a command (called for every node's commands;
  // only the ones proposed here have a waiter).
  void on_result(const CommandResult& r);
  // True while a request with this id waits here for its result.
  bool waiting(const std::string& req) const { return waiters_.count(req) != 0; }

  // A new leader is known: proposals still waiting may have died with the old
  // one (forwarded, or appended but never replicated), so propose them again.
  // The state machine remembers request ids, so none takes effect twice.
  void on_leader_change();

  // An unguessable id (64 random bits, hex) for sessions and the like.
  std::string random_id();
  std::size_t pending() const { return waiters_.size(); }
  // Seconds from propose() to the entry applied on this node, for each
  // proposal of this node that was applied (not for timeouts or refusals).
  void on_applied_latency(std::function<void(double seconds)> h) { on_latency_ = std::move(h); }

 private:
  struct Waiter {
    Done done;
    raft::Bytes data;
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::chrono::steady_clock::time_point start;
  };
  void finish(const std::string& req, const CommandResult& r);

  boost::asio::io_context& io_;
  raft::Node& node_;
  std::size_t pending_max_;
  std::uint64_t seq_ = 0;
  std::mt19937_64 rng_;
  std::map<std::string, Waiter> waiters_;
  std::function<void(double)> on_latency_;
};

CommandResult error_result(const std::string& code, const std::string& message);
// Milliseconds since the epoch on this node's wall clock: the "now" of commands.
std::int64_t wall_clock_ms();

}  // namespace raftlock::service
