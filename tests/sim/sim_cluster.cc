#include "tests/sim/sim_cluster.h"

#include <utility>

#include "tests/sim/sim_format.h"
#include "tests/sim/sim_liveness.h"
#include "tests/sim/sim_nemesis.h"
#include "tests/sim/sim_workload.h"

namespace raftlock::sim {

using raft::NodeId;

namespace {

RunParams draw_params(Rng& rng, int nodes) {
  RunParams p;
  p.nodes = nodes != 0 ? nodes : (rng.chance(500) ? 3 : 5);
  p.faults.drop_per_mille = rng.between(0, 150);
  p.faults.dup_per_mille = rng.between(0, 80);
  p.fsync_max_ms = 5;
  // Small message limits split appends, so an old-term entry can reach a
  // majority without the new leader's no-op (Figure 8).
  if (rng.chance(500)) p.max_msg_entries = rng.between(1, 4);
  if (rng.chance(500)) p.max_inflight_msgs = static_cast<int>(rng.between(1, 8));
  switch (rng.below(3)) {
    case 0:
      break;
    case 1:
      p.leader_churn_per_mille = rng.between(200, 500);
      break;
    default:
      p.leader_churn_per_mille = rng.between(700, 1000);
      break;
  }
  if (!rng.chance(333)) p.fsync_crash_per_mille = rng.between(2, 20);
  // A slow disk: writes that take longer than a network round trip, so a
  // leader hears its followers acknowledge entries its own write has not made
  // durable yet (the case ready.h's early sends must get right).
  if (rng.chance(250)) p.fsync_max_ms = rng.between(20, 60);
  p.pipelined = rng.chance(500);
  return p;
}

}  // namespace

Cluster::Cluster(std::uint64_t seed, const RunConfig& cfg)
    : seed_(seed),
      cfg_(cfg),
      rng_(seed),
      params_(draw_params(rng_, cfg.nodes)),
      network_(params_.faults),
      steps_left_(cfg.steps),
      nemesis_(std::make_unique<Nemesis>()),
      workload_(std::make_unique<Workload>()),
      liveness_(std::make_unique<Liveness>()),
      locks_(cfg.locks ? std::make_unique<LockWorkload>() : nullptr) {}

Cluster::~Cluster() = default;

raft::Config Cluster::make_config(NodeId id, std::uint64_t incarnation) const {
  raft::Config c;
  c.id = id;
  c.election_ticks = kElectionTicks;
  c.heartbeat_ticks = kHeartbeatTicks;
  c.seed = derive_seed(seed_, id, incarnation);
  c.max_msg_entries = params_.max_msg_entries;
  c.max_inflight_msgs = params_.max_inflight_msgs;
  c.mutations = cfg_.mutations;
  return c;
}

RunResult Cluster::run() {
  raft::ConfState founders;
  for (int i = 1; i <= params_.nodes; ++i)
    founders.voters.insert(static_cast<NodeId>(i));
  max_id_ = static_cast<NodeId>(params_.nodes + kSpareNodes);
  trace(cat("seed ", seed_, ": ", params_.nodes, " nodes, drop ", params_.faults.drop_per_mille,
            "/1000, dup ", params_.faults.dup_per_mille, "/1000, max_msg_entries ",
            params_.max_msg_entries, ", max_inflight ", params_.max_inflight_msgs,
            ", leader churn ", params_.leader_churn_per_mille, "/1000, crash during write ",
            params_.fsync_crash_per_mille, "/1000, fsync <= ", params_.fsync_max_ms, " ms",
            params_.pipelined ? ", pipelined writes" : ""));
  for (NodeId id : founders.voters) {
    nodes_.emplace(id, SimNode::founding(id, founders));
    nodes_.at(id)->set_lock_mutations(cfg_.lock_mutations);
    restart(id);
  }
  queue_.push(rng_.between(1, 50), Event(EventKind::kNemesis));
  queue_.push(rng_.between(1, 20), Event(EventKind::kClient));

  const std::uint64_t max_events =
      kMaxEventsBase + kMaxEventsPerStep * static_cast<std::uint64_t>(cfg_.steps);
  while (!queue_.empty() && phase_ != Phase::kDone && !checker_.failed()) {
    auto [at, ev] = queue_.pop();
    now_ = at;
    ++stats_.events;
    dispatch(ev);
    retire_removed();
    if (queue_.size() > kMaxQueuedEvents || stats_.events > max_events) {
      checker_.fail("limits",
                    cat(queue_.size(), " events queued after ", stats_.events, " events (limits ",
                        kMaxQueuedEvents, " queued, ", max_events, " per run): a message storm?"));
    }
  }

  RunResult r;
  r.failure = checker_.failure();
  r.failed_at_ms = now_;
  r.params = params_;
  stats_.virtual_ms = now_;
  stats_.elections = checker_.elections();
  stats_.proposals_acked = acked_.size();
  stats_.locks = checker_.lock_totals();
  if (locks_) stats_.lock_clients = locks_->stats();
  r.stats = stats_;
  return r;
}

void Cluster::dispatch(Event& ev) {
  switch (ev.kind) {
    case EventKind::kTick:
      on_tick(ev);
      return;
    case EventKind::kDeliver:
      on_deliver(ev);
      return;
    case EventKind::kPersisted:
      on_persisted(ev);
      return;
    case EventKind::kNemesis:
      if (phase_ != Phase::kChaos) return;
      nemesis_->act(*this);
      queue_.push(now_ + rng_.between(30, 300), Event(EventKind::kNemesis));
      return;
    case EventKind::kClient:
      if (phase_ != Phase::kChaos) return;
      if (locks_) locks_->duties(*this);
      workload_->act(*this);
      if (--steps_left_ <= 0) {
        queue_.push(now_, Event(EventKind::kHeal));
      } else {
        queue_.push(now_ + rng_.between(1, 20), Event(EventKind::kClient));
      }
      return;
    case EventKind::kHeal:
      on_heal();
      return;
    case EventKind::kDepose:
      if (phase_ != Phase::kChaos) return;
      if (nemesis_->depose(*this, ev.node, ev.incarnation, ev.term)) {
        queue_.push(now_ + rng_.between(20, 400), Event(EventKind::kRevive, ev.node));
      }
      return;
    case EventKind::kCrash:
      if (phase_ != Phase::kChaos) return;
      if (SimNode* n = node(ev.node); n && n->up() && n->incarnation() == ev.incarnation) {
        crash(ev.node);
        queue_.push(now_ + rng_.between(10, 300), Event(EventKind::kRestart, ev.node));
      }
      return;
    case EventKind::kRestart:
      if (phase_ == Phase::kChaos) restart(ev.node);
      return;
    case EventKind::kRevive:
      if (phase_ != Phase::kChaos) return;
      trace(cat("nemesis: revive ", ev.node));
      network_.heal();
      restart(ev.node);
      return;
    case EventKind::kProbe:
      if (phase_ != Phase::kHeal) return;
      if (liveness_->probe(*this)) {
        phase_ = Phase::kDone;
      } else {
        queue_.push(now_ + kTickMs, Event(EventKind::kProbe));
      }
      return;
  }
}

void Cluster::on_heal() {
  phase_ = Phase::kHeal;
  trace("heal: partitions removed, no drops, every crashed node restarts");
  network_.heal();
  LinkFaults calm = network_.faults();
  calm.drop_per_mille = 0;
  calm.dup_per_mille = 0;
  network_.set_faults(calm);
  for (NodeId id : down_nodes())
    restart(id);
  liveness_->start(*this);
  queue_.push(now_ + kTickMs, Event(EventKind::kProbe));
}

// ---------------------------------------------------------------- nodes

std::vector<NodeId> Cluster::node_ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_)
    out.push_back(id);
  return out;
}

