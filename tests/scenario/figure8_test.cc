// Figure 8 of the Raft paper: why a leader cannot commit an entry of an
// earlier term by counting replicas (§5.4.2).
//
//   (a) t2  S1*=[1,2]   S2=[1,2]  S3=[1]    S4=[1]    S5=[1]
//   (b) t3  S5*=[1,3]   (votes from S3, S4, S5)
//   (c) t4  S1*=[1,2,4] S2=[1,2]  S3=[1,2]  S4=[1,2]  S5=[1,3]
//           (2,t2) is on a majority and the leader knows it -- NOT committed
//   (d) S1 crashes; S5 wins term 5 (votes S2, S3, S4) and overwrites index 2
//   (e) instead: S1 replicates (3,t4) to a majority first -> committed, and
//       (2,t2) with it; S5 can no longer win
//
// The figure has S2 (not S4) hold (2,t2) in (c); S2 does, but the leader
// only learns what a follower acknowledges, and S2 would acknowledge (3,t4)
// along with it. S4 receiving (2,t2) alone makes the leader *know* that a
// majority (S1, S3, S4) holds it, which is the trap.
//
// Every entry of the figure is a leader's no-op here: (2,t2) is S1's no-op of
// term 2, (2,t3) S5's of term 3, (3,t4) S1's of term 4. Appends carry one
// entry each (max_msg_entries = 1) so that an entry can be dropped alone.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

NodeOptions figure8_options(bool mutate) {
  NodeOptions opt;
  opt.pre_vote = false;
  opt.check_quorum = false;
  opt.max_msg_entries = 1;
  opt.mutations.commit_old_term_by_count = mutate;
  return opt;
}

bool is_append(const Message& m) {
  return m.type == MessageType::kAppend;
}

// Runs (a), (b) and (c). Leaves S1 leading term 4, S5 down.
void run_to_c(Network& net) {
  // (a) S1 leads term 2 and its entry (2,t2) reaches S2 only.
  net.add_drop_rule([](const Message& m) { return is_append(m) && m.from == 1 && m.to != 2; });
  net.campaign(1);
  REQUIRE(net.status(1).role == Role::kLeader);
  REQUIRE(net.status(1).term == 2);
  net.tick(1, 3);
  CHECK(net.node(1).log_terms() == "1 2");
  CHECK(net.node(2).log_terms() == "1 2");
  for (NodeId id : {3, 4, 5})
    CHECK(net.node(id).log_terms() == "1");
  CHECK(net.status(1).commit == 1);

  // (b) S1 crashes. S5 leads term 3 with votes from S3, S4 and itself; its
  // entry (2,t3) goes nowhere.
  net.crash(1);
  net.clear_drop_rules();
  net.add_drop_rule(
      [](const Message& m) { return m.from == 5 && !(m.type == MessageType::kVote); });
  net.campaign(5);
  REQUIRE(net.status(5).role == Role::kLeader);
  REQUIRE(net.status(5).term == 3);
  CHECK(net.node(5).log_terms() == "1 3");

  // (c) S5 crashes, S1 restarts and is elected for term 4 (its first try, in
  // term 3, meets voters that already voted for S5). It replicates (2,t2) to
  // S3 and S4 but (3,t4) to no one; S2 hears nothing from it.
  net.crash(5);
  net.clear_drop_rules();
  net.restart(1);
  net.add_drop_rule([](const Message& m) { return is_append(m) && m.from == 1 && m.to == 2; });
  net.add_drop_rule([&net](const Message& m) {
    // Whatever would give a follower (3,t4): an append carrying it to a node
    // that holds (2,t2). (Probes to S3/S4 before they hold it are rejected,
    // which is how the leader finds where their logs match.)
    if (!carries_index(3)(m) || !net.node(m.to).up()) return false;
    const Result<Term> t = net.node(m.to).core().term_at(2);
    return t.is_ok() && *t == 2;
  });
  net.elect(1);
  REQUIRE(net.status(1).term == 4);
  CHECK(net.node(1).log_terms() == "1 2 4");
  net.tick(1, 4);
  CHECK(net.node(1).log_terms() == "1 2 4");
  CHECK(net.node(2).log_terms() == "1 2");
  CHECK(net.node(3).log_terms() == "1 2");
  CHECK(net.node(4).log_terms() == "1 2");
  CHECK(net.node(5).stored_log_terms() == "1 3");
  // The leader knows (2,t2) is on a majority: itself, S3 and S4.
  const CoreStatus st = net.status(1);
  CHECK(st.peers.at(3).match == 2);
  CHECK(st.peers.at(4).match == 2);
}

