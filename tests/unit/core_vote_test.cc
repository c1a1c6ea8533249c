// RequestVote (§5.2, §5.4.1, Figure 2) and PreVote (thesis §9.6).
// Pitfalls 2-6 and 32: one vote per term (also across a restart), the
// up-to-date check, duplicate and old-term vote responses, the election timer,
// and the PreVote term rules.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

Message only_vote_resp(Harness& h, NodeId to, bool pre = false) {
  return h.take_one(pre ? MessageType::kPreVoteResp : MessageType::kVoteResp, to);
}

TEST_CASE("one vote per term: first come, first served, and idempotent for the same candidate") {
  Harness h(1);
  const Term t = h.status().term + 1;

  h.step(vote_req(2, 1, t, 1, 1));
  Message r = only_vote_resp(h, 2);
  CHECK_FALSE(r.reject);
  CHECK(r.term == t);
  CHECK(h.status().vote == 2);

  h.step(vote_req(3, 1, t, 1, 1));
  r = only_vote_resp(h, 3);
  CHECK(r.reject);
  CHECK(h.status().vote == 2);

  // A retransmitted request from the candidate we voted for is granted again.
  h.step(vote_req(2, 1, t, 1, 1));
  r = only_vote_resp(h, 2);
  CHECK_FALSE(r.reject);
}

TEST_CASE("the vote survives a restart: no second vote in the same term (pitfall 2)") {
  Harness h(1);
  const Term t = h.status().term + 1;
  h.step(vote_req(2, 1, t, 1, 1));
  REQUIRE_FALSE(only_vote_resp(h, 2).reject);

  h.restart();
  CHECK(h.status().term == t);
  CHECK(h.status().vote == 2);
  h.step(vote_req(3, 1, t, 1, 1));
  CHECK(only_vote_resp(h, 3).reject);
}

TEST_CASE("a candidate has voted for itself and refuses others in its term") {
  Harness h(1);
  h.campaign();
  const CoreStatus st = h.status();
  REQUIRE(st.role == Role::kCandidate);
  CHECK(st.vote == 1);
  h.take_messages();
  h.step(vote_req(2, 1, st.term, 5, st.term - 1));
  CHECK(only_vote_resp(h, 2).reject);
  CHECK(h.status().role == Role::kCandidate);
}

TEST_CASE("a candidate asks every other voter with its last log index and term") {
  Harness h(1, voters({1, 2, 3, 4, 5}), {1, 2, 2}, 3);
  h.campaign();
  std::vector<Message> reqs = h.take(MessageType::kVote);
  REQUIRE(reqs.size() == 4);
  for (const Message& m : reqs) {
    CHECK(m.term == 4);
    CHECK(m.index == 4);
    CHECK(m.log_term == 2);
    CHECK(m.to != 1);
  }
}

TEST_CASE("up-to-date check (§5.4.1) with the logs of Figure 7") {
  // The voter holds the term-8 leader's log, at term 7: 1 1 1 4 4 5 5 6 6 6.
  struct C {
    const char* who;
    Index last_index;
    Term last_term;
    bool granted;
  };
  const std::vector<C> cases = {
      {"(a)", 9, 6, false},   {"(b)", 4, 4, false},
      {"(c)", 11, 6, true},   {"(d)", 12, 7, true},
      {"(e)", 7, 4, false},   {"(f) longer but older", 11, 3, false},
      {"equal", 10, 6, true}, {"short but newer", 1, 7, true},
  };
  for (const C& c : cases) {
    CAPTURE(std::string(c.who));
    Harness h(1, voters({1, 2, 3}), {1, 1, 4, 4, 5, 5, 6, 6, 6}, 7);
    h.step(vote_req(2, 1, 8, c.last_index, c.last_term));
    const Message r = only_vote_resp(h, 2);
    CHECK(r.reject == !c.granted);
    CHECK(r.term == 8);
    CHECK(h.status().term == 8);
    CHECK(h.status().vote == (c.granted ? NodeId{2} : kNoNode));
  }
}

TEST_CASE("duplicate vote responses are not counted twice (pitfall 3)") {
  Harness h(1, voters({1, 2, 3, 4, 5}));
  h.campaign();
  const Term t = h.status().term;
  h.take_messages();
  for (int k = 0; k < 4; ++k)
    h.step(vote_resp(2, 1, t, false));
  CHECK(h.status().role == Role::kCandidate);  // 1 and 2 are only 2 of 5
  h.step(vote_resp(3, 1, t, false));
  CHECK(h.status().role == Role::kLeader);
}

