// Ready: everything the core asks its driver to do after an input.
//
// The driver's loop (the order matters, it is what makes Raft safe):
//   0. optionally, send the messages m with rd.may_send_before_write(m)
//   1. store.write(rd.storage_write())    -- entries, hard state, snapshots; durable
//   2. if rd.snapshot: restore the state machine from it
//   3. send (the rest of) rd.messages       -- only after 1: persist before send
//   4. apply rd.committed_entries in order, serve rd.read_states once applied
//   5. core.advance(rd)
//
// Step 0 lets the leader replicate while it writes its own log (Ongaro's
// thesis §10.2.1): its kAppend and kHeartbeat messages ask nothing durable of
// it, because the leader counts itself toward a quorum only for the entries
// that advance() reported durable. A follower's forwarded requests (kPropose,
// kReadIndex) carry no state either. Every other message (votes, acknowledgements)
// waits for the write; and nothing goes early in a Ready that changes the term
// or the vote, which must be durable before any message of that term leaves.
// A driver that skips step 0 (sends everything in step 3) is just as safe.
//
// Step 4 may start before step 1 for the committed entries below the first
// of rd.entries (none if rd.snapshot): they were written by an earlier
// write, so their results need not wait for this one's fsync.
//
// Pipelined writes (a LogStore with write_ordered and a syncer): the driver
// need not wait for a write to be durable before it takes the next Ready.
// For each Ready, in the order ready() gives them:
//   0. send the messages that may go before the write, as above
//   1. store.write_ordered(rd's write)  -- ordered after every earlier write
//   2. apply rd.committed_entries (after 1, or the part step 4 allows before
//      it), serve rd.read_states, core.advance_applied(rd)
//   3. once a sync covering this write and every earlier one has finished:
//      send the rest of rd.messages, core.advance_written(rd)
// Applying before the local write is durable is safe: a committed entry is
// durable on a quorum, and the leader counts itself in that quorum only for
// entries advance_written reported. The store's prefix rule (log_store.h)
// keeps the state machine's own rows, written after the entries they come
// from, from surviving a crash without them. Messages that wait in step 3
// leave in the order of their Readies, so none says more than the writes
// before it made durable. A Ready with a snapshot or a compaction is not
// pipelined: the driver finishes every Ready in flight, then that one, with
// a durable write(), before it takes the next.
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
  bool term_or_vote_changes = false;     // hard_state has a new term or vote

  // Step 0 above: `m` (one of `messages`) may be sent before the storage
  // write is durable.
  bool may_send_before_write(const Message& m) const {
    if (term_or_vote_changes) return false;
    switch (m.type) {
      case MessageType::kAppend:
      case MessageType::kHeartbeat:
      case MessageType::kPropose:
      case MessageType::kReadIndex:
        return true;
      default:
        return false;
    }
  }

  // How many of committed_entries (a prefix) were written by earlier writes
  // (durable, or ordered before this one when writes are pipelined), so may
  // be applied before this Ready's write (step 4 early).
  std::size_t committed_written_before() const {
    if (snapshot) return 0;
    std::size_t n = 0;
    while (n < committed_entries.size() &&
           (entries.empty() || committed_entries[n].index < entries.front().index)) {
      ++n;
    }
    return n;
  }
  // The part of this Ready the driver must make durable, as one atomic write.
  StorageWrite storage_write() const {
    StorageWrite w;
    w.install_snapshot = snapshot;
    w.entries = entries;
    w.hard_state = hard_state;
    w.compact = compact;
    return w;
  }
  // The same without copying entries and snapshots (a snapshot image can be
  // tens of MiB): they move into the write, and back with put_back(w) once it
  // is done, before this Ready is used again.
  StorageWrite take_storage_write() {
    StorageWrite w;
    w.install_snapshot = std::move(snapshot);
    w.entries = std::move(entries);
    w.hard_state = hard_state;
    w.compact = std::move(compact);
    return w;
  }
  void put_back(StorageWrite&& w) {
    snapshot = std::move(w.install_snapshot);
    entries = std::move(w.entries);
    compact = std::move(w.compact);
  }
};

}  // namespace raftlock::raft
