// Figure 7 of the Raft paper: the logs a term-8 leader may find on its
// followers, and (§5.4.1) which of those servers could win an election.
//
//   index:       1 2 3 4 5 6 7 8 9 10 11 12
//   leader(t8): [1 1 1 4 4 5 5 6 6 6]
//   (a)         [1 1 1 4 4 5 5 6 6]
//   (b)         [1 1 1 4]
//   (c)         [1 1 1 4 4 5 5 6 6 6 6]
//   (d)         [1 1 1 4 4 5 5 6 6 6 7 7]
//   (e)         [1 1 1 4 4 4 4]
//   (f)         [1 1 1 2 2 2 3 3 3 3 3]
//
// Here the seven servers form one cluster (L = 1, a..f = 2..7), all at term 7
// so that L's election is the paper's term 8. Entry 1 is the bootstrap
// configuration entry (term 1) every founding member shares.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

struct Server {
  NodeId id;
  const char* name;
  std::vector<Term> terms_from_2;
  const char* drawn;  // the log as drawn in the figure
};

const std::vector<Server>& servers() {
  static const std::vector<Server> s = {
      {1, "leader", {1, 1, 4, 4, 5, 5, 6, 6, 6}, "1 1 1 4 4 5 5 6 6 6"},
      {2, "(a)", {1, 1, 4, 4, 5, 5, 6, 6}, "1 1 1 4 4 5 5 6 6"},
      {3, "(b)", {1, 1, 4}, "1 1 1 4"},
      {4, "(c)", {1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, "1 1 1 4 4 5 5 6 6 6 6"},
      {5, "(d)", {1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, "1 1 1 4 4 5 5 6 6 6 7 7"},
      {6, "(e)", {1, 1, 4, 4, 4, 4}, "1 1 1 4 4 4 4"},
      {7, "(f)", {1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, "1 1 1 2 2 2 3 3 3 3 3"},
  };
  return s;
}

std::unique_ptr<Network> figure7(bool pre_vote) {
  NodeOptions opt;
  opt.pre_vote = pre_vote;
  opt.check_quorum = false;
  auto net = std::make_unique<Network>(std::vector<NodeId>{1, 2, 3, 4, 5, 6, 7}, opt);
  const ConfState conf{{1, 2, 3, 4, 5, 6, 7}, {}};
  for (const Server& s : servers()) {
    net->crash(s.id);
    net->node(s.id).reset_store(make_store(conf, s.terms_from_2, 7));
    net->restart(s.id);
    REQUIRE(net->node(s.id).log_terms() == s.drawn);
    REQUIRE(net->status(s.id).term == 7);
  }
  return net;
}

TEST_CASE("Figure 7: the term-8 leader makes every follower's log equal to its own") {
  auto net = figure7(false);
  net->elect(1);
  REQUIRE(net->status(1).term == 8);
  REQUIRE(net->node(1).log_terms() == "1 1 1 4 4 5 5 6 6 6 8");  // its no-op at 11

  // Only the leader ticks, so nobody else times out while it replicates.
  for (int k = 0; k < 10; ++k) {
    bool all = true;
    for (const Server& s : servers())
      all = all && net->logs_equal(1, s.id);
    if (all) break;
    net->tick(1);
  }
  for (const Server& s : servers()) {
    CAPTURE(std::string(s.name));
    CHECK(net->node(s.id).log_terms() == "1 1 1 4 4 5 5 6 6 6 8");
  }
  // (c)'s and (d)'s entries at 11-12 were replaced or removed; (e)'s 6-7 and
  // (f)'s 4-11 deleted: the checks above cover it, and in particular:
  CHECK(net->status(5).last_index == 11);
  CHECK(net->status(1).commit == 11);
  CHECK(net->applied_anywhere().rbegin()->first == 11);

  // F7-backoff: distinct rejected probes per follower before its log matched.
  // The conflict-term hint must do at least as well as the Students' Guide's
  // fast backup (a=1, b=1, c=0, d=0, e=2, f=2; naive decrement: 1, 6, 0, 0, 5, 7).
  std::map<NodeId, std::set<Index>> rejected;
  for (const Message& m : net->delivered()) {
    if (m.type == MessageType::kAppendResp && m.to == 1 && m.reject)
      rejected[m.from].insert(m.index);
  }
  const std::map<NodeId, std::size_t> bound = {{2, 1}, {3, 1}, {4, 0}, {5, 0}, {6, 2}, {7, 2}};
  std::string seen;
  for (const auto& [id, b] : bound) {
    CAPTURE(id);
    CHECK(rejected[id].size() <= b);
    seen += " " + std::string(servers()[id - 1].name) + "=" + std::to_string(rejected[id].size());
  }
  MESSAGE("rejected probes per follower:" << seen);
}

TEST_CASE("Figure 7: only servers with a log at least as up-to-date as a majority's can win") {
  // Ranked by (last term, last index): d(7,12) > c(6,11) > L(6,10) > a(6,9)
  // > e(4,7) > b(4,4) > f(3,11). A majority is 4 of 7, so d, c, L and a can
  // win; e, b and f cannot -- f although its log is longer than L's.
  const std::set<NodeId> can_win = {5, 4, 1, 2};
  for (const bool pre_vote : {false, true}) {
    for (const Server& s : servers()) {
      CAPTURE(pre_vote);
      CAPTURE(std::string(s.name));
      auto net = figure7(pre_vote);
      net->campaign(s.id);
      const bool won = net->status(s.id).role == Role::kLeader;
      CHECK(won == (can_win.count(s.id) > 0));
      if (!won) {
        // A lost election leaves no leader and (with PreVote) no new term.
        CHECK(net->leader() == kNoNode);
        if (pre_vote) {
          for (const Server& o : servers())
            CHECK(net->status(o.id).term == 7);
        }
      }
    }
  }
}

TEST_CASE("Figure 7: (a) may win and overwrite index 10, which was never committed") {
  auto net = figure7(false);
  net->elect(2);
  REQUIRE(net->status(2).term == 8);
  for (int k = 0; k < 10; ++k)
    net->tick(2);
  for (const Server& s : servers()) {
    CAPTURE(std::string(s.name));
    CHECK(net->node(s.id).log_terms() == "1 1 1 4 4 5 5 6 6 8");
  }
  CHECK(net->status(2).commit == 10);
}

}  // namespace
}  // namespace raftlock::raft::scenario
