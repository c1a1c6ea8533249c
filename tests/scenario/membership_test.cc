// Single-server membership changes with learners (thesis §4.1, §4.2.1,
// §4.2.2). A configuration takes effect as soon as its entry is in a log;
// one change at a time, and only after the leader committed an entry of its
// term ([BUG15]); a truncated configuration entry takes its configuration
// with it (pitfalls 24, 25).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

constexpr int kElectionTicks = 10;

NodeOptions plain_options() {
  // Elections are forced with campaign(); no leases in the way.
  NodeOptions opt;
  opt.pre_vote = false;
  opt.check_quorum = false;
  opt.election_ticks = kElectionTicks;
  return opt;
}

ConfChange change(ConfChangeType t, NodeId node) {
  ConfChange cc;
  cc.type = t;
  cc.node = node;
  cc.context = "addr-" + std::to_string(node);
  return cc;
}

ConfState conf(std::set<NodeId> v, std::set<NodeId> l = {}) {
  return ConfState{v, l};
}

std::string conf_str(const ConfState& c) {
  std::string s = "voters{";
  for (NodeId id : c.voters)
    s += std::to_string(id) + " ";
  s += "} learners{";
  for (NodeId id : c.learners)
    s += std::to_string(id) + " ";
  return s + "}";
}

TEST_CASE("a conf change is refused until the leader has committed an entry of its term") {
  Network net({1, 2, 3}, plain_options());
  net.add_drop_rule(of_type(MessageType::kAppend));
  net.campaign(1);
  REQUIRE(net.status(1).role == Role::kLeader);
  net.tick(1);
  REQUIRE(net.status(1).commit == 1);  // the no-op is not committed
  CHECK(net.core(2).propose_conf_change(change(ConfChangeType::kAddLearner, 4)).code() ==
        ErrorCode::kNotLeader);
  CHECK(net.core(1).propose_conf_change(change(ConfChangeType::kAddLearner, 4)).code() ==
        ErrorCode::kBusy);
  net.clear_drop_rules();
  net.tick(1, 2);
  REQUIRE(net.status(1).commit == 2);
  CHECK_OK(net.core(1).propose_conf_change(change(ConfChangeType::kAddLearner, 4)));
}

TEST_CASE(
    "learner added, caught up, not counted, promoted; a node removed; the leader removes itself") {
  Network net({1, 2, 3}, plain_options());
  net.elect(1);
  net.run_ticks(2);
  REQUIRE(net.status(1).commit == 2);
  for (int k = 0; k < 3; ++k)
    CHECK_OK(net.propose(1, "before-" + std::to_string(k)));
  net.run_ticks(2);

  // --- add learner 4 -----------------------------------------------------------
  net.add_node(4);
  CHECK_OK(net.core(1).propose_conf_change(change(ConfChangeType::kAddLearner, 4)));
  net.process();
  // In force as soon as it is in the leader's log (T§4.1), committed or not.
  CHECK(conf_str(net.status(1).conf) == conf_str(conf({1, 2, 3}, {4})));
  // One change at a time.
  CHECK(net.core(1).propose_conf_change(change(ConfChangeType::kAddLearner, 5)).code() ==
        ErrorCode::kBusy);
  const int caught_up = net.tick_until(
      [&] { return net.logs_equal(1, 4) && net.status(1).commit == net.status(1).last_index; },
      5 * kElectionTicks);
  CHECK(caught_up > 0);
  CHECK(net.node(4).sm().state() == net.node(1).sm().state());
  CHECK(conf_str(net.status(4).conf) == conf_str(conf({1, 2, 3}, {4})));
  REQUIRE(net.status(1).peers.count(4));
  CHECK(net.status(1).peers.at(4).learner);

  // --- the learner does not count for commitment -----------------------------------
  net.cut(1, 2);
  net.cut(1, 3);
  CHECK_OK(net.propose(1, "learner-only"));
  net.run_ticks(3);
  CHECK(net.status(4).last_index == net.status(1).last_index);  // it has the entry
  CHECK(net.status(1).commit < net.status(1).last_index);       // but 1 + 4 is no majority
  // ... and it does not vote or campaign.
  const Term t4 = net.status(4).term;
  net.core(4).campaign();
  net.process();
  CHECK(net.status(4).role == Role::kFollower);
  CHECK(net.status(4).term == t4);
  net.run_ticks(3 * kElectionTicks);  // cut-off voters 2, 3 may campaign; 4 never
  CHECK(net.status(4).role == Role::kFollower);
  net.heal();
  const int healed = net.tick_until(
      [&] {
        NodeId l = net.leader();
        return l != kNoNode && net.status(l).commit == net.status(l).last_index &&
               net.logs_equal(l, 4);
      },
      5 * kElectionTicks);
  REQUIRE(healed > 0);
  NodeId leader = net.leader();
  for (const Message& m : net.delivered()) {
    if (m.type == MessageType::kVoteResp || m.type == MessageType::kPreVoteResp) CHECK(m.from != 4);
  }

  // --- promote 4 -------------------------------------------------------------------
  CHECK_OK(net.core(leader).propose_conf_change(change(ConfChangeType::kAddVoter, 4)));
  REQUIRE(net.tick_until([&] { return net.status(leader).commit == net.status(leader).last_index; },
                         3 * kElectionTicks) > 0);
  net.run_ticks(2);
  for (NodeId id : {1, 2, 3, 4}) {
    CAPTURE(id);
    CHECK(conf_str(net.status(id).conf) == conf_str(conf({1, 2, 3, 4})));
  }
  CHECK_FALSE(net.status(leader).peers.at(4).learner);

  // --- remove a node (not the leader) ------------------------------------------------
  const NodeId removed = leader == 3 ? 2 : 3;
  CHECK_OK(net.core(leader).propose_conf_change(change(ConfChangeType::kRemoveNode, removed)));
  REQUIRE(net.tick_until([&] { return net.status(leader).commit == net.status(leader).last_index; },
                         3 * kElectionTicks) > 0);
  std::set<NodeId> remaining = {1, 2, 3, 4};
  remaining.erase(removed);
  CHECK(conf_str(net.status(leader).conf) == conf_str(conf(remaining)));
  CHECK_FALSE(net.status(leader).peers.count(removed));
  net.crash(removed);
  CHECK_OK(net.propose(leader, "without-" + std::to_string(removed)));
  net.run_ticks(3);
  CHECK(net.status(leader).commit == net.status(leader).last_index);

  // --- the leader removes itself: it steps down once the change commits --------------
  CHECK_OK(net.core(leader).propose_conf_change(change(ConfChangeType::kRemoveNode, leader)));
  const int stepped =
      net.tick_until([&] { return net.status(leader).role != Role::kLeader; }, 3 * kElectionTicks);
  CHECK(stepped > 0);
  std::set<NodeId> rest = remaining;
  rest.erase(leader);
  const int next = net.tick_until(
      [&] {
        const NodeId l = net.leader();
        return l != kNoNode && l != leader;
      },
      5 * kElectionTicks);
  REQUIRE(next > 0);
  const NodeId new_leader = net.leader();
  CHECK(rest.count(new_leader));
  CHECK(conf_str(net.status(new_leader).conf) == conf_str(conf(rest)));
  // The removed node stays quiet: it never campaigns again.
  const Term t = net.status(new_leader).term;
  net.run_ticks(5 * kElectionTicks);
  CHECK(net.status(leader).role == Role::kFollower);
  CHECK(net.status(new_leader).term == t);
  CHECK(net.leader() == new_leader);
}

