// PreVote (thesis §9.6). Pitfall 29: a node that was partitioned away must
// not depose a healthy leader when it comes back. Pitfall 32 / etcd #8243: a
// node left at a lower term must not keep the others from completing PreVote.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

constexpr int kElectionTicks = 10;

NodeOptions production_options() {
  NodeOptions opt;
  opt.pre_vote = true;
  opt.check_quorum = true;
  opt.election_ticks = kElectionTicks;
  return opt;
}

// Three nodes, 1 elected and its no-op committed everywhere.
std::unique_ptr<Network> settled_cluster(const NodeOptions& opt) {
  auto net = std::make_unique<Network>(std::vector<NodeId>{1, 2, 3}, opt);
  net->elect(1);
  net->run_ticks(3);
  REQUIRE(net->leader() == 1);
  for (NodeId id : {1, 2, 3})
    REQUIRE(net->status(id).commit == 2);
  return net;
}

TEST_CASE("PreVote: a follower rejoining after 10 election timeouts changes no leader, no term") {
  for (const bool writes : {false, true}) {
    CAPTURE(writes);
    auto net = settled_cluster(production_options());
    const Term term = net->status(1).term;
    const int elections = net->leader_elections();

    net->isolate(3);
    if (writes) {
      for (int k = 0; k < 5; ++k)
        CHECK_OK(net->propose(1, "w" + std::to_string(k)));
    }
    for (int k = 0; k < 10 * kElectionTicks; ++k) {
      net->tick_all();
      REQUIRE(net->status(3).term == term);  // pre-campaigns do not bump it
    }
    CHECK(net->status(3).role != Role::kLeader);
    CHECK(net->leader() == 1);

    net->heal();
    net->run_ticks(5 * kElectionTicks);
    CHECK(net->leader() == 1);
    CHECK(net->leader_elections() == elections);
    for (NodeId id : {1, 2, 3}) {
      CAPTURE(id);
      CHECK(net->status(id).term == term);
      CHECK(net->status(id).leader == 1);
    }
    CHECK(net->logs_equal(1, 3));
    CHECK(net->status(3).commit == net->status(1).commit);
  }
}

TEST_CASE("without PreVote the same rejoin disrupts the cluster (control)") {
  NodeOptions opt;
  opt.pre_vote = false;
  opt.check_quorum = false;
  auto net = settled_cluster(opt);
  const Term term = net->status(1).term;
  const int elections = net->leader_elections();
  net->isolate(3);
  net->run_ticks(10 * kElectionTicks);
  CHECK(net->status(3).term > term);  // it campaigned on its own
  net->heal();
  net->run_ticks(5 * kElectionTicks);
  CHECK(net->status(1).term > term);
  CHECK(net->leader_elections() > elections);
}

TEST_CASE("PreVote, etcd #8243: C at term 1 rejoins as leader B crashes; A and C elect a leader") {
  // A = 1, B = 2, C = 3. A and B went through elections to term 4 while C was
  // cut off at term 1; B then wins term 5 with PreVote.
  auto net = std::make_unique<Network>(std::vector<NodeId>{1, 2, 3}, production_options());
  const ConfState conf{{1, 2, 3}, {}};
  for (NodeId id : {1, 2}) {
    net->crash(id);
    net->node(id).reset_store(make_store(conf, {}, 4));
    net->restart(id);
  }
  net->isolate(3);
  net->elect(2);
  REQUIRE(net->status(2).term == 5);
  net->run_ticks(3);
  REQUIRE(net->status(1).commit == 2);
  REQUIRE(net->status(3).term == 1);
  REQUIRE(net->status(3).last_index == 1);

  // B crashes as C reconnects.
  net->crash(2);
  net->heal();
  const int ticks = net->tick_until([&] { return net->leader() != kNoNode; }, 6 * kElectionTicks);
  MESSAGE("a leader after " << ticks << " ticks");
  REQUIRE(ticks > 0);
  // Bound: A's election timeout (< 2 election timeouts) plus one round of
  // pre-votes and votes.
  CHECK(ticks <= 3 * kElectionTicks);
  CHECK(net->leader() == 1);  // C's log lacks B's term-5 entry: it cannot win
  CHECK(net->status(1).term == 6);
  net->run_ticks(3);
  CHECK(net->logs_equal(1, 3));
}

}  // namespace
}  // namespace raftlock::raft::scenario
