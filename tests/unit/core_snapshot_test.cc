// Log compaction and InstallSnapshot (§7, Figure 13). Pitfall 40: a stale
// snapshot must not regress state; a matching log suffix is kept; commit and
// applied rise to the snapshot index; a follower behind the leader's first
// index is sent the snapshot.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

// Leader 1 of {1,2,3} with `n` proposals committed by node 2 (3 knows nothing).
std::unique_ptr<Harness> leader_with_entries(int n) {
  auto h = std::make_unique<Harness>(1);
  h->elect();
  for (int k = 0; k < n; ++k)
    CHECK_OK(h->propose("c" + std::to_string(k)));
  h->step(append_resp(2, 1, h->status().term, h->status().last_index));
  REQUIRE(h->status().commit == h->status().last_index);
  h->take_messages();
  return h;
}

TEST_CASE("compact: a Ready carries the snapshot, the log before it is dropped") {
  auto h = leader_with_entries(5);
  const CoreStatus st = h->status();
  REQUIRE(st.applied == st.last_index);
  const Index at = st.last_index - 1;
  const Term term_at_at = *h->core().term_at(at);
  CHECK_OK(h->core().compact(at, "image"));
  h->drain();
  REQUIRE(h->compacts().size() == 1);
  const Snapshot& s = h->compacts().front();
  CHECK(s.meta.index == at);
  CHECK(s.meta.term == term_at_at);
  CHECK(s.meta.conf == voters({1, 2, 3}));
  CHECK(s.data == "image");

  const CoreStatus after = h->status();
  CHECK(after.snapshot_index == at);
  CHECK(after.first_index == at + 1);
  CHECK(after.last_index == st.last_index);
  CHECK(after.commit == st.commit);
  CHECK(h->store().first_index() == at + 1);
  REQUIRE(h->core().term_at(at).is_ok());  // the snapshot's term stays known
  CHECK(*h->core().term_at(at) == term_at_at);
  CHECK(h->core().term_at(at - 1).code() == ErrorCode::kCompacted);
}

TEST_CASE("compact refuses an index beyond what was applied") {
  auto h = leader_with_entries(2);
  const CoreStatus st = h->status();
  CHECK_OK(h->propose("uncommitted"));
  CHECK_FALSE(h->core().compact(st.applied + 1, "x").is_ok());
  h->drain();
  CHECK(h->compacts().empty());
}

TEST_CASE("a follower behind the leader's first index is sent the snapshot") {
  auto h = leader_with_entries(5);
  const Index at = h->status().applied;
  CHECK_OK(h->core().compact(at, "image"));
  h->drain();
  h->take_messages();

  // Node 3 never answered. Its next answer (to a heartbeat) makes the leader
  // send it something: entries it needs are gone, so a snapshot.
  h->tick();
  h->take_messages();
  h->step(heartbeat_resp(3, 1, h->status().term));
  std::vector<Message> snaps = h->take(MessageType::kSnapshot, 3);
  if (snaps.empty()) {
    // Or the leader probes first and learns 3 holds only entry 1.
    for (const Message& m : h->take(MessageType::kAppend, 3)) {
      h->step(append_resp(3, 1, h->status().term, m.index, true, 1, 1));
    }
    snaps = h->take(MessageType::kSnapshot, 3);
  }
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].snapshot.meta.index == at);
  CHECK(snaps[0].snapshot.data == "image");
  CHECK(snaps[0].snapshot.meta.conf == voters({1, 2, 3}));
  CHECK(std::string(h->status().peers.at(3).state) == "snapshot");
  CHECK(h->take(MessageType::kAppend, 3).empty());

  // 3 installs it and acknowledges: the leader resumes log replication.
  h->step(append_resp(3, 1, h->status().term, at));
  CHECK(h->status().peers.at(3).match == at);
  CHECK(std::string(h->status().peers.at(3).state) != "snapshot");
}

