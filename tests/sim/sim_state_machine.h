// StateMachine: the simulation's replicated state machine.
//
// Its state is the ordered list of every entry applied so far (index, term,
// type, data), so two replicas can be compared entry by entry, and a replica
// restored from a snapshot still holds the whole history: the snapshot image
// is the serialized list. Keeping history instead of a digest is what lets the
// checker (invariants.h) verify a restored image against what others applied.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"

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
  static Result<StateMachine> from_image(const raft::Bytes& image);

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

  // REQUIRES: e.index == applied() + 1 (the checker verifies it first).
  void apply(const raft::Entry& e);
  raft::Bytes image() const;

 private:
  std::vector<AppliedEntry> entries_;
  std::map<raft::Bytes, raft::Index> payloads_;  // kNormal data -> first index, for liveness
};

}  // namespace raftlock::sim
