// Checker: the Raft safety properties, checked after every simulation event.
//
// The checker sees every node and keeps a global record of what the cluster
// has done (leaders per term, durable entries, committed and applied entries,
// votes granted), so each check is incremental: an event costs work in
// proportion to what it changed, not to the length of the history.
//
// Properties (Raft paper Figure 3, §5.2-§5.4, and the node-local rules of
// shared/research/raft-correctness.md §6.1):
//   election-safety        at most one leader per term; every kAppend,
//                          kHeartbeat and kSnapshot of a term comes from it
//   one-vote-per-term      a node grants one candidate per term, across restarts
//                          (checked on durable hard states and on sent kVoteResp)
//   leader-append-only     a leader never truncates or overwrites its durable log
//   log-matching           equal (index, term) means equal data and equal
//                          previous term, on every durable log ever written
//   leader-completeness    a new leader of term T holds every entry committed
//                          in a term < T
//   committed-entry-unique an index is committed with one term only
//   state-machine-safety   every node applies the same entry at each index
//   node-local             term, durable term and commit never decrease;
//                          applied <= commit <= last index; applied entries are
//                          consecutive and never roll back within an incarnation
//   read-index             a read index is >= every index committed before the
//                          read was requested (linearizable reads, T§6.4)
//
// "Committed" is what some node's Core reports as its commit index. A commit
// first seen on a leader is attributed to the leader's term; one first seen on
// a follower to the follower's term, which is never lower than the term of the
// leader that committed it, so the leader-completeness check stays sound.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/core.h"
#include "raft/log_store.h"
#include "raft/types.h"
#include "tests/sim/sim_state_machine.h"

namespace raftlock::sim {

// What the first application of each lock command did, cluster-wide.
struct LockTotals {
  std::uint64_t commands = 0;
  std::uint64_t grants = 0;
  std::uint64_t sessions_ended = 0;
  std::uint64_t sessions_expired = 0;  // by a session.expire
  std::uint64_t stale_expiries = 0;    // session.expire entries of another term than decided
  std::uint64_t errors = 0;            // commands answered with an error
};

struct Failure {
  std::string invariant;
  std::string detail;
};

class Checker {
 public:
  // The volatile state of node `id` after an input to its Core.
  void observe(raft::NodeId id, std::uint64_t incarnation, const raft::Core& core);
  // Around LogStore::write of one Ready: `st` is the node's status at the time.
  void before_write(raft::NodeId id, const raft::CoreStatus& st, const raft::StorageWrite& w,
                    const raft::LogView& store);
  void after_write(raft::NodeId id, const raft::StorageWrite& w, const raft::LogView& store);
  // A message leaving its sender (after the sender's write was durable).
  void on_send(const raft::Message& m);
  // Node `id` applies `e` to `sm` (called before sm.apply).
  void on_apply(raft::NodeId id, const StateMachine& sm, const raft::Entry& e);
  // Node `id` restored `sm` from `snap`; it had applied `applied_before` in this incarnation.
  void on_restore(raft::NodeId id, raft::Index applied_before, const raft::Snapshot& snap,
                  const StateMachine& sm);
  // A read_index request with this (unique) context is being issued / was answered.
  void on_read_request(const raft::Bytes& context);
  void on_read_state(raft::NodeId id, const raft::ReadState& rs);
  // Node `id` applied (or re-applied from an image) the command at `index`:
  // every replica must answer it identically and reach the same lock state
  // (lock-replica-agreement).
  void on_lock_outcome(raft::NodeId id, raft::Index index, const LockOutcome& o);
  const LockTotals& lock_totals() const { return lock_totals_; }

  bool failed() const { return failure_.has_value(); }
  const std::optional<Failure>& failure() const { return failure_; }
  // Reports a failure found outside the checker (liveness, storage).
  void fail(const std::string& invariant, const std::string& detail);

  std::uint64_t elections() const { return leaders_.size(); }
  raft::Index committed_index() const { return committed_.size(); }

 private:
  struct NodeView {
    std::uint64_t incarnation = 0;
    raft::Role role = raft::Role::kFollower;
    raft::Term term = 0;
    raft::Index commit = 0;
  };
  struct CommitRecord {
    bool known = false;          // false: committed, but its term was never seen
    raft::Term term = 0;         // the entry's term
    raft::Term commit_term = 0;  // term in which it was (at the latest) committed
    raft::NodeId seen_on = raft::kNoNode;
  };
  struct LogRecord {
    raft::EntryType type = raft::EntryType::kNormal;
    raft::Bytes data;
    std::optional<raft::Term> prev_term;  // unknown when the previous entry was compacted
    raft::NodeId written_by = raft::kNoNode;
  };

  void record_commits(raft::NodeId id, const raft::Core& core, const raft::CoreStatus& st,
                      raft::Index from, raft::Index to);
  void check_leader_completeness(raft::NodeId id, const raft::Core& core,
                                 const raft::CoreStatus& st);
  void check_applied(raft::NodeId id, const AppliedEntry& e);

  std::optional<Failure> failure_;
  std::map<raft::NodeId, NodeView> views_;
  std::map<raft::Term, raft::NodeId> leaders_;
  std::map<std::pair<raft::NodeId, raft::Term>, raft::NodeId> votes_granted_;  // (voter, term)
  std::map<std::pair<raft::Index, raft::Term>, LogRecord> log_;
  std::vector<CommitRecord> committed_;               // [i - 1] for index i
  std::vector<std::optional<AppliedEntry>> applied_;  // [i - 1] for index i
  std::map<raft::Bytes, raft::Index> read_floors_;    // context -> commit index at request
  struct LockRecordAt {
    std::uint64_t result_hash = 0, state_hash = 0;
    raft::NodeId seen_on = raft::kNoNode;
    std::string result;
  };
  std::map<raft::Index, LockRecordAt> lock_at_;  // command entries, by index
  LockTotals lock_totals_;
};

}  // namespace raftlock::sim
