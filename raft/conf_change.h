// Single-server membership changes (thesis §4.1) and how they are encoded in
// kConfChange entries.
//
// A kConfChange entry carries the change *and* the whole configuration that
// results from it, so the configuration in force at any index is simply the
// one in the latest kConfChange entry at or before it (or the snapshot's).
// A server uses the latest configuration in its log, committed or not (§4.1);
// when a conflicting suffix is truncated, the previous configuration returns.
#pragma once

#include "raft/log_store.h"
#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft {

enum class ConfChangeType : std::uint8_t {
  kBootstrap = 0,   // the founding configuration (entry 1 of a new cluster)
  kAddLearner = 1,  // a non-voting member that receives the log (§4.2.1)
  kAddVoter = 2,    // adds a voter, or promotes a learner
  kRemoveNode = 3,  // removes a voter or learner
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddLearner;
  NodeId node = kNoNode;
  Bytes context;  // opaque to the core (the service stores addresses here)
  bool operator==(const ConfChange&) const = default;
};

struct ConfChangeEntry {
  ConfChange change;
  ConfState result;  // the configuration after the change
  bool operator==(const ConfChangeEntry&) const = default;
};

Bytes encode_conf_change_entry(const ConfChangeEntry& e);
Result<ConfChangeEntry> decode_conf_change_entry(const Bytes& data);

// The configuration after applying `cc` to `conf`; kInvalidArgument if the
// change makes no sense there (adding an existing voter, removing a stranger,
// removing the last voter, node id 0).
Result<ConfState> apply_conf_change(const ConfState& conf, const ConfChange& cc);

// The write that founds a new cluster on a node whose store is empty: entry 1
// (term 1) holding `voters` as a kBootstrap configuration, committed. Every
// founding member writes the same entry, so they agree on it without an election.
// `context` travels in the change (the service puts the founders' addresses there);
// every founder must pass the same one.
StorageWrite bootstrap_write(const ConfState& voters, const Bytes& context = {});

}  // namespace raftlock::raft
