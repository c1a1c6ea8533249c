// AppendEntries at the core level (§5.3, Figure 2 receiver steps 1-5) and the
// leader's reaction to its replies: the consistency check even for empty
// appends (pitfall 10), no truncation without a conflict (11), the
// conflict-term hint (§5.3 "the protocol can be optimized"), acknowledgements
// taken from the request (16) and stale rejections (17).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

// Figure 7, terms from index 2 on (index 1 is the bootstrap entry, term 1).
const std::vector<Term> kLeader7 = {1, 1, 4, 4, 5, 5, 6, 6, 6};
const std::vector<Term> kA = {1, 1, 4, 4, 5, 5, 6, 6};
const std::vector<Term> kB = {1, 1, 4};
const std::vector<Term> kC = {1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
const std::vector<Term> kD = {1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
const std::vector<Term> kE = {1, 1, 4, 4, 4, 4};
const std::vector<Term> kF = {1, 1, 2, 2, 2, 3, 3, 3, 3, 3};

TEST_CASE("an empty AppendEntries with a mismatched prev is refused (pitfall 10)") {
  Harness h(1, voters({1, 2, 3}), {1}, 2);   // log 1 1
  h.step(append_msg(2, 1, 3, 2, 2, {}, 2));  // prev (2, 2): we have (2, 1)
  Message r = h.take_one(MessageType::kAppendResp, 2);
  CHECK(r.reject);
  CHECK(r.index == 2);
  CHECK(r.term == 3);
  CHECK(h.status().commit == 1);  // leaderCommit 2 must not be taken
  CHECK(log_terms(h.core()) == "1 1");
  CHECK(h.status().leader == 2);  // still a valid leader of term 3

  h.step(append_msg(2, 1, 3, 5, 3, {}, 2));  // prev beyond the end
  r = h.take_one(MessageType::kAppendResp, 2);
  CHECK(r.reject);
  CHECK(r.index == 5);
  CHECK(h.status().commit == 1);
}

TEST_CASE("AppendEntries appends, acknowledges prev + len(entries), and persists first") {
  Harness h(1);
  h.step(append_msg(2, 1, 2, 1, 1, {ent(2, 2), ent(3, 2)}, 1));
  const Message r = h.take_one(MessageType::kAppendResp, 2);
  CHECK_FALSE(r.reject);
  CHECK(r.index == 3);
  CHECK(log_terms(h.core()) == "1 2 2");
  CHECK(h.store().last_index() == 3);  // on stable storage (checked again by the harness)
}

TEST_CASE("a delayed AE[2] after AE[2..3] keeps entry 3 (pitfall 11)") {
  Harness h(1);
  h.step(append_msg(2, 1, 2, 1, 1, {ent(2, 2), ent(3, 2)}, 1));
  h.take_messages();
  h.step(append_msg(2, 1, 2, 1, 1, {ent(2, 2)}, 1));
  const Message r = h.take_one(MessageType::kAppendResp, 2);
  CHECK_FALSE(r.reject);
  CHECK(r.index == 2);  // what this request vouches for, not our last index (pitfall 16)
  CHECK(log_terms(h.core()) == "1 2 2");
  CHECK(h.store().last_index() == 3);
}

TEST_CASE("F7-heartbeat-must-not-truncate: (c) keeps its extra entry on an empty append") {
  Harness h(4, voters({1, 2, 3, 4, 5, 6, 7}), kC, 7);
  h.step(append_msg(1, 4, 8, 10, 6, {}, 0));
  const Message r = h.take_one(MessageType::kAppendResp, 1);
  CHECK_FALSE(r.reject);
  CHECK(r.index == 10);
  CHECK(log_terms(h.core()) == "1 1 1 4 4 5 5 6 6 6 6");
}

TEST_CASE("F7-min-commit: (d) commits min(leaderCommit, last new index) = 10, not 12") {
  Harness h(5, voters({1, 2, 3, 4, 5, 6, 7}), kD, 7);
  h.step(append_msg(1, 5, 8, 10, 6, {}, 12));
  const Message r = h.take_one(MessageType::kAppendResp, 1);
  CHECK_FALSE(r.reject);
  CHECK(h.status().commit == 10);
  // Only entries up to 10 are applied; the divergent term-7 entries are not.
  REQUIRE_FALSE(h.applied().empty());
  CHECK(h.applied().back().index == 10);
  CHECK(log_terms(h.core()) == "1 1 1 4 4 5 5 6 6 6 7 7");

  // Then the leader's entry 11 replaces the conflicting suffix.
  h.step(append_msg(1, 5, 8, 10, 6, {ent(11, 8)}, 12));
  CHECK(log_terms(h.core()) == "1 1 1 4 4 5 5 6 6 6 8");
  CHECK(h.status().commit == 11);
  CHECK(h.store().last_index() == 11);
}

TEST_CASE(
    "rejections carry the conflict-term hint: the last index <= prev with term <= prevLogTerm") {
  struct C {
    const char* who;
    std::vector<Term> log;
    Index hint;
    Term hint_term;
  };
  const std::vector<C> cases = {
      {"(a)", kA, 9, 6}, {"(b)", kB, 4, 4}, {"(e)", kE, 7, 4}, {"(f)", kF, 10, 3}};
  for (const C& c : cases) {
    CAPTURE(std::string(c.who));
    Harness h(2, voters({1, 2, 3, 4, 5, 6, 7}), c.log, 7);
    // The term-8 leader's first probe: prev (10, 6).
    h.step(append_msg(1, 2, 8, 10, 6, {ent(11, 8)}, 0));
    const Message r = h.take_one(MessageType::kAppendResp, 1);
    CHECK(r.reject);
    CHECK(r.index == 10);
    CHECK(r.reject_hint == c.hint);
    CHECK(r.hint_term == c.hint_term);
  }
}

// A leader with the term-8 log of Figure 7, elected in a 7-node cluster.
std::unique_ptr<Harness> figure7_leader() {
  auto h = std::make_unique<Harness>(1, voters({1, 2, 3, 4, 5, 6, 7}), kLeader7, 7);
  h->campaign();
  for (NodeId p : {2, 3, 4, 5})
    h->step(vote_resp(p, 1, 8, false));
  REQUIRE(h->status().role == Role::kLeader);
  REQUIRE(h->status().term == 8);
  REQUIRE(log_terms(h->core()) == "1 1 1 4 4 5 5 6 6 6 8");
  return h;
}

TEST_CASE("upon election the leader sends AppendEntries to every peer at once (Figure 2)") {
  // Figure 2, Rules for Servers, Leaders: "Upon election: send initial empty
  // AppendEntries RPCs (heartbeat) to each server". Waiting for the first
  // heartbeat tick leaves followers without a leader (and the no-op
  // unreplicated) for a tick, during which their own timers may fire.
  auto h = figure7_leader();
  for (NodeId p : {2, 3, 4, 5, 6, 7}) {
    CAPTURE(p);
    bool announced = false;
    for (const Message& m : h->outbox()) {
      if (m.to == p && (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
        CHECK(m.term == 8);
        announced = true;
      }
    }
    CHECK(announced);
  }
}

TEST_CASE("the leader uses the hint: one rejection is enough for (e) and (f)") {
  struct C {
    const char* who;
    NodeId id;
    Index hint;
    Term hint_term;
    Index next_prev;  // where the leader probes next: find_conflict_by_term(hint, hint_term)
  };
  const std::vector<C> cases = {
      {"(e)", 6, 7, 4, 5}, {"(f)", 7, 10, 3, 3}, {"(b)", 3, 4, 4, 4}, {"(a)", 2, 9, 6, 9}};
  for (const C& c : cases) {
    CAPTURE(std::string(c.who));
    auto h = figure7_leader();
    std::vector<Message> first = h->take(MessageType::kAppend, c.id);
    if (first.empty()) {
      // (Tested separately: a new leader should not wait for this.) The
      // follower's answer to a heartbeat makes the leader probe it.
      h->step(heartbeat_resp(c.id, 1, 8));
      first = h->take(MessageType::kAppend, c.id);
    }
    REQUIRE(first.size() == 1);
    CHECK(first[0].index ==
          10);  // nextIndex starts at the leader's last index + 1 (before the no-op)
    CHECK(first[0].log_term == 6);
    h->take_messages();
    h->step(append_resp(c.id, 1, 8, first[0].index, true, c.hint, c.hint_term));
    const Message again = h->take_one(MessageType::kAppend, c.id);
    CHECK(again.index == c.next_prev);
    CHECK(again.log_term == *h->core().term_at(c.next_prev));
    REQUIRE_FALSE(again.entries.empty());
    CHECK(again.entries.front().index == c.next_prev + 1);
  }
}

TEST_CASE("the leader ignores a stale rejection (pitfall 17)") {
  auto h = figure7_leader();
  h->take_messages();
  // Follower 4 = (c) acknowledges everything up to 11.
  h->step(append_resp(4, 1, 8, 11));
  REQUIRE(h->status().peers.at(4).match == 11);
  const Index next = h->status().peers.at(4).next;
  h->take_messages();
  // A rejection of an older probe arrives late (duplicated by the network).
  h->step(append_resp(4, 1, 8, 10, true, 10, 6));
  CHECK(h->status().peers.at(4).match == 11);
  CHECK(h->status().peers.at(4).next == next);
  CHECK(h->take(MessageType::kAppend, 4).empty());
  // A stale success does not lower match either.
  h->step(append_resp(4, 1, 8, 9));
  CHECK(h->status().peers.at(4).match == 11);
}

TEST_CASE("after a successful probe the leader streams the rest (probe -> replicate)") {
  auto h = figure7_leader();
  h->take_messages();
  h->step(append_resp(2, 1, 8, 10, true, 9, 6));
  Message m = h->take_one(MessageType::kAppend, 2);
  REQUIRE(m.index == 9);
  h->step(append_resp(2, 1, 8, 9 + m.entries.size()));
  const PeerStatus p = h->status().peers.at(2);
  CHECK(p.match == 9 + m.entries.size());
  CHECK(std::string(p.state) == "replicate");
  CHECK(p.next == p.match + 1);
}

TEST_CASE("a leader's appends respect max_msg_entries") {
  Config c = unit_config(1);
  c.max_msg_entries = 2;
  auto h = Harness::with_config(c);
  h->elect();
  h->ack_all();
  for (int k = 0; k < 5; ++k)
    CHECK_OK(h->propose("p" + std::to_string(k)));
  for (const Message& m : h->take(MessageType::kAppend))
    CHECK(m.entries.size() <= 2);
}

TEST_CASE("a follower forwards proposals to its leader; without a leader it refuses") {
  Harness h(1);
  const Status s = h.propose("x");
  CHECK(s.code() == ErrorCode::kNoLeader);
  CHECK(h.outbox().empty());

  h.step(heartbeat(2, 1, 2, 1));
  h.take_messages();
  CHECK_OK(h.propose("y"));
  const Message m = h.take_one(MessageType::kPropose, 2);
  REQUIRE(m.entries.size() == 1);
  CHECK(m.entries[0].data == "y");
  CHECK(h.status().last_index == 1);  // nothing entered the follower's own log
}

TEST_CASE("the leader appends forwarded proposals in its own term") {
  Harness h(1);
  h.elect();
  h.ack_all();
  const CoreStatus st = h.status();
  Message p = make_msg(MessageType::kPropose, 2, 1, 0);
  p.entries.push_back(Entry{0, 0, EntryType::kNormal, "fwd"});
  h.step(p);
  CHECK(h.status().last_index == st.last_index + 1);
  CHECK(*h.core().term_at(st.last_index + 1) == st.term);
  const std::vector<Message> apps = h.take(MessageType::kAppend);
  CHECK(apps.size() == 2);
  for (const Message& m : apps) {
    REQUIRE(m.entries.size() == 1);
    CHECK(m.entries[0].data == "fwd");
    CHECK(m.entries[0].index == st.last_index + 1);
  }
}

int appends_with_entries(const std::vector<Message>& ms) {
  int n = 0;
  for (const Message& m : ms)
    n += m.type == MessageType::kAppend && !m.entries.empty();
  return n;
}

TEST_CASE("flow control: at most max_inflight_msgs appends in flight to a replicating peer") {
  Config c = unit_config(1);
  c.max_inflight_msgs = 2;
  auto h = Harness::with_config(c);
  h->elect();
  h->ack_all();  // 2 and 3 now replicate
  REQUIRE(std::string(h->status().peers.at(2).state) == "replicate");
  const Term t = h->status().term;
  for (int k = 0; k < 5; ++k)
    CHECK_OK(h->propose("p" + std::to_string(k)));
  std::vector<Message> to2 = h->take(MessageType::kAppend, 2);
  CHECK(appends_with_entries(to2) == 2);
  // An acknowledgement frees a slot: the rest goes out.
  REQUIRE_FALSE(to2.empty());
  const Message& first = to2.front();
  h->step(append_resp(2, 1, t, first.entries.back().index));
  std::vector<Message> more = h->take(MessageType::kAppend, 2);
  CHECK(appends_with_entries(more) >= 1);
  CHECK(appends_with_entries(more) <= 2);
}

TEST_CASE("flow control: a probing peer gets one append until it answers") {
  Harness h(1);
  h.elect();  // its first append to 3 is the outstanding probe
  h.step(append_resp(2, 1, h.status().term, h.status().last_index));
  h.take_messages();
  REQUIRE(std::string(h.status().peers.at(3).state) == "probe");
  for (int k = 0; k < 3; ++k)
    CHECK_OK(h.propose("p" + std::to_string(k)));
  CHECK(appends_with_entries(h.take(MessageType::kAppend, 3)) == 0);
  // Its answer to a heartbeat releases the next probe: one append.
  h.tick();
  h.take_messages();
  h.step(heartbeat_resp(3, 1, h.status().term));
  CHECK(h.take(MessageType::kAppend, 3).size() == 1);
}

}  // namespace
}  // namespace raftlock::raft::test
