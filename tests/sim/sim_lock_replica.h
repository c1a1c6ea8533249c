// LockReplica: one node's replica of the service's lock rules
// (service/lock_state.h) inside the simulation's state machine.
//
// Every applied kNormal entry whose data decodes as a command
// (service/command.h) is applied to a LockState at the entry's (index, term);
// other entries ("p17", the leaders' empty entries) leave it alone. Each
// application yields a LockOutcome: a hash of the command's result and of the
// whole state after it (for the cross-replica comparison of invariants.h),
// the grants it made and the sessions it ended.
//
// The replica also checks, on its own history, the lock contract of DESIGN.md
// after every entry it applies:
//   lock-state-invariants  LockState::check_invariants() holds
//   lock-exclusion         no lock has more exclusive holders than its limit;
//                          shared holders never sit beside an exclusive one,
//                          and only on locks of limit 1; an election has
//                          at most one leader
//   fencing                every grant's token is its entry's index and is
//                          strictly greater than every earlier grant's token
//                          of the same lock
//   session-end            a session disappears only through a session.close
//                          of it, or a session.expire whose decided term equals
//                          the entry's term and whose result lists it;
//                          an expiry whose term differs expires nothing
// The first violation is kept in violation().
//
// The state travels in snapshot images twice: the history (whose
// re-application rebuilds it) and a serialized copy (sessions and
// LockState::encode_lock), which the restoring node loads and must find
// identical to the re-applied one (the daemon's load path, exercised).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"
#include "service/lock_state.h"

namespace raftlock::sim {

// Test-only rule breakers of the lock layer (never in service/): each must
// make some seed fail, proving the lock checks bite.
struct LockMutations {
  // Node 2's replica drops every command entry whose index is a multiple of 8.
  bool replica_skips_entry = false;
  // Replicas apply session.expire as if it came from the term it names,
  // i.e. without the term guard.
  bool expiry_ignores_term = false;
  // Not a rule breaker but a probe of LockState: clients campaign with
  // "mode": "shared", which the API never sends (LockState accepts it).
  bool campaign_shared = false;
};

struct LockOutcome {
  bool command = false;  // the entry decoded as a command
  std::string op, req;
  bool ok = false;
  std::string result;  // the CommandResult as JSON text (what a client gets)
  std::uint64_t result_hash = 0;
  std::uint64_t state_hash = 0;  // the whole LockState after the entry
  std::vector<service::LockEffects::Grant> grants;
  std::vector<std::string> ended;  // sessions that ended
  bool stale_expiry = false;       // session.expire whose term is not the entry's
};

class LockReplica {
 public:
  LockReplica() = default;
  LockReplica(raft::NodeId node, LockMutations m) : node_(node), mutations_(m) {}

  void configure(raft::NodeId node, LockMutations m) {
    node_ = node;
    mutations_ = m;
  }
  LockOutcome apply(const raft::Entry& e);

  const service::LockState& state() const { return state_; }
  std::uint64_t state_hash() const;
  const std::string& violation() const { return violation_; }
  std::string violation_kind() const { return violation_kind_; }

  // The serialized copy carried in snapshot images; "" when there is nothing.
  std::string image() const;
  // Replaces the state with the serialized copy; kCorruption if it does not
  // decode or differs from the state re-applied from the history.
  Status load_and_compare(const std::string& image);

 private:
  void violate(const std::string& kind, const std::string& detail);
  void check_after(const raft::Entry& e, const service::Command& c, LockOutcome& o);

  raft::NodeId node_ = raft::kNoNode;
  LockMutations mutations_;
  service::LockState state_;
  std::map<std::string, raft::Index> max_token_;  // per lock key, over the applied history
  std::string violation_kind_, violation_;
};

// 64-bit FNV-1a.
std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 14695981039346656037ULL);

}  // namespace raftlock::sim
