#include "tests/sim/sim_nemesis.h"

#include <algorithm>

#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using raft::NodeId;

namespace {

// Nodes that can take part in the network: every started node not retired.
std::vector<NodeId> live_members(Cluster& c) {
  std::vector<NodeId> out;
  for (NodeId id : c.node_ids()) {
    if (!c.node(id)->retired()) out.push_back(id);
  }
  return out;
}

// Fisher-Yates with the run's Rng (std::shuffle's algorithm is unspecified).
void shuffle(Rng& rng, std::vector<NodeId>& v) {
  for (std::size_t i = v.size(); i > 1; --i)
    std::swap(v[i - 1], v[rng.below(i)]);
}

std::string show(const std::set<NodeId>& s) {
  std::string out = "{";
  for (NodeId id : s) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  return out + "}";
}

}  // namespace

void Nemesis::act(Cluster& c) {
  // Weights of each fault, out of their sum.
  enum Kind { kCrash, kCrashLeader, kRestart, kSplit, kOneWay, kIsolate, kBridge, kHeal, kRates };
  static constexpr int kWeights[] = {12, 10, 20, 8, 6, 8, 5, 14, 3};
  int total = 0;
  for (int w : kWeights)
    total += w;
  int r = static_cast<int>(c.rng().below(static_cast<std::uint64_t>(total)));
  int kind = 0;
  while (r >= kWeights[kind])
    r -= kWeights[kind++];

  switch (kind) {
    case kCrash:
      crash_some(c, false);
      return;
    case kCrashLeader:
      crash_some(c, true);
      return;
    case kRestart:
      restart_some(c);
      return;
    case kSplit:
      split(c);
      return;
    case kOneWay:
      one_way(c);
      return;
    case kIsolate:
      isolate_leader(c);
      return;
    case kBridge:
      bridge(c);
      return;
    case kHeal:
      c.network().heal();
      c.trace("nemesis: network healed");
      return;
    case kRates:
      change_rates(c);
      return;
  }
}

bool Nemesis::depose(Cluster& c, NodeId id, std::uint64_t incarnation, raft::Term term) {
  SimNode* n = c.node(id);
  if (!n || !n->up() || n->incarnation() != incarnation) return false;
  const raft::CoreStatus st = n->core().status();
  if (st.role != raft::Role::kLeader || st.term != term) return false;
  if (c.rng().chance(500)) {
    c.trace(cat("nemesis: depose leader ", id, " of term ", term, " by a crash"));
    c.crash(id);
    return true;
  }
  std::set<NodeId> rest;
  for (NodeId other : live_members(c)) {
    if (other != id) rest.insert(other);
  }
  c.network().heal();
  c.network().block_between({id}, rest, true);
  c.trace(cat("nemesis: depose leader ", id, " of term ", term, " by isolating it"));
  return true;
}

void Nemesis::crash_some(Cluster& c, bool leader) {
  const std::vector<NodeId> up = c.up_nodes();
  if (up.empty()) return;
  // Mostly keep a majority of the started nodes up; sometimes crash beyond it
  // (a full-cluster outage must lose nothing acknowledged either).
  const std::size_t members = live_members(c).size();
  if (up.size() * 2 <= members + 1 && !c.rng().chance(150)) {
    restart_some(c);
    return;
  }
  NodeId victim = c.rng().pick(up);
  if (leader) {
    const std::optional<NodeId> l = c.leader();
    if (l) victim = *l;
  }
  c.crash(victim);
}

void Nemesis::restart_some(Cluster& c) {
  const std::vector<NodeId> down = c.down_nodes();
  if (down.empty()) return;
  // Sometimes restart every crashed node at once: their timers then race.
  if (c.rng().chance(250)) {
    for (NodeId id : down)
      c.restart(id);
    return;
  }
  c.restart(c.rng().pick(down));
}

void Nemesis::split(Cluster& c) {
  std::vector<NodeId> ids = live_members(c);
  if (ids.size() < 2) return;
  shuffle(c.rng(), ids);
  const std::size_t cut = c.rng().between(1, ids.size() - 1);
  const std::set<NodeId> a(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(cut));
  const std::set<NodeId> b(ids.begin() + static_cast<std::ptrdiff_t>(cut), ids.end());
  c.network().heal();
  c.network().block_between(a, b, true);
  c.trace(cat("nemesis: split ", show(a), " | ", show(b)));
}

void Nemesis::one_way(Cluster& c) {
  std::vector<NodeId> ids = live_members(c);
  if (ids.size() < 2) return;
  shuffle(c.rng(), ids);
  const std::size_t cut = c.rng().between(1, ids.size() - 1);
  const std::set<NodeId> a(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(cut));
  const std::set<NodeId> b(ids.begin() + static_cast<std::ptrdiff_t>(cut), ids.end());
  c.network().heal();
  c.network().block_between(a, b, false);
  c.trace(cat("nemesis: one-way, ", show(a), " cannot reach ", show(b)));
}

void Nemesis::isolate_leader(Cluster& c) {
  const std::optional<NodeId> l = c.leader();
  if (!l) return;
  std::set<NodeId> rest;
  for (NodeId id : live_members(c)) {
    if (id != *l) rest.insert(id);
  }
  c.network().heal();
  c.network().block_between({*l}, rest, true);
  c.trace(cat("nemesis: leader ", *l, " isolated"));
}

void Nemesis::bridge(Cluster& c) {
  std::vector<NodeId> ids = live_members(c);
  if (ids.size() < 3) return;
  shuffle(c.rng(), ids);
  const NodeId via = ids.back();
  ids.pop_back();
  const std::size_t cut = c.rng().between(1, ids.size() - 1);
  const std::set<NodeId> a(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(cut));
  const std::set<NodeId> b(ids.begin() + static_cast<std::ptrdiff_t>(cut), ids.end());
  c.network().heal();
  c.network().block_between(a, b, true);
  c.trace(cat("nemesis: bridge ", show(a), " <-> ", via, " <-> ", show(b)));
}

void Nemesis::change_rates(Cluster& c) {
  LinkFaults f = c.network().faults();
  f.drop_per_mille = c.rng().between(0, 200);
  f.dup_per_mille = c.rng().between(0, 100);
  c.network().set_faults(f);
  c.trace(cat("nemesis: drop ", f.drop_per_mille, "/1000, dup ", f.dup_per_mille, "/1000"));
}

}  // namespace raftlock::sim
