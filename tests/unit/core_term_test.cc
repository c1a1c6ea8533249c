// Figure 2, "Rules for All Servers": "If RPC request or response contains
// term T > currentTerm: set currentTerm = T, convert to follower" (§5.1).
// Pitfall 1: every message type x every role, at a higher term. And the
// other half of §5.1: a request with a stale term is rejected.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

// Puts node 1 of {1,2,3} into `role` at whatever term that takes.
std::unique_ptr<Harness> in_role(Role role) {
  Config c = unit_config(1);
  c.pre_vote = role == Role::kPreCandidate;
  auto h = Harness::with_config(c);
  switch (role) {
    case Role::kFollower:
      break;
    case Role::kPreCandidate:
      h->campaign();
      break;
    case Role::kCandidate:
      h->campaign();
      break;
    case Role::kLeader:
      h->elect();
      break;
  }
  REQUIRE(h->status().role == role);
  h->take_messages();
  return h;
}

struct Case {
  const char* name;
  std::function<Message(Term)> make;
  bool from_leader;  // kAppend/kHeartbeat/kSnapshot: the sender is the new leader
};

std::vector<Case> higher_term_cases() {
  return {
      // A candidate whose log is behind ours: we adopt its term but refuse the vote.
      {"kVote", [](Term t) { return vote_req(2, 1, t, 0, 0); }, false},
      {"kVoteResp", [](Term t) { return vote_resp(2, 1, t, true); }, false},
      // A rejected pre-vote carries the rejecter's (higher) term.
      {"kPreVoteResp", [](Term t) { return vote_resp(2, 1, t, true, true); }, false},
      {"kAppend", [](Term t) { return append_msg(2, 1, t, 1, 1, {}, 1); }, true},
      {"kAppendResp", [](Term t) { return append_resp(2, 1, t, 1); }, false},
      {"kHeartbeat", [](Term t) { return heartbeat(2, 1, t, 1); }, true},
      {"kHeartbeatResp", [](Term t) { return heartbeat_resp(2, 1, t); }, false},
      {"kSnapshot",
       [](Term t) {
         return snapshot_msg(2, 1, t, 1, 1, voters({1, 2, 3}));
       },
       true},
      {"kReadIndexResp",
       [](Term t) {
         Message m = make_msg(MessageType::kReadIndexResp, 2, 1, t);
         m.index = 1;
         m.context = "r";
         return m;
       },
       false},
  };
}

TEST_CASE("a higher term in any message makes every role a follower of that term, vote cleared") {
  for (Role role : {Role::kFollower, Role::kPreCandidate, Role::kCandidate, Role::kLeader}) {
    for (const Case& c : higher_term_cases()) {
      CAPTURE(std::string(role_name(role)));
      CAPTURE(std::string(c.name));
      auto h = in_role(role);
      const Term before = h->status().term;
      const Term higher = before + 1;
      h->step(c.make(higher));
      const CoreStatus st = h->status();
      CHECK(st.role == Role::kFollower);
      CHECK(st.term == higher);
      CHECK(st.vote == kNoNode);
      if (c.from_leader) {
        CHECK(st.leader == 2);
      } else {
        CHECK(st.leader != 1);
      }
      // The new term is on stable storage (Figure 2: currentTerm is persistent).
      const HardState hs = h->store().initial_state().hard_state;
      CHECK(hs.term == higher);
      CHECK(hs.vote == kNoNode);
      // Whatever it answered carries the new term.
      for (const Message& m : h->outbox())
        CHECK(m.term >= higher);
    }
  }
}

TEST_CASE("a node that voted in term T grants a vote in T+1 (step down before processing)") {
  Harness h(1);
  const Term t = h.status().term;
  h.step(vote_req(2, 1, t + 1, 1, 1));
  REQUIRE(h.status().vote == 2);
  h.take_messages();
  h.step(vote_req(3, 1, t + 2, 1, 1));
  CHECK(h.status().term == t + 2);
  CHECK(h.status().vote == 3);
  const Message r = h.take_one(MessageType::kVoteResp, 3);
  CHECK_FALSE(r.reject);
  CHECK(r.term == t + 2);
}

