// Commitment (§5.3, §5.4.2, Figure 2 "Rules for Leaders", last bullet): a
// leader commits N once a majority has match >= N and log[N].term ==
// currentTerm; followers learn the commit index from the leader and apply
// committed entries in order, once (pitfalls 9, 15, 19).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

TEST_CASE("a new leader appends a no-op of its term (§8) and commits it with a majority") {
  Harness h(1);
  h.elect();
  const CoreStatus st = h.status();
  CHECK(st.last_index == 2);
  CHECK(*h.core().term_at(2) == st.term);
  CHECK(st.commit == 1);
  h.step(append_resp(2, 1, st.term, 2));
  CHECK(h.status().commit == 2);
  REQUIRE_FALSE(h.applied().empty());
  CHECK(h.applied().back().index == 2);
  CHECK(h.applied().back().type == EntryType::kNoop);
}

TEST_CASE("5 voters: one acknowledgement is not a majority, two are") {
  Harness h(1, voters({1, 2, 3, 4, 5}));
  h.elect();
  const Term t = h.status().term;
  CHECK_OK(h.propose("a"));
  const Index last = h.status().last_index;
  h.step(append_resp(2, 1, t, last));
  CHECK(h.status().commit == 1);
  h.step(append_resp(2, 1, t, last));  // a duplicate counts once
  CHECK(h.status().commit == 1);
  h.step(append_resp(4, 1, t, last - 1));  // the no-op only
  CHECK(h.status().commit == last - 1);
  h.step(append_resp(5, 1, t, last));
  CHECK(h.status().commit == last);
}

TEST_CASE("a learner's acknowledgement never counts (quorum over voters only)") {
  ConfState c = voters({1, 2, 3});
  c.learners = {4};
  Harness h(1, c);
  h.elect();
  const Term t = h.status().term;
  const Index last = h.status().last_index;
  h.step(append_resp(4, 1, t, last));
  CHECK(h.status().commit == 1);
  CHECK(h.status().peers.at(4).learner);
  CHECK(h.status().peers.at(4).match == last);
  h.step(append_resp(3, 1, t, last));
  CHECK(h.status().commit == last);
}

TEST_CASE("an entry of an older term is not committed by counting replicas (§5.4.2, Figure 8)") {
  // Node 1 holds (2, t2) from its own term-2 leadership; now term 3.
  Harness h(1, voters({1, 2, 3, 4, 5}), {2}, 3);
  h.elect();
  const Term t = h.status().term;
  REQUIRE(t == 4);
  REQUIRE(log_terms(h.core()) == "1 2 4");
  // (2, t2) reaches a majority (1, 2, 3): still not committed.
  h.step(append_resp(2, 1, t, 2));
  h.step(append_resp(3, 1, t, 2));
  CHECK(h.status().peers.at(2).match == 2);
  CHECK(h.status().peers.at(3).match == 2);
  CHECK(h.status().commit == 1);
  CHECK(h.applied().back().index == 1);
  // Once (3, t4) is on a majority, both commit.
  h.step(append_resp(2, 1, t, 3));
  CHECK(h.status().commit == 1);
  h.step(append_resp(3, 1, t, 3));
  CHECK(h.status().commit == 3);
  REQUIRE(h.applied().size() >= 3);
  CHECK(h.applied()[h.applied().size() - 2].index == 2);
  CHECK(h.applied()[h.applied().size() - 2].term == 2);
}

TEST_CASE("mutation commit_old_term_by_count does commit the old entry (the sim relies on it)") {
  Config c = unit_config(1);
  c.mutations.commit_old_term_by_count = true;
  auto h = Harness::with_config(c, voters({1, 2, 3, 4, 5}), {2}, 3);
  h->elect();
  const Term t = h->status().term;
  h->step(append_resp(2, 1, t, 2));
  h->step(append_resp(3, 1, t, 2));
  CHECK(h->status().commit == 2);
}

TEST_CASE("followers learn the commit index from appends and heartbeats and apply in order") {
  Harness h(2);
  h.step(append_msg(1, 2, 2, 1, 1, {ent(2, 2), ent(3, 2), ent(4, 2)}, 1));
  CHECK(h.status().commit == 1);
  h.step(append_msg(1, 2, 2, 4, 2, {}, 3));
  CHECK(h.status().commit == 3);
  h.step(heartbeat(1, 2, 2, 4));
  CHECK(h.status().commit == 4);
  std::vector<Index> idx;
  for (const Entry& e : h.applied())
    idx.push_back(e.index);
  CHECK(idx == std::vector<Index>{1, 2, 3, 4});  // each once, in order (checked per Ready too)
  CHECK(h.status().applied == 4);
}

TEST_CASE("the leader tells followers its commit index, never beyond what they hold") {
  Harness h(1);
  h.elect();
  const Term t = h.status().term;
  CHECK_OK(h.propose("a"));
  CHECK_OK(h.propose("b"));
  const Index last = h.status().last_index;
  h.take_messages();
  h.step(append_resp(2, 1, t, last));
  REQUIRE(h.status().commit == last);
  // Follower 3 holds nothing of this term. Whatever the leader sends it next
  // must not let it commit entries it does not have.
  h.tick();
  for (const Message& m : h.take_messages()) {
    if (m.to != 3) continue;
    if (m.type == MessageType::kHeartbeat) CHECK(m.commit <= h.status().peers.at(3).match);
    if (m.type == MessageType::kAppend) CHECK(m.commit <= last);
  }
}

TEST_CASE("committed entries are handed out once, even across a restart") {
  Harness h(1);
  h.elect();
  const Term t = h.status().term;
  CHECK_OK(h.propose("a"));
  h.step(append_resp(2, 1, t, h.status().last_index));
  const std::size_t applied = h.applied().size();
  REQUIRE(h.applied().back().data == "a");
  h.restart();
  h.tick(3);
  CHECK(h.applied().size() == applied);  // nothing re-applied (the harness checks order)
  CHECK(h.status().commit == 3);
}

TEST_CASE("proposals beyond max_uncommitted_entries are refused with kLimitExceeded") {
  Config c = unit_config(1);
  c.max_uncommitted_entries = 5;
  auto h = Harness::with_config(c);
  h->elect();
  h->ack_all();
  int refused = 0;
  for (int k = 0; k < 10; ++k) {
    const Status s = h->propose("p" + std::to_string(k));
    if (!s.is_ok()) {
      CHECK(s.code() == ErrorCode::kLimitExceeded);
      ++refused;
    }
  }
  CHECK(refused > 0);
  const CoreStatus st = h->status();
  CHECK(st.last_index - st.commit <= 6);
  // Once they commit, proposals are accepted again.
  h->ack_all();
  CHECK_OK(h->propose("again"));
}

TEST_CASE("a candidate refuses proposals with kNoLeader") {
  Harness h(1);
  h.campaign();
  CHECK(h.propose("x").code() == ErrorCode::kNoLeader);
}

}  // namespace
}  // namespace raftlock::raft::test
