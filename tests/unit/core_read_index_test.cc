// ReadIndex (thesis §6.4): a read is served at the commit index the leader had
// when the read arrived, once (1) the leader has committed an entry of its own
// term and (2) a quorum has acknowledged a heartbeat sent after the read
// arrived. Pitfall 36: a fresh leader must refuse or delay reads until its
// no-op commits.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "raft/read_only.h"
#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

TEST_CASE("ReadOnly: acks per context; confirming a later read confirms earlier ones") {
  ReadOnly ro;
  CHECK(ro.empty());
  CHECK(ro.last_pending().empty());
  ro.add({5, "a", 1});
  ro.add({6, "b", 2});
  ro.add({6, "a", 3});  // duplicate context: ignored
  CHECK(ro.last_pending() == "b");
  CHECK(ro.ack(2, "zzz").empty());
  CHECK(ro.ack(2, "b").size() == 1);
  CHECK(ro.ack(2, "b").size() == 1);  // same node twice
  CHECK(ro.ack(3, "b").size() == 2);
  const std::vector<ReadRequest> done = ro.advance("b");
  REQUIRE(done.size() == 2);
  CHECK(done[0].context == "a");
  CHECK(done[0].index == 5);
  CHECK(done[0].from == 1);
  CHECK(done[1].context == "b");
  CHECK(ro.empty());
  CHECK(ro.advance("b").empty());
}

TEST_CASE("a fresh leader refuses or delays reads until its no-op commits") {
  // core.h documents kConflict here. Holding the read until the no-op commits
  // is safe too, provided the read index it gets is from this term.
  Harness h(1);
  h.elect();
  const CoreStatus st = h.status();
  const Index noop = st.last_index;
  const Status s = h.read_index("r1");
  const bool refused = s.code() == ErrorCode::kConflict;
  if (!refused) {
    CHECK_OK(s);
    MESSAGE(
        "read_index on a fresh leader was accepted and delayed, not refused with kConflict "
        "as core.h documents");
  }
  // Even with a quorum of heartbeat acks, nothing is released before the no-op commits.
  h.step(heartbeat_resp(2, 1, st.term, "r1"));
  h.step(heartbeat_resp(3, 1, st.term, "r1"));
  CHECK(h.take_read_states().empty());
  h.ack_all();
  if (!refused) {
    // Now it is confirmed with a fresh heartbeat round.
    h.step(heartbeat_resp(2, 1, st.term, "r1"));
    const std::vector<ReadState> rs = h.take_read_states();
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].index >= noop);
  }
  CHECK_OK(h.read_index("r2"));
  h.step(heartbeat_resp(3, 1, st.term, "r2"));
  const std::vector<ReadState> rs2 = h.take_read_states();
  REQUIRE(rs2.size() == 1);
  CHECK(rs2[0].index >= noop);
}

TEST_CASE("a leader's read is released after a quorum acknowledges a heartbeat carrying it") {
  Harness h(1, voters({1, 2, 3, 4, 5}));
  h.elect();
  h.ack_all();
  const CoreStatus st = h.status();
  CHECK_OK(h.read_index("r"));
  const std::vector<Message> hbs = h.take(MessageType::kHeartbeat);
  REQUIRE(hbs.size() == 4);
  for (const Message& m : hbs)
    CHECK(m.context == "r");
  CHECK(h.take_read_states().empty());

  h.step(heartbeat_resp(2, 1, st.term, "r"));
  CHECK(h.take_read_states().empty());  // 1 + 2 of 5
  h.step(heartbeat_resp(2, 1, st.term, "r"));
  CHECK(h.take_read_states().empty());  // a duplicate is not a third voter
  h.step(heartbeat_resp(3, 1, st.term, "other"));
  CHECK(h.take_read_states().empty());  // an ack for another read does not count
  h.step(heartbeat_resp(3, 1, st.term, "r"));
  const std::vector<ReadState> rs = h.take_read_states();
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].context == "r");
  CHECK(rs[0].index == st.commit);
}