TEST_CASE("truncating an uncommitted conf entry restores the previous configuration") {
  Network net({1, 2, 3}, plain_options());
  net.elect(1);
  net.run_ticks(2);
  REQUIRE(net.status(1).commit == 2);

  net.isolate(1);
  CHECK_OK(net.core(1).propose_conf_change(change(ConfChangeType::kAddLearner, 4)));
  net.process();
  CHECK(conf_str(net.status(1).conf) == conf_str(conf({1, 2, 3}, {4})));

  net.elect(2);  // 3 votes for 2: its log is as up-to-date as 3's
  net.tick(2, 2);
  net.heal();
  const int ticks = net.tick_until(
      [&] {
        return conf_str(net.status(1).conf) == conf_str(conf({1, 2, 3}));
      },
      3 * kElectionTicks);
  CHECK(ticks > 0);
  CHECK(net.status(1).role == Role::kFollower);
  CHECK(net.status(1).leader == 2);
  CHECK(net.logs_equal(1, 2));
}

TEST_CASE("a removed, partitioned server rejoining does not depose the leader (pitfall 26)") {
  // The removed node never learns of its removal (the leader stops sending to
  // it once the entry is appended), so it keeps campaigning. Leader
  // stickiness (CheckQuorum, T§4.2.3) must make the others ignore it, with or
  // without PreVote.
  for (const bool pre_vote : {true, false}) {
    CAPTURE(pre_vote);
    NodeOptions opt;
    opt.pre_vote = pre_vote;
    opt.check_quorum = true;
    opt.election_ticks = kElectionTicks;
    Network net({1, 2, 3, 4}, opt);
    net.elect(1);
    net.run_ticks(3);
    REQUIRE(net.leader() == 1);
    net.isolate(4);
    CHECK_OK(net.core(1).propose_conf_change(change(ConfChangeType::kRemoveNode, 4)));
    net.run_ticks(3);
    REQUIRE(net.status(1).commit == net.status(1).last_index);
    REQUIRE(conf_str(net.status(1).conf) == conf_str(conf({1, 2, 3})));
    const Term term = net.status(1).term;
    const int elections = net.leader_elections();

    net.run_ticks(5 * kElectionTicks);
    net.heal();
    net.run_ticks(10 * kElectionTicks);
    CHECK(net.leader() == 1);
    CHECK(net.leader_elections() == elections);
    for (NodeId id : {1, 2, 3}) {
      CAPTURE(id);
      CHECK(net.status(id).term == term);
    }
    CHECK(net.status(4).role != Role::kLeader);
  }
}

TEST_CASE("invalid conf changes are refused") {
  Network net({1, 2, 3}, plain_options());
  net.elect(1);
  net.run_ticks(2);
  CHECK(net.core(1).propose_conf_change(change(ConfChangeType::kAddVoter, 2)).code() ==
        ErrorCode::kInvalidArgument);
  CHECK(net.core(1).propose_conf_change(change(ConfChangeType::kRemoveNode, 9)).code() ==
        ErrorCode::kInvalidArgument);
  CHECK(net.core(1).propose_conf_change(change(ConfChangeType::kBootstrap, 4)).code() ==
        ErrorCode::kInvalidArgument);
  CHECK_OK(net.core(1).propose_conf_change(change(ConfChangeType::kAddVoter, 4)));  // still fine
}

}  // namespace
}  // namespace raftlock::raft::scenario