TEST_CASE("Figure 8 (a)-(c): a term-2 entry on a majority is not committed by the term-4 leader") {
  Network net({1, 2, 3, 4, 5}, figure8_options(false));
  run_to_c(net);
  CHECK(net.status(1).commit == 1);
  CHECK(net.applied_anywhere().count(2) == 0);
}

TEST_CASE("Figure 8 (d): S5 may then win and overwrite index 2, which was never committed") {
  Network net({1, 2, 3, 4, 5}, figure8_options(false));
  run_to_c(net);
  net.crash(1);
  net.clear_drop_rules();
  net.restart(5);
  // S5 (last entry (2,t3)) beats S2-S4 (last entry (2,t2)) on §5.4.1; its
  // first try, in term 4, meets voters that already voted for S1.
  net.elect(5);
  CHECK(net.status(5).term == 5);
  net.tick(5, 5);
  for (NodeId id : {2, 3, 4, 5}) {
    CAPTURE(id);
    CHECK(net.node(id).log_terms() == "1 3 5");
    CHECK(net.status(id).commit == 3);
  }
  REQUIRE(net.applied_anywhere().count(2));
  CHECK(net.applied_anywhere().at(2).term == 3);

  // S1 comes back and loses its (2,t2) and (3,t4) too.
  net.restart(1);
  net.tick(5, 3);
  CHECK(net.node(1).log_terms() == "1 3 5");
}

TEST_CASE("Figure 8 (e): once (3,t4) is on a majority, both commit and S5 cannot win") {
  Network net({1, 2, 3, 4, 5}, figure8_options(false));
  run_to_c(net);
  net.clear_drop_rules();
  net.tick(1, 3);
  CHECK(net.status(1).commit == 3);
  for (NodeId id : {1, 2, 3, 4})
    CHECK(net.node(id).log_terms() == "1 2 4");
  REQUIRE(net.applied_anywhere().count(2));
  CHECK(net.applied_anywhere().at(2).term == 2);  // committed indirectly (§5.4.2)

  net.crash(1);
  net.restart(5);
  for (int k = 0; k < 4; ++k) {
    net.campaign(5);
    CHECK(net.status(5).role != Role::kLeader);
  }
  // Someone with the committed entries wins, and S5's (2,t3) goes.
  net.elect(2);
  net.tick(2, 3);
  CHECK(net.node(5).log_terms().rfind("1 2 4", 0) == 0);
}

TEST_CASE("Figure 8 with the §5.4.2 clause removed: the safety checker catches it") {
  // Mutations::commit_old_term_by_count makes S1 commit (2,t2) in (c). Then
  // S5 still wins in (d) and the new leader lacks an applied entry.
  Network net({1, 2, 3, 4, 5}, figure8_options(true));
  net.strict = false;
  run_to_c(net);
  CHECK(net.status(1).commit == 2);
  REQUIRE(net.applied_anywhere().count(2));
  CHECK(net.applied_anywhere().at(2).term == 2);
  CHECK(net.violations.empty());

  net.crash(1);
  net.clear_drop_rules();
  net.restart(5);
  net.elect(5);
  net.tick(5, 5);
  CHECK_FALSE(net.violations.empty());
  for (const std::string& v : net.violations)
    MESSAGE("expected violation: " << v);
}

}  // namespace
}  // namespace raftlock::raft::scenario
