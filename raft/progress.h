// The leader's view of one follower (Figure 2, "Volatile state on leaders"),
// with the flow control that keeps a slow or dead follower from costing memory.
//
// States: kProbe sends one kAppend per heartbeat until the follower's log
// matches; kReplicate streams kAppends optimistically, at most
// max_inflight_msgs in flight; kSnapshot waits for a snapshot to land.
#pragma once

#include <cstdint>
#include <deque>

#include "raft/types.h"

namespace raftlock::raft {

// Last indexes of the kAppend messages in flight to one peer, oldest first.
class Inflights {
 public:
  explicit Inflights(int capacity) : capacity_(capacity) {}
  bool full() const { return static_cast<int>(q_.size()) >= capacity_; }
  int count() const { return static_cast<int>(q_.size()); }
  void add(Index last);       // REQUIRES: !full()
  void free_le(Index index);  // frees every message up to `index`
  void free_first_one();
  void reset() { q_.clear(); }

 private:
  int capacity_;
  std::deque<Index> q_;
};

class Progress {
 public:
  enum class State : std::uint8_t { kProbe, kReplicate, kSnapshot };

  Progress(Index next, int max_inflight, bool learner)
      : next(next), learner(learner), inflights(max_inflight) {}

  Index match = 0;  // highest index known to be replicated on the peer
  Index next = 1;   // index of the next entry to send
  State state = State::kProbe;
  bool learner = false;
  bool probe_sent = false;     // kProbe: a kAppend is outstanding, wait for reply or heartbeat
  bool recent_active = false;  // heard from since the last CheckQuorum round
  Index pending_snapshot = 0;  // kSnapshot: index of the snapshot being sent
  int snapshot_rounds = 0;     // kSnapshot: CheckQuorum rounds without an answer
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);

  // An acknowledgement that the peer's log matches up to n. Returns true if
  // match moved forward. Stale acknowledgements (n <= match) change nothing.
  bool maybe_update(Index n);
  // kReplicate: the leader sent entries up to `last`.
  void optimistic_update(Index last) { next = last + 1; }
  // The peer rejected a kAppend whose prev index was `rejected`; `hint` is its
  // suggested next probe point. Returns false if the rejection is stale.
  bool maybe_decrease_to(Index rejected, Index hint);
  bool is_paused() const;
  const char* state_name() const;
};

}  // namespace raftlock::raft
