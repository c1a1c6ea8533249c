// EventQueue: the simulation's agenda, in virtual time.
//
// Events are ordered by (time, sequence number): two events due at the same
// virtual millisecond run in the order they were scheduled, so the order never
// depends on addresses, hashing or the standard library's heap layout.
#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "raft/types.h"

namespace raftlock::sim {

using TimeMs = std::uint64_t;  // virtual milliseconds since the start of the run

enum class EventKind : std::uint8_t {
  kTick,       // one Core tick of `node`
  kDeliver,    // `msg` arrives at msg.to (or is lost there)
  kPersisted,  // the storage write of `node`'s pending Ready is durable
  kNemesis,    // the fault schedule acts
  kClient,     // the workload acts
  kHeal,       // end of the fault phase: heal everything
  kProbe,      // liveness check during the heal phase
  kDepose,     // crash or isolate `node` if it still leads `term` (short-lived leaders)
  kRevive,     // undo a kDepose: restart `node` if it is down, reconnect the network
  kCrash,      // crash `node` (racing its pending storage write) if not restarted since
  kRestart,    // restart `node` if it is down
};

const char* event_kind_name(EventKind k);

struct Event {
  explicit Event(EventKind k, raft::NodeId n = raft::kNoNode, std::uint64_t inc = 0)
      : kind(k), node(n), incarnation(inc) {}

  EventKind kind = EventKind::kTick;
  raft::NodeId node = raft::kNoNode;  // kTick, kPersisted: the node
  std::uint64_t incarnation = 0;      // kTick, kPersisted, kDepose: stale if the node restarted
                                      // kDeliver: the sender's incarnation
  raft::Term term = 0;                // kDepose
  std::uint64_t write = 0;            // kPersisted, pipelined runs: the Ready's number
  raft::Message msg;                  // kDeliver
};

class EventQueue {
 public:
  void push(TimeMs at, Event e) { q_.emplace(Key{at, next_seq_++}, std::move(e)); }
  bool empty() const { return q_.empty(); }
  std::size_t size() const { return q_.size(); }

  // Removes and returns the earliest event. REQUIRES: !empty().
  std::pair<TimeMs, Event> pop() {
    auto node = q_.extract(q_.begin());
    return {node.key().first, std::move(node.mapped())};
  }

 private:
  using Key = std::pair<TimeMs, std::uint64_t>;  // (time, sequence number)
  std::map<Key, Event> q_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace raftlock::sim
