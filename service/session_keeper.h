// SessionKeeper: the leader's duties for sessions and waits (DESIGN.md:
// time never enters the state machine from a clock).
//
// Keepalives reach the leader and are not replicated: the leader keeps each
// session's deadline (last keepalive + ttl, on its steady clock) in memory.
// When a deadline passes it proposes `session.expire` naming its own term;
// the state machine ignores an expiry whose entry was created in another
// term, so a deposed leader's decision expires nothing. A new leader gives
// every session a full ttl of grace, counted from the moment its term's first
// entry is known committed (a ReadIndex round confirms it). It also proposes
// `lock.sweep` when a queued wait outlived its deadline (its node may be
// gone) or a lock delay ended. docs/sessions.md derives the resulting bound.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "raft/logger.h"
#include "raft/node.h"
#include "service/proposals.h"
#include "service/reads.h"
#include "service/state_machine.h"

namespace raftlock::service {

class SessionKeeper {
 public:
  using Clock = std::chrono::steady_clock;

  SessionKeeper(boost::asio::io_context& io, raft::Node& node, Proposals& proposals, Reads& reads,
                const SqliteStateMachine& sm, Logger& log,
                std::chrono::milliseconds check_every = std::chrono::milliseconds(20));

  void start();
  void stop();

  // A keepalive received at `received` by this node while it leads (the
  // caller confirmed leadership by a ReadIndex round after `received`).
  // Returns the remaining lease in ms, counted from now; nullopt for an
  // unknown session.
  std::optional<std::int64_t> keepalive(const std::string& id, Clock::time_point received);
  void on_effects(const LockEffects& effects);

  std::uint64_t expiries_proposed() const { return expiries_proposed_; }

 private:
  void schedule();
  void tick();
  void begin_grace();
  void set_deadline(const std::string& id, Clock::time_point at);
  void forget();

  boost::asio::io_context& io_;
  raft::Node& node_;
  Proposals& proposals_;
  Reads& reads_;
  const SqliteStateMachine& sm_;
  Logger& log_;
  std::chrono::milliseconds every_;
  boost::asio::steady_timer timer_;
  bool stopped_ = true;

  raft::Term term_ = 0;      // the term this node leads in; 0 when it does not lead
  bool counting_ = false;    // the term's first entry is committed: deadlines run
  bool confirming_ = false;  // a ReadIndex round to learn that is in flight
  std::unordered_map<std::string, Clock::time_point> deadline_;     // by session
  std::set<std::pair<Clock::time_point, std::string>> due_;         // (deadline, session)
  std::unordered_map<std::string, Clock::time_point> expiry_sent_;  // proposed, not yet applied
  Clock::time_point sweep_sent_{};
  std::uint64_t expiries_proposed_ = 0;
};

}  // namespace raftlock::service
