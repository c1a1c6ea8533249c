// Ready: everything the core asks its driver to do after an input.
//
// The driver's loop (the order matters, it is what makes Raft safe):
//   1. store.write(rd.storage_write())    -- entries, hard state, snapshots; durable
//   2. if rd.snapshot: restore the state machine from it
//   3. send rd.messages                     -- only after 1: persist before send
//   4. apply rd.committed_entries in order, serve rd.read_states once applied
//   5. core.advance(rd)
#pragma once

#include <optional>
#include <vector>

#include "raft/log_store.h"
#include "raft/types.h"

namespace raftlock::raft {

// Volatile state an observer may want to know about when it changes.
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;   // set when leader or role changed
  std::optional<HardState> hard_state;   // set when term, vote or commit changed
  std::vector<Entry> entries;            // to append to stable storage
  std::optional<Snapshot> snapshot;      // received from the leader: store and restore
  std::optional<Snapshot> compact;       // taken locally via Core::compact: store
  std::vector<Entry> committed_entries;  // committed, to apply in order
  std::vector<Message> messages;         // to send once the storage write is durable
  std::vector<ReadState> read_states;    // linearizable reads now allowed

  // The part of this Ready the driver must make durable, as one atomic write.
  StorageWrite storage_write() const {
    StorageWrite w;
    w.install_snapshot = snapshot;
    w.entries = entries;
    w.hard_state = hard_state;
    w.compact = compact;
    return w;
  }
};

}  // namespace raftlock::raft
