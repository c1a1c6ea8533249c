#include "tests/sim/sim_workload.h"

#include <vector>

#include "raft/conf_change.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using raft::NodeId;

// Catch-up margin for promoting a learner (T§4.2.1): its match index must be
// within this many entries of the leader's last index.
inline constexpr raft::Index kPromoteLag = 3;
inline constexpr std::size_t kMinVoters = 3;

void Workload::act(Cluster& c) {
  // With the lock workload, most steps are a lock client's action.
  if (LockWorkload* locks = c.lock_workload(); locks && c.rng().chance(650)) {
    locks->act(c);
    return;
  }
  enum Kind { kPropose, kBurst, kRead, kCompact, kTransfer, kMembership, kCampaign };
  static constexpr int kWeights[] = {55, 8, 8, 8, 4, 10, 2};
  int total = 0;
  for (int w : kWeights)
    total += w;
  int r = static_cast<int>(c.rng().below(static_cast<std::uint64_t>(total)));
  int kind = 0;
  while (r >= kWeights[kind])
    r -= kWeights[kind++];

  switch (kind) {
    case kPropose:
      propose_random(c);
      return;
    case kBurst:
      propose_burst(c);
      return;
    case kRead:
      read_index(c);
      return;
    case kCompact:
      compact(c);
      return;
    case kTransfer:
      transfer(c);
      return;
    case kMembership:
      change_membership(c);
      return;
    case kCampaign:
      campaign(c);
      return;
  }
}

void Workload::propose_random(Cluster& c) {
  const std::vector<NodeId> up = c.up_nodes();
  if (up.empty()) return;
  c.propose(c.rng().pick(up), cat("p", c.next_id()));
}

void Workload::propose_burst(Cluster& c) {
  const std::optional<NodeId> l = c.leader();
  if (!l) return;
  const std::uint64_t n = c.rng().between(2, 8);
  for (std::uint64_t k = 0; k < n; ++k)
    c.propose(*l, cat("p", c.next_id()));
}

void Workload::read_index(Cluster& c) {
  const std::vector<NodeId> up = c.up_nodes();
  if (up.empty()) return;
  SimNode* n = c.node(c.rng().pick(up));
  const raft::Bytes context = cat("r", c.next_id());
  c.checker().on_read_request(context);
  const Status s = n->core().read_index(context);
  c.trace(cat("n", n->id(), " read_index ", context, ": ", s.to_string()));
  c.after_input(*n);
}

void Workload::compact(Cluster& c) {
  const std::vector<NodeId> up = c.up_nodes();
  if (up.empty()) return;
  SimNode* n = c.node(c.rng().pick(up));
  const raft::Index applied = n->sm().applied();
  if (applied <= n->store().snapshot().meta.index) return;
  const Status s = n->core().compact(applied, n->sm().image());
  c.trace(cat("n", n->id(), " compact ", applied, ": ", s.to_string()));
  c.after_input(*n);
}

void Workload::transfer(Cluster& c) {
  const std::optional<NodeId> l = c.leader();
  if (!l) return;
  SimNode* n = c.node(*l);
  const raft::CoreStatus st = n->core().status();
  std::vector<NodeId> targets{raft::kNoNode};  // 0: the most up-to-date voter
  for (NodeId v : st.conf.voters) {
    if (v != *l) targets.push_back(v);
  }
  const NodeId to = c.rng().pick(targets);
  const Status s = n->core().transfer_leadership(to);
  c.trace(cat("n", *l, " transfer_leadership to ", to, ": ", s.to_string()));
  c.after_input(*n);
}

void Workload::change_membership(Cluster& c) {
  const std::optional<NodeId> l = c.leader();
  if (!l) return;
  SimNode* n = c.node(*l);
  const raft::CoreStatus st = n->core().status();

  std::vector<raft::ConfChange> options;
  // Add a learner: a spare id, or a started node that is not (or no longer) a member.
  std::vector<NodeId> candidates = c.unused_ids();
  for (NodeId id : c.node_ids()) {
    if (!c.node(id)->retired() && !st.conf.contains(id)) candidates.push_back(id);
  }
  if (!candidates.empty()) {
    options.push_back({raft::ConfChangeType::kAddLearner, c.rng().pick(candidates), {}});
  }
  // Promote a learner that has caught up (twice as likely as the others:
  // only caught-up learners qualify, so the chance is rarer).
  for (NodeId id : st.conf.learners) {
    const auto it = st.peers.find(id);
    if (it != st.peers.end() && it->second.match + kPromoteLag >= st.last_index) {
      options.push_back({raft::ConfChangeType::kAddVoter, id, {}});
      options.push_back({raft::ConfChangeType::kAddVoter, id, {}});
    }
  }
  // Remove a learner, or a voter while more than kMinVoters remain; the leader
  // only rarely (it must step down once the change commits).
  std::vector<NodeId> removable(st.conf.learners.begin(), st.conf.learners.end());
  if (st.conf.voters.size() > kMinVoters) {
    for (NodeId id : st.conf.voters) {
      if (id != *l || c.rng().chance(100)) removable.push_back(id);
    }
  }
  if (!removable.empty()) {
    options.push_back({raft::ConfChangeType::kRemoveNode, c.rng().pick(removable), {}});
  }
  if (options.empty()) return;

  const raft::ConfChange cc = c.rng().pick(options);
  if (cc.type == raft::ConfChangeType::kAddLearner && !c.node(cc.node)) c.add_node(cc.node);
  const Status s = n->core().propose_conf_change(cc);
  c.trace(cat("n", *l, " propose_conf_change ", change_name(cc.type), " ", cc.node, ": ",
              s.to_string()));
  c.after_input(*n);
}

void Workload::campaign(Cluster& c) {
  const std::vector<NodeId> up = c.up_nodes();
  if (up.empty()) return;
  SimNode* n = c.node(c.rng().pick(up));
  n->core().campaign();
  c.trace(cat("n", n->id(), " campaign"));
  c.after_input(*n);
}

}  // namespace raftlock::sim