std::vector<NodeId> Cluster::up_nodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) {
    if (n->up()) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> Cluster::down_nodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) {
    if (!n->up() && !n->retired()) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> Cluster::unused_ids() const {
  std::vector<NodeId> out;
  for (NodeId id = 1; id <= max_id_; ++id) {
    if (!nodes_.count(id)) out.push_back(id);
  }
  return out;
}

SimNode* Cluster::node(NodeId id) {
  const auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

std::optional<NodeId> Cluster::leader() {
  std::optional<NodeId> best;
  raft::Term best_term = 0;
  for (auto& [id, n] : nodes_) {
    if (!n->up()) continue;
    const raft::CoreStatus st = n->core().status();
    if (st.role == raft::Role::kLeader && (!best || st.term > best_term)) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

void Cluster::crash(NodeId id) {
  SimNode* n = node(id);
  if (!n || !n->up()) return;
  if (params_.pipelined && n->has_pending()) {
    // Some of the pending writes reached the disk before the crash: a prefix.
    for (std::uint64_t k = rng_.between(0, n->pending_count()); k > 0; --k) {
      const SimNode::TakenAs as = n->oldest_taken_as();
      const raft::Ready rd = n->release_pending();
      if (!write_durably(*n, rd.storage_write(), as)) return;
    }
  }
  trace(cat("n", id, " CRASH", n->has_pending() ? " (an unsynced Ready is lost)" : ""));
  n->crash();
  ++stats_.crashes;
}

void Cluster::restart(NodeId id) {
  SimNode* n = node(id);
  if (!n || n->up() || n->retired()) return;
  const Status s = n->start(make_config(id, n->incarnation() + 1));
  if (!s) {
    checker_.fail("restart", cat("node ", id, " cannot restart from its store: ", s.to_string()));
    return;
  }
  trace(cat("n", id, " START incarnation ", n->incarnation(), " from snapshot ",
            n->store().snapshot().meta.index, ", last index ", n->store().last_index(), ", term ",
            n->store().initial_state().hard_state.term));
  check_lock_replica(*n);
  schedule_tick(*n, now_ + rng_.between(1, kTickMs));
  after_input(*n);
}

void Cluster::add_node(NodeId id) {
  if (nodes_.count(id)) return;
  nodes_.emplace(id, SimNode::joining(id));
  nodes_.at(id)->set_lock_mutations(cfg_.lock_mutations);
  restart(id);
}

void Cluster::retire_removed() {
  for (NodeId id : to_retire_) {
    SimNode* n = node(id);
    if (!n || n->retired()) continue;
    trace(cat("n", id, " RETIRED (its removal is committed)"));
    n->retire();
  }
  to_retire_.clear();
}

// Short-lived leaders: a new leader, or a leader that has just advanced its
// commit index, is sometimes crashed or isolated a few ms later, before the
// rest of its log has spread (the raw material of Figure 8).
void Cluster::maybe_depose_soon(SimNode& n, const raft::Ready& rd) {
  if (phase_ != Phase::kChaos || params_.leader_churn_per_mille == 0) return;
  const bool elected = rd.soft_state && rd.soft_state->role == raft::Role::kLeader;
  TimeMs delay = 0;
  if (elected && rng_.chance(params_.leader_churn_per_mille)) {
    delay = rng_.between(1, 60);
  } else if (!elected && rd.hard_state && !rd.committed_entries.empty() &&
             rng_.chance(params_.leader_churn_per_mille / 8)) {
    delay = rng_.between(0, 10);
  } else {
    return;
  }
  const raft::CoreStatus st = n.core().status();
  if (st.role != raft::Role::kLeader) return;
  Event ev(EventKind::kDepose, n.id(), n.incarnation());
  ev.term = st.term;
  queue_.push(now_ + delay, std::move(ev));
}

void Cluster::maybe_crash_during_write(SimNode& n, const raft::Ready& rd) {
  if (phase_ != Phase::kChaos || params_.fsync_crash_per_mille == 0) return;
  const raft::HardState durable = n.store().initial_state().hard_state;
  const bool promises =
      !rd.entries.empty() || (rd.hard_state && (rd.hard_state->term != durable.term ||
                                                rd.hard_state->vote != durable.vote));
  if (!promises || !rng_.chance(params_.fsync_crash_per_mille)) return;
  // The write lands at now + 0..fsync_max_ms; so may the crash, so about half
  // of these crashes lose the Ready and the others come just after it.
  queue_.push(now_ + rng_.between(0, params_.fsync_max_ms),
              Event(EventKind::kCrash, n.id(), n.incarnation()));
}

}  // namespace raftlock::sim