TEST_CASE("an ack for a later read releases the earlier ones, in order") {
  Harness h(1);
  h.elect();
  h.ack_all();
  const Term t = h.status().term;
  CHECK_OK(h.read_index("a"));
  CHECK_OK(h.propose("x"));
  CHECK_OK(h.read_index("b"));
  h.take_messages();
  h.step(heartbeat_resp(3, 1, t, "b"));
  const std::vector<ReadState> rs = h.take_read_states();
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].context == "a");
  CHECK(rs[1].context == "b");
  CHECK(rs[0].index <= rs[1].index);
}

TEST_CASE("heartbeat acks from an older term do not confirm a read") {
  Harness h(1);
  h.elect();
  h.ack_all();
  const Term t = h.status().term;
  CHECK_OK(h.read_index("r"));
  h.step(heartbeat_resp(2, 1, t - 1, "r"));
  CHECK(h.take_read_states().empty());
}

TEST_CASE("a single-voter leader serves reads at once") {
  Harness h(1, voters({1}));
  h.campaign();
  REQUIRE(h.status().role == Role::kLeader);
  REQUIRE(h.status().commit == 2);  // its no-op, committed by itself
  CHECK_OK(h.read_index("solo"));
  const std::vector<ReadState> rs = h.take_read_states();
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].index == 2);
}

TEST_CASE("a follower asks the leader and serves the index it gets back") {
  Harness h(2);
  CHECK(h.read_index("x").code() == ErrorCode::kNoLeader);
  h.step(heartbeat(1, 2, 2, 1));
  h.take_messages();
  CHECK_OK(h.read_index("x"));
  const Message req = h.take_one(MessageType::kReadIndex, 1);
  CHECK(req.context == "x");

  Message resp = make_msg(MessageType::kReadIndexResp, 1, 2, 2);
  resp.index = 7;
  resp.context = "x";
  h.step(resp);
  const std::vector<ReadState> rs = h.take_read_states();
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].index == 7);
  CHECK(rs[0].context == "x");
}

TEST_CASE("a follower's read that reaches a fresh leader waits for the no-op, then a quorum") {
  Harness h(1);
  h.elect();
  const CoreStatus st = h.status();
  const Index noop = st.last_index;
  Message req = make_msg(MessageType::kReadIndex, 2, 1, 0);
  req.context = "f";
  h.step(req);
  // Delayed, not answered with a read index from before this term's commit.
  CHECK(h.take(MessageType::kReadIndexResp).empty());

  h.step(append_resp(3, 1, st.term, noop));  // the no-op commits
  REQUIRE(h.status().commit == noop);
  // The leader now confirms leadership for the read with a heartbeat round.
  std::vector<Message> hbs = h.take(MessageType::kHeartbeat);
  bool carried = false;
  for (const Message& m : hbs)
    carried = carried || m.context == "f";
  CHECK(carried);
  CHECK(h.take(MessageType::kReadIndexResp).empty());

  h.step(heartbeat_resp(3, 1, st.term, "f"));
  const Message resp = h.take_one(MessageType::kReadIndexResp, 2);
  CHECK(resp.context == "f");
  CHECK(resp.index >= noop);
  CHECK(resp.term == st.term);
  CHECK(h.take_read_states().empty());  // the read state is the follower's, not ours
}

TEST_CASE("a leader that steps down drops its pending reads") {
  Harness h(1);
  h.elect();
  h.ack_all();
  const Term t = h.status().term;
  CHECK_OK(h.read_index("r"));
  h.step(heartbeat(2, 1, t + 1, 1));  // a new leader
  REQUIRE(h.status().role == Role::kFollower);
  h.step(heartbeat_resp(3, 1, t, "r"));
  CHECK(h.take_read_states().empty());
}

}  // namespace
}  // namespace raftlock::raft::test