TEST_CASE("vote responses from an earlier election are ignored (pitfall 4)") {
  Harness h(1, voters({1, 2, 3, 4, 5}));
  h.campaign();
  const Term t1 = h.status().term;
  h.step(vote_resp(2, 1, t1, false));
  h.campaign();  // the election timed out: a new one in t1 + 1
  const Term t2 = h.status().term;
  REQUIRE(t2 == t1 + 1);
  // Grants of t1 arrive late.
  h.step(vote_resp(2, 1, t1, false));
  h.step(vote_resp(3, 1, t1, false));
  h.step(vote_resp(4, 1, t1, false));
  CHECK(h.status().role == Role::kCandidate);
  CHECK(h.status().term == t2);
  h.step(vote_resp(2, 1, t2, false));
  CHECK(h.status().role == Role::kCandidate);
  h.step(vote_resp(3, 1, t2, false));
  CHECK(h.status().role == Role::kLeader);
}

TEST_CASE("a candidate rejected by a majority gives up the election") {
  Harness h(1);
  h.campaign();
  const Term t = h.status().term;
  h.step(vote_resp(2, 1, t, true));
  h.step(vote_resp(3, 1, t, true));
  CHECK(h.status().role == Role::kFollower);
  CHECK(h.status().term == t);
}

// Ticks a fresh core until it starts an election; returns the number of ticks.
int ticks_to_campaign(Harness& h, int limit = 100) {
  for (int k = 1; k <= limit; ++k) {
    h.tick();
    if (h.status().role != Role::kFollower) return k;
  }
  return -1;
}

TEST_CASE("election timeouts are randomized in [election_ticks, 2 * election_ticks) (§5.2)") {
  std::vector<int> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Config c = unit_config(1);
    c.seed = seed;
    auto h = Harness::with_config(c);
    const int k = ticks_to_campaign(*h);
    CAPTURE(seed);
    CHECK(k >= c.election_ticks);
    CHECK(k < 2 * c.election_ticks);
    seen.push_back(k);
  }
  bool varied = false;
  for (int k : seen)
    varied = varied || k != seen.front();
  CHECK_MESSAGE(varied, "20 seeds gave the same election timeout");
}

TEST_CASE("the election timer is not reset by stale-term messages (pitfall 6)") {
  // Node 1 at term 5, no leader known. The same seed gives the same timeout.
  Config c = unit_config(1);
  c.seed = 42;
  auto probe = Harness::with_config(c, voters({1, 2, 3}), {}, 5);
  const int timeout = ticks_to_campaign(*probe);
  REQUIRE(timeout > 1);

  const std::vector<std::pair<const char*, Message>> stale = {
      {"kAppend of term 4", append_msg(2, 1, 4, 1, 1, {}, 1)},
      {"kHeartbeat of term 4", heartbeat(2, 1, 4, 1)},
      {"kVote of term 4", vote_req(2, 1, 4, 10, 4)},
      {"kSnapshot of term 4", snapshot_msg(2, 1, 4, 1, 1, voters({1, 2, 3}))},
  };
  for (const auto& [name, msg] : stale) {
    CAPTURE(std::string(name));
    auto h = Harness::with_config(c, voters({1, 2, 3}), {}, 5);
    h->tick(timeout - 1);
    REQUIRE(h->status().role == Role::kFollower);
    h->step(msg);
    h->tick();
    CHECK(h->status().role == Role::kCandidate);  // fired on time
  }

  // Control: the current leader's heartbeat at the same moment does reset it.
  auto h = Harness::with_config(c, voters({1, 2, 3}), {}, 5);
  h->tick(timeout - 1);
  h->step(heartbeat(2, 1, 5, 1));
  h->tick();
  CHECK(h->status().role == Role::kFollower);
  CHECK(h->status().leader == 2);

  // Granting a vote resets it as well.
  auto g = Harness::with_config(c, voters({1, 2, 3}), {}, 5);
  g->tick(timeout - 1);
  g->step(vote_req(3, 1, 5, 1, 1));
  REQUIRE_FALSE(only_vote_resp(*g, 3).reject);
  g->tick();
  CHECK(g->status().role == Role::kFollower);
}

// ---- PreVote ----------------------------------------------------------------

Config pre_vote_config(NodeId id, bool check_quorum = false) {
  Config c = unit_config(id);
  c.pre_vote = true;
  c.check_quorum = check_quorum;
  return c;
}