TEST_CASE("a PreVote at a higher term changes no term and no role (T§9.6)") {
  for (Role role : {Role::kFollower, Role::kPreCandidate, Role::kCandidate, Role::kLeader}) {
    CAPTURE(std::string(role_name(role)));
    auto h = in_role(role);
    const CoreStatus before = h->status();
    h->step(vote_req(2, 1, before.term + 1, 100, before.term, /*pre=*/true));
    const CoreStatus after = h->status();
    CHECK(after.term == before.term);
    CHECK(after.role == before.role);
    CHECK(after.vote == before.vote);
    CHECK(h->store().initial_state().hard_state.term == before.term);
  }
}

TEST_CASE("stale-term requests change nothing and are answered with the current term") {
  // Node 1 at term 5 with log 1 2 2 and commit 1.
  Harness h(1, voters({1, 2, 3}), {2, 2}, 5);
  const CoreStatus before = h.status();
  REQUIRE(before.term == 5);

  SUBCASE("kAppend from a deposed leader") {
    h.step(append_msg(2, 1, 4, 3, 2, {ent(4, 4)}, 3));
    CHECK(log_terms(h.core()) == "1 2 2");
    CHECK(h.status().commit == 1);
  }
  SUBCASE("kHeartbeat from a deposed leader") {
    h.step(heartbeat(2, 1, 3, 3));
    CHECK(h.status().commit == 1);
  }
  SUBCASE("kVote of an old term") {
    h.step(vote_req(2, 1, 4, 10, 4));
    for (const Message& m : h.outbox()) {
      if (m.type == MessageType::kVoteResp) CHECK(m.reject);
    }
    CHECK(h.status().vote == kNoNode);
  }
  SUBCASE("kSnapshot of an old term") {
    h.step(snapshot_msg(2, 1, 4, 10, 4, voters({1, 2, 3})));
    CHECK(h.installed_snapshots().empty());
    CHECK(h.status().last_index == 3);
  }
  const CoreStatus after = h.status();
  CHECK(after.term == 5);
  CHECK(after.role == Role::kFollower);
  CHECK(after.leader == kNoNode);
  // Figure 2: "Reply false if term < currentTerm"; the reply (if any) carries
  // our term so the stale sender steps down.
  for (const Message& m : h.outbox()) {
    CHECK(m.term == 5);
    CHECK(m.to == 2);
  }
}

TEST_CASE("a candidate yields to a leader of its own term, not to an older one (pitfall 8)") {
  auto h = in_role(Role::kCandidate);
  const Term t = h->status().term;
  h->step(append_msg(2, 1, t - 1, 1, 1, {}, 1));
  CHECK(h->status().role == Role::kCandidate);
  CHECK(h->status().term == t);

  h->step(append_msg(2, 1, t, 1, 1, {}, 1));
  CHECK(h->status().role == Role::kFollower);
  CHECK(h->status().term == t);
  CHECK(h->status().leader == 2);
  CHECK(h->status().vote == 1);  // its vote in this term stays cast (one vote per term)
}

TEST_CASE("a pre-candidate yields to a heartbeat of the current term") {
  auto h = in_role(Role::kPreCandidate);
  const Term t = h->status().term;
  h->step(heartbeat(3, 1, t, 1));
  CHECK(h->status().role == Role::kFollower);
  CHECK(h->status().leader == 3);
  CHECK(h->status().term == t);
}

TEST_CASE("a leader ignores responses from an older term (pitfall 17)") {
  auto h = in_role(Role::kLeader);
  const CoreStatus st = h->status();
  const Term t = st.term;
  // A success from term t-1 claiming the whole log must not commit anything.
  h->step(append_resp(2, 1, t - 1, st.last_index));
  h->step(append_resp(3, 1, t - 1, st.last_index));
  CHECK(h->status().commit == st.commit);
  CHECK(h->status().peers.at(2).match == st.peers.at(2).match);
  CHECK(h->status().role == Role::kLeader);
  // A vote response of an older term changes nothing either.
  h->step(vote_resp(2, 1, t - 1, true));
  CHECK(h->status().role == Role::kLeader);
  CHECK(h->status().term == t);
}

}  // namespace
}  // namespace raftlock::raft::test
