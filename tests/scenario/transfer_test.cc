// Leadership transfer (thesis §3.10): the leader stops accepting proposals,
// brings the target fully up to date, then sends TimeoutNow; the target's
// election overrides leader stickiness. A transfer that does not finish
// within an election timeout is abandoned. Pitfall 34.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tests/scenario/network.h"

namespace raftlock::raft::scenario {
namespace {

constexpr int kElectionTicks = 10;

std::unique_ptr<Network> cluster() {
  NodeOptions opt;
  opt.pre_vote = true;
  opt.check_quorum = true;
  opt.election_ticks = kElectionTicks;
  auto net = std::make_unique<Network>(std::vector<NodeId>{1, 2, 3}, opt);
  net->elect(1);
  net->run_ticks(3);
  REQUIRE(net->leader() == 1);
  return net;
}

TEST_CASE("transfer to an up-to-date follower: it wins the next term at once") {
  auto net = cluster();
  const Term term = net->status(1).term;
  const int elections = net->leader_elections();
  int timeout_now = 0;
  net->on_deliver = [&](const Message& m) {
    if (m.type == MessageType::kTimeoutNow) ++timeout_now;
  };
  CHECK_OK(net->core(1).transfer_leadership(2));
  net->deliver_all();
  CHECK(timeout_now == 1);
  CHECK(net->status(2).role == Role::kLeader);
  CHECK(net->status(2).term == term + 1);
  net->run_ticks(2);
  CHECK(net->leader() == 2);
  CHECK(net->status(1).role == Role::kFollower);
  CHECK(net->status(1).leader == 2);
  CHECK(net->leader_elections() == elections + 1);
  // The new leader works.
  CHECK_OK(net->propose(2, "after-transfer"));
  net->run_ticks(2);
  for (NodeId id : {1, 2, 3})
    CHECK(net->status(id).commit == net->status(2).last_index);
}

TEST_CASE("transfer to a lagging follower: it catches up first; proposals are refused meanwhile") {
  auto net = cluster();
  net->isolate(3);
  for (int k = 0; k < 5; ++k)
    CHECK_OK(net->propose(1, "p" + std::to_string(k)));
  net->run_ticks(3);
  const Index last = net->status(1).last_index;
  REQUIRE(net->status(1).commit == last);
  REQUIRE(net->status(3).last_index < last);

  bool timeout_now_to_caught_up = false;
  int timeout_now = 0;
  net->on_deliver = [&](const Message& m) {
    if (m.type != MessageType::kTimeoutNow) return;
    ++timeout_now;
    timeout_now_to_caught_up = net->logs_equal(m.from, m.to);
  };
  net->heal();
  CHECK_OK(net->core(1).transfer_leadership(3));
  net->process();
  CHECK(net->status(1).transferee == 3);
  CHECK(net->core(1).propose("during").code() == ErrorCode::kProposalDropped);

  const int ticks = net->tick_until([&] { return net->leader() == 3; }, kElectionTicks);
  MESSAGE("transfer to the lagging node took " << ticks << " ticks");
  CHECK(ticks > 0);
  CHECK(timeout_now == 1);
  CHECK(timeout_now_to_caught_up);
  CHECK(net->status(3).last_index > last);  // its own no-op after the 5 entries
  for (Index i = 1; i <= last; ++i)
    CHECK(*net->core(3).term_at(i) == *net->core(1).term_at(i));
}

TEST_CASE("transfer to an unreachable node is abandoned after an election timeout") {
  auto net = cluster();
  const Term term = net->status(1).term;
  net->isolate(3);
  CHECK_OK(net->core(1).transfer_leadership(3));
  net->process();
  CHECK(net->status(1).transferee == 3);
  CHECK(net->core(1).propose("refused").code() == ErrorCode::kProposalDropped);

  const int ticks =
      net->tick_until([&] { return net->status(1).transferee == kNoNode; }, 3 * kElectionTicks);
  MESSAGE("transfer abandoned after " << ticks << " ticks");
  CHECK(ticks > 0);
  CHECK(ticks <= kElectionTicks);
  CHECK(net->leader() == 1);
  CHECK(net->status(1).term == term);
  CHECK_OK(net->propose(1, "accepted-again"));
  net->run_ticks(2);
  CHECK(net->status(1).commit == net->status(1).last_index);
}

TEST_CASE("transfer requests that make no sense are refused") {
  auto net = cluster();
  CHECK(net->core(2).transfer_leadership(3).code() == ErrorCode::kNotLeader);
  CHECK(net->core(1).transfer_leadership(9).code() == ErrorCode::kInvalidArgument);
  CHECK_OK(net->core(1).transfer_leadership(1));  // already the leader: nothing to do
  CHECK(net->status(1).transferee == kNoNode);
}

}  // namespace
}  // namespace raftlock::raft::scenario
