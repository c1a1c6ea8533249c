// Snapshot catch-up (§7): a follower that was down while the leader compacted
// its log past what the follower holds is brought back with InstallSnapshot,
// then the entries after it, and ends with the same applied state.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

constexpr int kElectionTicks = 10;

TEST_CASE("a follower down while the leader compacts catches up via kSnapshot") {
  NodeOptions opt;
  opt.pre_vote = true;
  opt.check_quorum = true;
  opt.election_ticks = kElectionTicks;
  Network net({1, 2, 3}, opt);
  net.elect(1);
  net.run_ticks(2);
  for (int k = 0; k < 3; ++k)
    CHECK_OK(net.propose(1, "early-" + std::to_string(k)));
  net.run_ticks(2);
  REQUIRE(net.status(3).commit == net.status(1).last_index);

  net.crash(3);
  for (int k = 0; k < 20; ++k)
    CHECK_OK(net.propose(1, "while-down-" + std::to_string(k)));
  net.run_ticks(3);
  REQUIRE(net.status(1).commit == net.status(1).last_index);

  // Leader and the other follower take snapshots and compact.
  Index compacted = 0;
  for (NodeId id : {1, 2}) {
    TestNode& n = net.node(id);
    const Index at = n.sm().applied;
    CHECK_OK(n.core().compact(at, n.sm().image()));
    net.process();
    CHECK(net.status(id).snapshot_index == at);
    if (id == 1) compacted = at;
  }
  REQUIRE(compacted > net.node(3).store().last_index() + 1);
  for (int k = 0; k < 2; ++k)
    CHECK_OK(net.propose(1, "after-compact-" + std::to_string(k)));
  net.run_ticks(2);

  int snapshots_to_3 = 0;
  net.on_deliver = [&](const Message& m) {
    if (m.type == MessageType::kSnapshot && m.to == 3) {
      ++snapshots_to_3;
      CHECK(m.snapshot.meta.index >= compacted);
      CHECK(m.snapshot.meta.conf == (ConfState{{1, 2, 3}, {}}));
    }
  };
  const Term term = net.status(1).term;
  net.restart(3);
  const int ticks = net.tick_until(
      [&] {
        return net.status(3).applied == net.status(1).applied &&
               net.status(3).commit == net.status(1).commit && net.logs_equal(1, 3);
      },
      5 * kElectionTicks);
  MESSAGE("node 3 caught up after " << ticks << " ticks");
  REQUIRE(ticks > 0);
  CHECK(snapshots_to_3 >= 1);
  CHECK(net.status(3).snapshot_index >= compacted);
  CHECK(net.node(3).sm().state() == net.node(1).sm().state());
  CHECK(net.node(3).sm().applied == net.node(1).sm().applied);
  CHECK(net.node(3).sm().commands.size() == 25);
  // No disruption from the returning node.
  CHECK(net.leader() == 1);
  CHECK(net.status(1).term == term);

  // And it keeps up with new entries.
  CHECK_OK(net.propose(1, "last"));
  net.run_ticks(2);
  CHECK(net.node(3).sm().state() == net.node(1).sm().state());
}

TEST_CASE("a follower restarted from its own snapshot does not re-apply what it covers") {
  NodeOptions opt;
  Network net({1, 2, 3}, opt);
  net.elect(1);
  net.run_ticks(2);
  for (int k = 0; k < 5; ++k)
    CHECK_OK(net.propose(1, "c" + std::to_string(k)));
  net.run_ticks(2);
  TestNode& n2 = net.node(2);
  const Index at = n2.sm().applied;
  REQUIRE(at == net.status(1).commit);
  CHECK_OK(n2.core().compact(at, n2.sm().image()));
  net.process();
  // Crash, and lose the state machine too: it comes back from the snapshot.
  net.crash(2);
  n2.sm() = TestStateMachine{};
  n2.sm().restore(n2.store().snapshot());
  net.restart(2);
  net.run_ticks(3);
  CHECK(n2.sm().state() == net.node(1).sm().state());
  CHECK(net.status(2).applied == net.status(1).applied);
}

}  // namespace
}  // namespace raftlock::raft::scenario
