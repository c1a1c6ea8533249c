// Liveness: the heal phase's progress check.
//
// Once every fault is removed and every crashed node restarted, the cluster
// must, within kHealBoundMs of virtual time (20 election timeouts) plus a
// catch-up allowance for the entries the slowest node lacks at that point:
//   - have a leader that is a voter of its own (latest) configuration,
//   - commit a fresh proposal "h<N>" and apply it on every voter of that
//     configuration, and
//   - hold every acknowledged proposal in the state machine of every voter
//     (durability: an acknowledged write survives any crash pattern), and
//     every acknowledged lock command there with the answer its client got.
// The proposal is repeated if it is lost (e.g. dropped during a transfer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"
#include "tests/sim/sim_event_queue.h"

namespace raftlock::sim {

class Cluster;

// 20 election timeouts, counted at their randomized maximum (2 x election_ticks
// ticks).
inline constexpr TimeMs kHealBoundMs = 20 * 2 * 10 * 10;
// A node that was down for long catches up at worst one kAppend (of
// max_msg_entries entries) per round trip: 2 x 30 ms of delay, 2 x 5 ms of
// fsync, and slack for the probe after a reordered rejection.
inline constexpr TimeMs kCatchUpMsPerMessage = 100;

class Liveness {
 public:
  void start(Cluster& c);
  // Returns true once progress is shown; reports a failure at the deadline.
  bool probe(Cluster& c);

 private:
  std::string diagnose(Cluster& c, const std::optional<raft::NodeId>& leader);

  TimeMs bound_ = 0;
  TimeMs deadline_ = 0;
  TimeMs last_proposal_ = 0;
  std::vector<raft::Bytes> payloads_;  // heal proposals made so far
};

}  // namespace raftlock::sim
