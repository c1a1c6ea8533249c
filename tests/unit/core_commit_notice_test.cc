// Commit notices (kCommitNoticeContext): when its commit index advances, the
// leader tells each replicating follower with an append marked as a notice;
// the follower takes the commit index after the usual consistency check and
// answers only a rejection. Probes, entries and the heartbeat path keep their
// answers, so a lost acknowledgement is still recovered.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

Message notice(NodeId from, NodeId to, Term term, Index prev, Term prev_term, Index commit) {
  Message m = append_msg(from, to, term, prev, prev_term, {}, commit);
  m.context = kCommitNoticeContext;
  return m;
}

// A leader of term `*t` whose followers 2 and 3 replicate, nothing in flight.
std::unique_ptr<Harness> replicating_leader(Term* t) {
  auto h = std::make_unique<Harness>(1);
  h->elect();
  h->ack_all();
  h->take_messages();
  *t = h->status().term;
  return h;
}

TEST_CASE("a new commit index reaches replicating followers as commit notices") {
  Term t = 0;
  auto hp = replicating_leader(&t);
  Harness& h = *hp;
  CHECK_OK(h.propose("x"));
  const Index x = h.status().last_index;
  REQUIRE(h.take(MessageType::kAppend).size() == 2);  // the entry, to both

  h.step(append_resp(2, 1, t, x));  // 1 and 2 hold x: committed
  REQUIRE(h.status().commit == x);
  for (NodeId to : {2, 3}) {
    CAPTURE(to);
    const Message m = h.take_one(MessageType::kAppend, to);
    CHECK(m.entries.empty());
    CHECK(m.index == x);  // prev: the consistency check still applies
    CHECK(m.commit == x);
    CHECK(m.context == kCommitNoticeContext);
  }
}

TEST_CASE("a follower takes a notice's commit index without answering it") {
  Harness h(1);
  h.step(append_msg(2, 1, 2, 1, 1, {ent(2, 2), ent(3, 2)}, 1));
  CHECK(h.take_one(MessageType::kAppendResp, 2).index == 3);

  h.step(notice(2, 1, 2, 3, 2, 3));
  CHECK(h.status().commit == 3);
  REQUIRE_FALSE(h.applied().empty());
  CHECK(h.applied().back().index == 3);
  CHECK(h.take(MessageType::kAppendResp).empty());

  // The same append without the mark is answered as always.
  h.step(append_msg(2, 1, 2, 3, 2, {}, 3));
  CHECK(h.take_one(MessageType::kAppendResp, 2).index == 3);
}

TEST_CASE("a notice that fails the consistency check is rejected, and commits nothing") {
  Harness h(1);
  h.step(append_msg(2, 1, 2, 1, 1, {ent(2, 2)}, 1));
  h.take_messages();
  h.step(notice(2, 1, 2, 3, 2, 3));  // prev beyond our log
  const Message r = h.take_one(MessageType::kAppendResp, 2);
  CHECK(r.reject);
  CHECK(r.index == 3);
  CHECK(h.status().commit == 1);

  h.step(notice(2, 1, 3, 2, 3, 2));  // a newer leader's term for entry 2: mismatch
  CHECK(h.take_one(MessageType::kAppendResp, 2).reject);
  CHECK(h.status().commit == 1);
}

TEST_CASE("a notice with entries is an ordinary append: answered") {
  Harness h(1);
  Message m = append_msg(2, 1, 2, 1, 1, {ent(2, 2)}, 1);
  m.context = kCommitNoticeContext;
  h.step(m);
  CHECK(h.take_one(MessageType::kAppendResp, 2).index == 2);
}

TEST_CASE("a lost acknowledgement is recovered through the heartbeat path") {
  Term t = 0;
  auto hp = replicating_leader(&t);
  Harness& h = *hp;
  CHECK_OK(h.propose("x"));
  const Index x = h.status().last_index;
  h.take_messages();
  h.step(append_resp(2, 1, t, x));  // committed with 2; 3's acknowledgement is lost
  h.take_messages();
  REQUIRE(h.status().peers.at(3).match < x);
  // 3's answer to the next heartbeat makes the leader send it an ordinary append...
  h.tick();
  h.take_messages();
  h.step(heartbeat_resp(3, 1, t));
  const Message m = h.take_one(MessageType::kAppend, 3);
  CHECK(m.context.empty());
  // ...whose answer brings 3's match up to date.
  h.step(append_resp(3, 1, t, m.index + m.entries.size()));
  CHECK(h.status().peers.at(3).match == x);
}

TEST_CASE("of the notices one Ready has for a peer, the last stands for the others") {
  Term t = 0;
  auto hp = replicating_leader(&t);
  Harness& h = *hp;
  CHECK_OK(h.propose("x"));
  CHECK_OK(h.propose("y"));
  const Index y = h.status().last_index;
  h.take_messages();
  // Two acknowledgements stepped before the Ready is taken: two commits.
  CHECK_OK(h.core().step(append_resp(2, 1, t, y - 1)));
  CHECK_OK(h.core().step(append_resp(2, 1, t, y)));
  h.drain();
  REQUIRE(h.status().commit == y);
  for (NodeId to : {2, 3}) {
    CAPTURE(to);
    const std::vector<Message> ms = h.take(MessageType::kAppend, to);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].context == kCommitNoticeContext);
    CHECK(ms[0].commit == y);
  }
}

}  // namespace
}  // namespace raftlock::raft::test
