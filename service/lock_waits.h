// LockWaits: acquire and campaign requests that wait on this node.
//
// An acquire is proposed with its wait_ms; the entry either grants, refuses
// (try-lock) or queues the session (FIFO, in the replicated state). A queued
// request then waits here for the entry that grants it (any node's release,
// session end or sweep), or for its own deadline, or for its client to go
// away. The last two end the wait through a committed `lock.cancel` entry,
// whose result is the answer: if an earlier entry granted the wait, the
// client gets that grant, so no grant lands on a wait nobody is waiting for.
// Several requests may attach to one wait (a retry of the same acquire): the
// wait is cancelled only when the last of them gives up.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "service/lock_state.h"
#include "service/proposals.h"

namespace raftlock::service {

struct AcquireRequest {
  LockKind kind = LockKind::kLock;
  std::string name;
  std::string session;
  LockMode mode = LockMode::kExclusive;
  std::uint32_t limit = 1;
  std::int64_t wait_ms = 0;
  std::string value;  // elections
};

class LockWaits {
 public:
  using Done = std::function<void(const CommandResult&)>;
  using StateView = std::function<const LockState&()>;

  LockWaits(boost::asio::io_context& io, Proposals& proposals, StateView state,
            std::chrono::milliseconds proposal_timeout);

  using Queued = std::function<void(std::uint64_t id)>;
  // Proposes the acquire and calls `done` once: the grant, or the refusal,
  // or (after waiting) the grant or lock_held. Returns a handle for gone().
  // `queued` (optional) hears when the request starts waiting in the queue:
  // only from then on does its client's hang-up matter.
  std::uint64_t acquire(const AcquireRequest& req, Done done, Queued queued = nullptr);
  // The client of request `id` went away: give up its wait.
  void gone(std::uint64_t id);
  // After each applied batch (SqliteStateMachine::on_effects).
  void on_effects(const LockEffects& effects);
  std::size_t waiting() const { return tickets_.size(); }

 private:
  struct Ticket {
    AcquireRequest req;
    std::string key;
    Done done;
    Queued on_queued;
    std::chrono::steady_clock::time_point deadline;
    std::unique_ptr<boost::asio::steady_timer> timer;
    bool queued = false;  // the acquire entry queued it; waiting for a grant
    bool gone = false;    // the client went away
    bool ending = false;  // a lock.cancel is in flight
  };
  using WaitKey = std::pair<std::string, std::string>;  // (lock key, session)

  void on_acquired(std::uint64_t id, const CommandResult& r);
  void give_up(std::uint64_t id, const char* reason);
  void finish(std::uint64_t id, const CommandResult& r);
  void finish_wait(const WaitKey& wk, const CommandResult& r);
  std::size_t live_on(const WaitKey& wk, std::uint64_t except) const;

  boost::asio::io_context& io_;
  Proposals& proposals_;
  StateView state_;
  std::chrono::milliseconds proposal_timeout_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Ticket> tickets_;
  std::multimap<WaitKey, std::uint64_t> by_wait_;  // queued tickets only
};

}  // namespace raftlock::service
