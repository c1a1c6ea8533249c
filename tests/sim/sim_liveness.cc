#include "tests/sim/sim_liveness.h"

#include <algorithm>

#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using raft::NodeId;

// Re-propose when the last heal proposal has not landed after this long.
inline constexpr TimeMs kReproposeMs = 300;

void Liveness::start(Cluster& c) {
  // The lag: entries the most up-to-date node has that the furthest-behind
  // state machine has not applied.
  raft::Index most = 0, least = ~raft::Index{0};
  for (NodeId id : c.up_nodes()) {
    SimNode* n = c.node(id);
    most = std::max(most, n->core().status().last_index);
    least = std::min(least, n->sm().applied());
  }
  const raft::Index lag = most > least ? most - least : 0;
  const std::uint64_t messages =
      (lag + c.params().max_msg_entries - 1) / c.params().max_msg_entries;
  bound_ = kHealBoundMs + messages * kCatchUpMsPerMessage;
  deadline_ = c.now() + bound_;
  last_proposal_ = 0;
  payloads_.clear();
}

bool Liveness::probe(Cluster& c) {
  const std::optional<NodeId> l = c.leader();
  if (l) {
    const raft::CoreStatus st = c.node(*l)->core().status();
    if (st.conf.voters.count(*l)) {
      if (payloads_.empty() || c.now() >= last_proposal_ + kReproposeMs) {
        const raft::Bytes data = cat("h", c.next_id());
        if (c.propose(*l, data)) {
          payloads_.push_back(data);
          last_proposal_ = c.now();
        }
      }
      for (const raft::Bytes& h : payloads_) {
        bool everywhere = true;
        for (NodeId v : st.conf.voters) {
          SimNode* n = c.node(v);
          everywhere = everywhere && n && n->up() && n->sm().contains_payload(h);
        }
        if (!everywhere) continue;
        // Progress. Now durability: every proposal acknowledged at an index
        // up to h's is in the state machine of every voter.
        for (NodeId v : st.conf.voters) {
          const raft::Index h_index = c.node(v)->sm().payload_index(h);
          for (const auto& [p, index] : c.acked_payloads()) {
            const AppliedEntry* e = c.node(v)->sm().at(index);
            if (index <= h_index && (!e || e->data != p)) {
              c.checker().fail("durability", cat("proposal ", p, " acknowledged at index ", index,
                                                 " is missing from the state machine of "
                                                 "voter ",
                                                 v, " after healing"));
              return true;
            }
            // An acknowledged command keeps the answer its client got.
            const auto r = c.acked_results().find(p);
            const LockOutcome* o = c.node(v)->sm().outcome(index);
            if (index <= h_index && r != c.acked_results().end() &&
                (!o || !o->command || o->result_hash != r->second)) {
              c.checker().fail("durability",
                               cat("command ", p, " acknowledged at index ", index,
                                   " is answered differently by voter ", v,
                                   " after healing: ", o ? o->result : std::string("(nothing)")));
              return true;
            }
          }
        }
        c.trace(cat("liveness: ", h, " applied on every voter of ", describe(st.conf)));
        return true;
      }
    }
  }
  if (c.now() >= deadline_) {
    c.checker().fail("liveness", cat("no progress ", bound_, "ms after healing: ", diagnose(c, l)));
    return true;
  }
  return false;
}

std::string Liveness::diagnose(Cluster& c, const std::optional<NodeId>& leader) {
  std::string out = leader ? cat("leader ", *leader) : std::string("no leader");
  for (NodeId id : c.up_nodes()) {
    const raft::CoreStatus st = c.node(id)->core().status();
    out += cat("; n", id, " ", raft::role_name(st.role), " t", st.term, " commit ", st.commit,
               " applied ", c.node(id)->sm().applied(), " last ", st.last_index, " conf ",
               describe(st.conf));
  }
  return out;
}

}  // namespace raftlock::sim
