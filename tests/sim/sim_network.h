// Network: the simulated links between nodes.
//
// A message is delayed by a random 1..max_delay_ms (so messages overtake each
// other), may be dropped or duplicated, and is lost on a blocked link. Links
// are blocked one direction at a time, which is enough to build symmetric,
// asymmetric (one-way) and bridge partitions (sim_nemesis.h). Crashed nodes
// are handled by the cluster: a message to or from a node that is down when it
// arrives is lost.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "raft/types.h"
#include "tests/sim/sim_event_queue.h"
#include "tests/sim/sim_rng.h"

namespace raftlock::sim {

struct LinkFaults {
  std::uint64_t drop_per_mille = 0;
  std::uint64_t dup_per_mille = 0;
  TimeMs min_delay_ms = 1;
  TimeMs max_delay_ms = 30;
};

class Network {
 public:
  explicit Network(const LinkFaults& faults) : faults_(faults) {}

  const LinkFaults& faults() const { return faults_; }
  void set_faults(const LinkFaults& f) { faults_ = f; }

  // Random decisions for one message, drawn from the run's Rng.
  TimeMs delay(Rng& rng) const { return rng.between(faults_.min_delay_ms, faults_.max_delay_ms); }
  bool drop(Rng& rng) const { return rng.chance(faults_.drop_per_mille); }
  bool duplicate(Rng& rng) const { return rng.chance(faults_.dup_per_mille); }

  // Partitions.
  bool blocked(raft::NodeId from, raft::NodeId to) const { return blocked_.count({from, to}) > 0; }
  void block(raft::NodeId from, raft::NodeId to) { blocked_.insert({from, to}); }
  // Blocks every link from a node of `a` to a node of `b`, and back if `both_ways`.
  void block_between(const std::set<raft::NodeId>& a, const std::set<raft::NodeId>& b,
                     bool both_ways);
  void heal() { blocked_.clear(); }
  bool partitioned() const { return !blocked_.empty(); }
  // "1>2 1>3 2>1 ..." for traces.
  std::string describe() const;

 private:
  LinkFaults faults_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> blocked_;  // (from, to)
};

}  // namespace raftlock::sim