TEST_CASE("PreVote: a pre-candidate keeps its term and asks with term + 1") {
  auto h = Harness::with_config(pre_vote_config(1), voters({1, 2, 3}), {2, 2}, 2);
  h->campaign();
  const CoreStatus st = h->status();
  CHECK(st.role == Role::kPreCandidate);
  CHECK(st.term == 2);
  CHECK(st.vote == kNoNode);
  CHECK(h->store().initial_state().hard_state.term == 2);
  const std::vector<Message> reqs = h->take(MessageType::kPreVote);
  REQUIRE(reqs.size() == 2);
  for (const Message& m : reqs) {
    CHECK(m.term == 3);
    CHECK(m.index == 3);
    CHECK(m.log_term == 2);
  }
  CHECK(h->take(MessageType::kVote).empty());
}

TEST_CASE("PreVote: winning the pre-vote starts the real election in term + 1") {
  auto h = Harness::with_config(pre_vote_config(1), voters({1, 2, 3}), {}, 2);
  h->campaign();
  h->take_messages();
  h->step(vote_resp(2, 1, 3, false, true));
  const CoreStatus st = h->status();
  CHECK(st.role == Role::kCandidate);
  CHECK(st.term == 3);
  CHECK(st.vote == 1);
  CHECK(h->take(MessageType::kVote).size() == 2);
}

TEST_CASE("PreVote: losing the pre-vote leaves the term alone") {
  auto h = Harness::with_config(pre_vote_config(1), voters({1, 2, 3}), {}, 2);
  h->campaign();
  h->take_messages();
  h->step(vote_resp(2, 1, 2, true, true));
  h->step(vote_resp(3, 1, 2, true, true));
  CHECK(h->status().role == Role::kFollower);
  CHECK(h->status().term == 2);
}

TEST_CASE("PreVote: a granted pre-vote carries the term it was asked for (etcd #8243)") {
  // A voter at term 1 is asked by a pre-candidate whose pre-vote term is 6.
  // If the grant carried term 1, the pre-candidate (at term 5) would drop it
  // as stale and no one could complete PreVote.
  auto h = Harness::with_config(pre_vote_config(3), voters({1, 2, 3}));
  REQUIRE(h->status().term == 1);
  h->step(vote_req(1, 3, 6, 1, 1, /*pre=*/true));
  const Message r = only_vote_resp(*h, 1, true);
  CHECK_FALSE(r.reject);
  CHECK(r.term == 6);
  CHECK(h->status().term == 1);  // never change terms for a PreVote
  CHECK(h->status().vote == kNoNode);
}

TEST_CASE("PreVote: a lower-term pre-vote is rejected with our term, not dropped (etcd #8501)") {
  auto h = Harness::with_config(pre_vote_config(1), voters({1, 2, 3}), {}, 5);
  h->step(vote_req(3, 1, 2, 1, 1, /*pre=*/true));
  const Message r = only_vote_resp(*h, 3, true);
  CHECK(r.reject);
  CHECK(r.term == 5);
  CHECK(h->status().term == 5);
}

TEST_CASE("PreVote: not granted to a candidate whose log is behind") {
  auto h = Harness::with_config(pre_vote_config(1), voters({1, 2, 3}), {2, 2}, 2);
  h->step(vote_req(3, 1, 3, 2, 1, /*pre=*/true));
  CHECK(only_vote_resp(*h, 3, true).reject);
}

TEST_CASE("CheckQuorum stickiness (T§4.2.3): a follower that hears from its leader refuses votes") {
  auto h =
      Harness::with_config(pre_vote_config(1, /*check_quorum=*/true), voters({1, 2, 3}), {}, 5);
  h->step(heartbeat(2, 1, 5, 1));
  REQUIRE(h->status().leader == 2);
  h->take_messages();

  // Pre-vote and vote of a higher term while the leader is alive: refused,
  // and the term is not disturbed.
  h->step(vote_req(3, 1, 6, 5, 5, /*pre=*/true));
  for (const Message& m : h->take(MessageType::kPreVoteResp))
    CHECK(m.reject);
  h->step(vote_req(3, 1, 6, 5, 5));
  for (const Message& m : h->take(MessageType::kVoteResp))
    CHECK(m.reject);
  CHECK(h->status().term == 5);
  CHECK(h->status().leader == 2);

  // A leadership transfer's election overrides stickiness (T§3.10).
  Message transfer = vote_req(3, 1, 6, 5, 5);
  transfer.context = kTransferContext;
  h->step(transfer);
  CHECK(h->status().term == 6);
  const Message r = only_vote_resp(*h, 3);
  CHECK_FALSE(r.reject);
  CHECK(h->status().vote == 3);
}

}  // namespace
}  // namespace raftlock::raft::test
