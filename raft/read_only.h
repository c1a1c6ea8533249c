// The leader's queue of ReadIndex requests (thesis §6.4): each waits for a
// quorum of heartbeat acknowledgements that carry its context.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "raft/types.h"

namespace raftlock::raft {

struct ReadRequest {
  Index index = 0;        // commit index when the read arrived
  Bytes context;          // the requester's id for the read
  NodeId from = kNoNode;  // who asked (the leader itself, or a follower)
};

class ReadOnly {
 public:
  // Queues a read; duplicates of a pending context are ignored.
  void add(const ReadRequest& r);
  // Records that `from` acknowledged the heartbeat carrying `context`.
  // Returns the set of acknowledgers so far (empty if the context is unknown).
  std::set<NodeId> ack(NodeId from, const Bytes& context);
  // Removes and returns every request up to and including `context`, oldest
  // first: confirming a later read confirms every earlier one.
  std::vector<ReadRequest> advance(const Bytes& context);
  // The context of the newest pending request ("" if none).
  Bytes last_pending() const;
  bool empty() const { return queue_.empty(); }
  void clear();

 private:
  std::deque<ReadRequest> queue_;
  std::map<Bytes, std::set<NodeId>> acks_;
};

}  // namespace raftlock::raft
