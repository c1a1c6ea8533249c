// Nemesis: the fault schedule of the chaos phase.
//
// Each act() draws one fault from the run's Rng: crash a node or the leader
// (losing its unsynced Ready), restart a crashed node, partition the network
// (symmetric split, one-way, leader isolated, bridge: two halves that only
// talk through one node), heal the partitions, or change the drop and
// duplication rates. Leader crashes and isolations followed by restarts are
// what build Figure 8's divergent logs; simultaneous restarts and splits
// build split votes.
#pragma once

#include <set>
#include <vector>

#include "raft/types.h"

namespace raftlock::sim {

class Cluster;

class Nemesis {
 public:
  void act(Cluster& c);
  // Crashes or isolates `id` if that incarnation still leads `term`; true if it did.
  bool depose(Cluster& c, raft::NodeId id, std::uint64_t incarnation, raft::Term term);

 private:
  void crash_some(Cluster& c, bool leader);
  void restart_some(Cluster& c);
  void split(Cluster& c);
  void one_way(Cluster& c);
  void isolate_leader(Cluster& c);
  void bridge(Cluster& c);
  void change_rates(Cluster& c);
};

}  // namespace raftlock::sim
