// Cluster: one deterministic simulation run, from a seed to a verdict.
//
// Owns the virtual clock, the event queue, the network, the nodes and the
// checker, and drives every Core through the Ready protocol of ready.h
// (sim_cluster_ready.cc) with the storage write as a separate, later event
// (fsync latency): a crash before that event loses the whole Ready. After
// every event the checker has seen every state change (invariants.h); the
// first violation ends the run.
//
// A run has three phases: chaos (the workload and the fault schedule act, see
// sim_workload.h and sim_nemesis.h), heal (faults removed, every crashed node
// restarted; progress must resume within a bound, see sim_liveness.h), done.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "raft/config.h"
#include "raft/types.h"
#include "tests/sim/invariants.h"
#include "tests/sim/sim_event_queue.h"
#include "tests/sim/sim_lock_workload.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_node.h"
#include "tests/sim/sim_rng.h"

namespace raftlock::sim {

class Nemesis;
class Workload;
class LockWorkload;
class Liveness;

inline constexpr TimeMs kTickMs = 10;
inline constexpr int kElectionTicks = 10;
inline constexpr int kHeartbeatTicks = 1;
inline constexpr int kSpareNodes = 4;  // ids after the founders, for membership changes
// Limits that turn a runaway run (e.g. a message storm) into a reported
// failure instead of exhausting memory. A healthy run queues a few hundred
// events and processes about 20 per workload step.
inline constexpr std::size_t kMaxQueuedEvents = 200000;
inline constexpr std::uint64_t kMaxEventsBase = 1000000;
inline constexpr std::uint64_t kMaxEventsPerStep = 5000;

struct RunConfig {
  int nodes = 0;    // 3 or 5; 0 lets the seed choose
  int steps = 300;  // workload actions in the chaos phase
  raft::Mutations mutations;
  bool locks = false;            // the lock workload (sim_lock_workload.h)
  LockMutations lock_mutations;  // test-only lock-layer rule breakers
  // Test-only: pipelined runs send what waits for a write at once (the
  // durable-before-send check must catch it).
  bool driver_sends_before_sync = false;
  std::ostream* trace = nullptr;  // per-event trace when set
};

// Knobs drawn from the seed, so that the seed set covers many configurations.
struct RunParams {
  int nodes = 3;
  LinkFaults faults;
  TimeMs fsync_max_ms = 5;
  std::uint64_t max_msg_entries = 256;
  int max_inflight_msgs = 64;
  // Chance that a new leader is crashed or isolated 1..60 ms after its
  // election: leaders that die having replicated only part of their log are
  // what Figure 8 is made of.
  std::uint64_t leader_churn_per_mille = 0;
  // Chance that a Ready which promises something durable (a vote, a term, or
  // entries) has its node crashed while the write may still be in flight;
  // the node restarts 10..300 ms later. Catches "acknowledged before durable".
  std::uint64_t fsync_crash_per_mille = 0;
  // Pipelined writes (ready.h): a node takes its next Ready while earlier
  // writes are still on their way to the disk, applies committed entries at
  // once, and sends what waits for a write once the writes up to it are
  // durable (a later write's sync covers the earlier ones). A crash keeps a
  // prefix of the pending writes.
  bool pipelined = false;
};

struct RunStats {
  std::uint64_t events = 0;
  std::uint64_t proposals_acked = 0;
  std::uint64_t elections = 0;
  std::uint64_t crashes = 0;
  std::uint64_t reads_served = 0;        // ReadStates handed out
  std::uint64_t snapshots_restored = 0;  // state machines restored from a received snapshot
  std::uint64_t conf_changes = 0;        // committed membership changes
  TimeMs virtual_ms = 0;
  LockTotals locks;  // the lock workload's history (first applications)
  LockStats lock_clients;
};

struct RunResult {
  std::optional<Failure> failure;
  TimeMs failed_at_ms = 0;
  RunParams params;
  RunStats stats;
};

class Cluster {
 public:
  Cluster(std::uint64_t seed, const RunConfig& cfg);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  RunResult run();

  // ---- for the workload, the fault schedule and the liveness check
  TimeMs now() const { return now_; }
  Rng& rng() { return rng_; }
  Network& network() { return network_; }
  Checker& checker() { return checker_; }
  const RunParams& params() const { return params_; }

