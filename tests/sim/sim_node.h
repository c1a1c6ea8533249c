// SimNode: one server of the simulated cluster across its incarnations.
//
// What survives a crash is the MemoryLogStore (the "disk"). The Core, the
// in-memory state machine and a Ready whose storage write has not completed
// yet are lost; restart() rebuilds them from the store, with the state machine
// restored from the stored snapshot (so Config::applied = snapshot index).
//
// The Ready protocol is split in two (see ready.h): take_ready() hands out a
// Ready and keeps it pending; the cluster later makes its write durable and
// finishes it. Without pipelined writes no other Ready is taken while one is
// pending; with them (RunParams::pipelined) several are, oldest first.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "raft/config.h"
#include "raft/core.h"
#include "raft/memory_log_store.h"
#include "raft/ready.h"
#include "tests/sim/sim_state_machine.h"

namespace raftlock::sim {

class SimNode {
 public:
  // A node that founds the cluster: its store holds the bootstrap entry.
  static std::unique_ptr<SimNode> founding(raft::NodeId id, const raft::ConfState& voters);
  // A node added later: its store is empty until the leader fills it.
  static std::unique_ptr<SimNode> joining(raft::NodeId id);

  raft::NodeId id() const { return id_; }
  bool up() const { return core_ != nullptr; }
  bool retired() const { return retired_; }
  // Counts starts: 1 for the first incarnation. Events carry it to detect staleness.
  std::uint64_t incarnation() const { return incarnation_; }

  // Builds a Core and state machine from the store. `cfg.applied` is set here.
  // Fails (kCorruption) if the stored snapshot image does not decode.
  // REQUIRES: !up() && !retired().
  Status start(raft::Config cfg);
  // Loses everything not in the store. REQUIRES: up().
  void crash();
  // The node was removed from the configuration: it stops for good.
  void retire();
  // Test-only rule breakers for this node's lock replica (every incarnation).
  void set_lock_mutations(LockMutations m) { lock_mutations_ = m; }
  LockMutations lock_mutations() const { return lock_mutations_; }

  // REQUIRES: up().
  raft::Core& core() { return *core_; }
  const raft::Core& core() const { return *core_; }
  StateMachine& sm() { return sm_; }
  const StateMachine& sm() const { return sm_; }
  raft::MemoryLogStore& store() { return store_; }
  const raft::MemoryLogStore& store() const { return store_; }

  bool has_pending() const { return !pending_.empty(); }
  std::size_t pending_count() const { return pending_.size(); }
  // Takes the core's Ready and keeps it pending, after those pending already;
  // it is numbered last_taken(). REQUIRES: up(), has_ready().
  raft::Ready& take_ready();
  std::uint64_t last_taken() const { return taken_; }
  // The number of the oldest pending Ready. REQUIRES: has_pending().
  std::uint64_t oldest_pending() const { return taken_ - pending_.size() + 1; }
  // The role and term the core had when it gave out the oldest pending Ready
  // (what its write is judged by). REQUIRES: has_pending().
  struct TakenAs {
    raft::Role role = raft::Role::kFollower;
    raft::Term term = 0;
  };
  TakenAs oldest_taken_as() const { return taken_as_.front(); }
  // Removes and returns the oldest pending Ready. REQUIRES: has_pending().
  raft::Ready release_pending();

 private:
  explicit SimNode(raft::NodeId id) : id_(id) {}

  raft::NodeId id_;
  raft::MemoryLogStore store_;
  std::unique_ptr<raft::Core> core_;  // null while down
  StateMachine sm_;
  std::deque<raft::Ready> pending_;
  std::deque<TakenAs> taken_as_;  // one per pending Ready
  std::uint64_t taken_ = 0;       // Readies taken, over all incarnations
  std::uint64_t incarnation_ = 0;
  bool retired_ = false;
  LockMutations lock_mutations_;
};

}  // namespace raftlock::sim
