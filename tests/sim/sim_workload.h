// Workload: what clients and operators do during the chaos phase.
//
// Each act() draws one action from the run's Rng: a proposal "p<N>" at a random
// node (followers forward it), a burst of proposals at the leader, a
// read_index at a random node, a log compaction at a random node, a leadership
// transfer, a membership change (add a learner from the spare ids, promote it
// to voter once it has caught up, remove a voter or learner while keeping at
// least three voters), or a forced campaign. With `--workload locks`, 65% of
// the steps are instead a lock client's action (sim_lock_workload.h).
#pragma once

namespace raftlock::sim {

class Cluster;

class Workload {
 public:
  void act(Cluster& c);

 private:
  void propose_random(Cluster& c);
  void propose_burst(Cluster& c);
  void read_index(Cluster& c);
  void compact(Cluster& c);
  void transfer(Cluster& c);
  void change_membership(Cluster& c);
  void campaign(Cluster& c);
};

}  // namespace raftlock::sim
