// StateMachine: the simulation's replicated state machine.
//
// Its state is the ordered list of every entry applied so far (index, term,
// type, data), so two replicas can be compared entry by entry, and a replica
// restored from a snapshot still holds the whole history: the snapshot image
// is the serialized list. Keeping history instead of a digest is what lets the
// checker (invariants.h) verify a restored image against what others applied.
//
// Command entries also feed the node's LockReplica (sim_lock_replica.h); the
// image then carries the serialized lock state after the history, and a
// restore loads it and compares it with the state the history rebuilds.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"
#include "tests/sim/sim_lock_replica.h"

namespace raftlock::sim {

struct AppliedEntry {
  raft::Index index = 0;
  raft::Term term = 0;
  raft::EntryType type = raft::EntryType::kNormal;
  raft::Bytes data;
  bool operator==(const AppliedEntry&) const = default;
};

class StateMachine {
 public:
  // The state machine of an image made by image(); "" is the empty state.
  // kCorruption if the bytes are not a well-formed image.
  // `node` and `m` configure the lock replica (its test-only mutations).
  static Result<StateMachine> from_image(const raft::Bytes& image, raft::NodeId node = 0,
                                         LockMutations m = {});
  StateMachine() = default;
  StateMachine(raft::NodeId node, LockMutations m) : locks_(node, m) {}

  raft::Index applied() const { return entries_.empty() ? 0 : entries_.back().index; }
  const std::vector<AppliedEntry>& entries() const { return entries_; }
  bool contains_payload(const raft::Bytes& data) const { return payloads_.count(data) > 0; }
  // Index of the first kNormal entry carrying `data`, or 0 if none.
  raft::Index payload_index(const raft::Bytes& data) const {
    const auto it = payloads_.find(data);
    return it == payloads_.end() ? 0 : it->second;
  }
  // The entry applied at `index`, or null if not applied yet.
  const AppliedEntry* at(raft::Index index) const {
    return index == 0 || index > entries_.size() ? nullptr : &entries_[index - 1];
  }

  // What applying the entry at `index` did to the lock replica, or null if
  // not applied yet.
  const LockOutcome* outcome(raft::Index index) const {
    return index == 0 || index > outcomes_.size() ? nullptr : &outcomes_[index - 1];
  }
  const LockReplica& locks() const { return locks_; }

  // REQUIRES: e.index == applied() + 1 (the checker verifies it first).
  const LockOutcome& apply(const raft::Entry& e);
  raft::Bytes image() const;

 private:
  std::vector<AppliedEntry> entries_;
  std::map<raft::Bytes, raft::Index> payloads_;  // kNormal data -> first index, for liveness
  LockReplica locks_;
  std::vector<LockOutcome> outcomes_;  // [i - 1] for index i
};

}  // namespace raftlock::sim
