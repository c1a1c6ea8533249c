// Settings of one Raft core. Times are in ticks; the driver decides how long
// a tick is (raftlockd: heartbeat interval = 1 tick).
#pragma once

#include <cstdint>

#include "raft/types.h"

namespace raftlock::raft {

// Test-only switches that break a Raft rule on purpose. The simulation must
// catch each one (tests/sim). Never set in production.
struct Mutations {
  bool commit_old_term_by_count = false;  // breaks §5.4.2 (Figure 8)
  bool grant_two_votes_per_term = false;  // breaks §5.2: one vote per term
  bool skip_conflict_truncation = false;  // breaks §5.3: keeps conflicting entries
  bool ignore_log_up_to_date = false;     // breaks §5.4.1: election restriction
  // Breaks T§10.2.1: the leader counts its entries toward a quorum as soon as
  // it appends them, while they are sent before its own write is durable.
  bool count_unsynced_leader_entries = false;
};

struct Config {
  NodeId id = kNoNode;
  int election_ticks = 10;                // base election timeout; randomized in [n, 2n) (§5.2)
  int heartbeat_ticks = 1;                // leader heartbeat interval; < election_ticks
  bool pre_vote = true;                   // thesis §9.6
  bool check_quorum = true;               // thesis §6.2: a leader that hears no quorum steps down
  std::uint64_t max_msg_bytes = 1 << 20;  // max entry bytes in one kAppend
  std::uint64_t max_msg_entries = 256;    // max entries in one kAppend
  int max_inflight_msgs = 64;             // kAppend messages in flight per peer
  std::uint64_t max_uncommitted_entries = 10000;  // proposals beyond are refused
  std::uint64_t seed = 1;                         // seeds election jitter; give every node its own
  Index applied = 0;  // index the state machine had applied when restarted
  Mutations mutations;
};

}  // namespace raftlock::raft