  // Nodes that exist (founders, and spares once started), retired or not.
  std::vector<raft::NodeId> node_ids() const;
  std::vector<raft::NodeId> up_nodes() const;
  // Crashed and not retired: may be restarted.
  std::vector<raft::NodeId> down_nodes() const;
  // Ids in the spare range that were never started.
  std::vector<raft::NodeId> unused_ids() const;
  SimNode* node(raft::NodeId id);
  // The up node that believes it leads, with the highest term (if any).
  std::optional<raft::NodeId> leader();

  void crash(raft::NodeId id);
  void restart(raft::NodeId id);
  // Starts a spare id as an empty joining node.
  void add_node(raft::NodeId id);
  // Call after every input to a node's Core: observes it and takes its Ready.
  void after_input(SimNode& n);
  // A client proposal "p<N>" at node `id`; returns the core's answer.
  Status propose(raft::NodeId id, const raft::Bytes& data);
  // Acknowledged proposals: payload -> the index its proposer applied it at.
  const std::map<raft::Bytes, raft::Index>& acked_payloads() const { return acked_; }
  // Acknowledged commands: payload -> hash of the result its proposer applied.
  const std::map<raft::Bytes, std::uint64_t>& acked_results() const { return acked_results_; }
  // The lock workload, or null when the run has none.
  LockWorkload* lock_workload() { return locks_.get(); }
  const LockMutations& lock_mutations() const { return cfg_.lock_mutations; }
  std::uint64_t next_id() { return next_id_++; }

  bool tracing() const { return cfg_.trace != nullptr; }
  void trace(const std::string& line);

 private:
  void dispatch(Event& ev);
  void on_tick(const Event& ev);
  void on_deliver(Event& ev);
  void on_persisted(const Event& ev);
  // sim_cluster_ready.cc: the two ways of running Readies.
  void begin_ready(SimNode& n, const raft::Ready& rd);
  void take_pipelined(SimNode& n);
  // Writes rd durably, restores its snapshot, sends, applies, advances.
  void finish_ready(SimNode& n, const raft::Ready& rd, const SimNode::TakenAs& as);
  void finish_after_write(SimNode& n, const raft::Ready& rd);  // all but the write
  // Pipelined: writes an applied Ready durably, sends what waited, advance_written.
  bool finish_written(SimNode& n, const raft::Ready& rd, const SimNode::TakenAs& as);
  void send_written(SimNode& n, const raft::Ready& rd);  // all but the write
  // The write of the Ready the core gave out as `as` (SimNode::TakenAs).
  bool write_durably(SimNode& n, const raft::StorageWrite& w, const SimNode::TakenAs& as);
  void on_heal();
  void send(raft::NodeId from, std::uint64_t incarnation, const raft::Message& m);
  void check_durable_claim(raft::NodeId from, const raft::Message& m);
  void apply(SimNode& n, const raft::Entry& e);
  // Reports the first violation the node's lock replica found, if any.
  void check_lock_replica(SimNode& n);
  void schedule_tick(SimNode& n, TimeMs at);
  void maybe_depose_soon(SimNode& n, const raft::Ready& rd);
  void maybe_crash_during_write(SimNode& n, const raft::Ready& rd);
  raft::Config make_config(raft::NodeId id, std::uint64_t incarnation) const;
  void retire_removed();

  const std::uint64_t seed_;
  const RunConfig cfg_;
  Rng rng_;
  RunParams params_;
  Network network_;
  Checker checker_;
  EventQueue queue_;
  TimeMs now_ = 0;
  enum class Phase { kChaos, kHeal, kDone } phase_ = Phase::kChaos;
  int steps_left_ = 0;

  std::map<raft::NodeId, std::unique_ptr<SimNode>> nodes_;
  raft::NodeId max_id_ = 0;
  std::map<raft::Bytes, raft::NodeId> proposed_at_;  // payload -> node it was proposed at
  std::map<raft::Bytes, raft::Index> acked_;
  std::map<raft::Bytes, std::uint64_t> acked_results_;
  std::set<raft::NodeId> to_retire_;  // removed by a committed conf change
  std::set<raft::NodeId> taking_;     // nodes inside take_pipelined (applies may re-enter)
  raft::Index last_conf_change_ = 1;  // highest conf change index counted (1: bootstrap)
  std::uint64_t next_id_ = 1;
  RunStats stats_;

  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<Liveness> liveness_;
  std::unique_ptr<LockWorkload> locks_;
};

}  // namespace raftlock::sim