TEST_CASE("a follower installs a newer snapshot: commit and applied rise to its index") {
  Harness h(2);
  ConfState conf = voters({1, 2, 3});
  conf.learners = {4};
  h.step(snapshot_msg(1, 2, 3, 10, 3, conf, "img10"));
  REQUIRE(h.installed_snapshots().size() == 1);
  CHECK(h.installed_snapshots()[0].meta.index == 10);
  CHECK(h.installed_snapshots()[0].data == "img10");
  const CoreStatus st = h.status();
  CHECK(st.term == 3);
  CHECK(st.leader == 1);
  CHECK(st.commit == 10);
  CHECK(st.applied == 10);
  CHECK(st.snapshot_index == 10);
  CHECK(st.first_index == 11);
  CHECK(st.last_index == 10);
  CHECK(st.conf == conf);  // the configuration comes with the snapshot
  CHECK(*h.core().term_at(10) == 3);
  CHECK(h.store().snapshot().meta.index == 10);
  const Message r = h.take_one(MessageType::kAppendResp, 1);
  CHECK_FALSE(r.reject);
  CHECK(r.index == 10);

  // Replication continues right after it.
  h.step(append_msg(1, 2, 3, 10, 3, {ent(11, 3)}, 11));
  CHECK(h.status().commit == 11);
  CHECK(h.applied().back().index == 11);
}

TEST_CASE("a stale snapshot (index <= commit) is ignored") {
  // Follower with 1 1 1 1 1 committed up to 5.
  Harness h(2, voters({1, 2, 3}), {1, 1, 1, 1}, 2, 5);
  REQUIRE(h.status().commit == 5);
  const std::size_t applied = h.applied().size();
  h.step(snapshot_msg(1, 2, 2, 3, 1, voters({1, 2, 3}), "old"));
  CHECK(h.installed_snapshots().empty());
  const CoreStatus st = h.status();
  CHECK(st.commit == 5);
  CHECK(st.first_index == 1);
  CHECK(st.last_index == 5);
  CHECK(h.applied().size() == applied);
  for (const Message& m : h.take(MessageType::kAppendResp, 1)) {
    CHECK_FALSE(m.reject);
    CHECK(m.index >= 5);  // it tells the leader how far it really is
  }
}

TEST_CASE("a snapshot whose last entry the log already holds keeps the entries after it") {
  // Follower with 1 2 2 2 2 2 (indexes 1-6), commit 1, term 2.
  Harness h(2, voters({1, 2, 3}), {2, 2, 2, 2, 2}, 2);
  h.step(snapshot_msg(1, 2, 2, 4, 2, voters({1, 2, 3}), "img4"));
  const CoreStatus st = h.status();
  CHECK(st.commit >= 4);
  CHECK(st.last_index == 6);  // §7: "retain log entries following it"
  CHECK(*h.core().term_at(6) == 2);
  CHECK(h.applied_index() >= 4);
}

TEST_CASE("a snapshot that conflicts with the log replaces the whole log") {
  // Follower with 1 2 2 2 (indexes 1-4): the snapshot says (3, t3).
  Harness h(2, voters({1, 2, 3}), {2, 2, 2}, 3);
  h.step(snapshot_msg(1, 2, 3, 3, 3, voters({1, 2, 3}), "img3"));
  REQUIRE(h.installed_snapshots().size() == 1);
  const CoreStatus st = h.status();
  CHECK(st.snapshot_index == 3);
  CHECK(st.last_index == 3);
  CHECK(st.commit == 3);
  CHECK(*h.core().term_at(3) == 3);
  CHECK(h.core().term_at(4).code() == ErrorCode::kUnavailable);
}

TEST_CASE("a restarted follower comes back from its stored snapshot") {
  Harness h(2);
  h.step(snapshot_msg(1, 2, 3, 10, 3, voters({1, 2, 3}), "img10"));
  h.step(append_msg(1, 2, 3, 10, 3, {ent(11, 3), ent(12, 3)}, 11));
  h.restart();
  const CoreStatus st = h.status();
  CHECK(st.snapshot_index == 10);
  CHECK(st.first_index == 11);
  CHECK(st.last_index == 12);
  CHECK(st.commit == 11);
  CHECK(st.term == 3);
  CHECK(st.conf == voters({1, 2, 3}));
}

}  // namespace
}  // namespace raftlock::raft::test
