// Flow control and the leader's per-follower state (Figure 2 nextIndex /
// matchIndex). Pitfall 17: stale or duplicated replies must not move
// nextIndex or matchIndex backwards.
#include <doctest/doctest.h>

#include <string>

#include "raft/progress.h"

namespace raftlock::raft {
namespace {

TEST_CASE("Inflights: capacity, free_le and free_first_one") {
  Inflights in(3);
  CHECK(in.count() == 0);
  CHECK_FALSE(in.full());
  in.add(5);
  in.add(10);
  CHECK_FALSE(in.full());
  in.add(15);
  CHECK(in.full());
  CHECK(in.count() == 3);

  in.free_le(4);  // nothing at or below 4
  CHECK(in.count() == 3);
  in.free_le(9);  // frees 5
  CHECK(in.count() == 2);
  CHECK_FALSE(in.full());
  in.free_le(10);  // frees 10 exactly
  CHECK(in.count() == 1);
  in.add(20);
  in.add(25);
  CHECK(in.full());
  in.free_first_one();  // frees 15
  CHECK(in.count() == 2);
  in.free_le(100);
  CHECK(in.count() == 0);
  in.free_le(100);  // on empty: harmless
  in.free_first_one();
  CHECK(in.count() == 0);

  in.add(30);
  in.reset();
  CHECK(in.count() == 0);
}

TEST_CASE("Inflights of capacity 1 is full after one message") {
  Inflights in(1);
  in.add(7);
  CHECK(in.full());
  in.free_le(6);
  CHECK(in.full());
  in.free_le(7);
  CHECK_FALSE(in.full());
}

TEST_CASE("Progress starts in probe and is paused only while a probe is outstanding") {
  Progress p(/*next=*/5, /*max_inflight=*/4, /*learner=*/false);
  CHECK(p.state == Progress::State::kProbe);
  CHECK(std::string(p.state_name()) == "probe");
  CHECK(p.match == 0);
  CHECK(p.next == 5);
  CHECK_FALSE(p.learner);
  CHECK_FALSE(p.is_paused());
  p.probe_sent = true;
  CHECK(p.is_paused());
  p.become_probe();
  CHECK_FALSE(p.is_paused());
}

TEST_CASE("Progress::maybe_update moves match forward only") {
  Progress p(5, 4, false);
  CHECK(p.maybe_update(4));
  CHECK(p.match == 4);
  CHECK(p.next >= 5);
  CHECK_FALSE(p.maybe_update(3));  // stale acknowledgement
  CHECK(p.match == 4);
  CHECK_FALSE(p.maybe_update(4));  // duplicate
  CHECK(p.match == 4);
  CHECK(p.maybe_update(9));
  CHECK(p.match == 9);
  CHECK(p.next >= 10);  // nextIndex > matchIndex always
}

TEST_CASE("Progress replicate: next = match + 1, optimistic updates, inflight limit pauses") {
  Progress p(5, 2, false);
  REQUIRE(p.maybe_update(4));
  p.become_replicate();
  CHECK(p.state == Progress::State::kReplicate);
  CHECK(std::string(p.state_name()) == "replicate");
  CHECK(p.next == 5);
  CHECK_FALSE(p.is_paused());

  p.optimistic_update(7);
  p.inflights.add(7);
  CHECK(p.next == 8);
  CHECK_FALSE(p.is_paused());
  p.optimistic_update(9);
  p.inflights.add(9);
  CHECK(p.is_paused());  // two in flight, capacity 2

  CHECK(p.maybe_update(7));
  p.inflights.free_le(7);
  CHECK_FALSE(p.is_paused());
  CHECK(p.next == 10);  // the ack of 7 does not pull next back
}

TEST_CASE("Progress replicate: a rejection at or below match is stale and ignored") {
  Progress p(5, 8, false);
  REQUIRE(p.maybe_update(8));
  p.become_replicate();
  p.optimistic_update(12);
  REQUIRE(p.next == 13);

  CHECK_FALSE(p.maybe_decrease_to(7, 3));  // rejected <= match: an old reply
  CHECK(p.next == 13);
  CHECK(p.match == 8);
  CHECK_FALSE(p.maybe_decrease_to(8, 3));
  CHECK(p.next == 13);

  // A real rejection above match moves next back, never to or below match.
  CHECK(p.maybe_decrease_to(12, 10));
  CHECK(p.match == 8);
  CHECK(p.next >= 9);
  CHECK(p.next <= 12);
}

TEST_CASE("Progress probe: only a rejection of the outstanding probe (next - 1) counts") {
  Progress p(10, 4, false);
  CHECK_FALSE(p.maybe_decrease_to(5, 2));  // not the probe we sent
  CHECK(p.next == 10);
  CHECK_FALSE(p.maybe_decrease_to(11, 2));
  CHECK(p.next == 10);

  p.probe_sent = true;
  CHECK(p.maybe_decrease_to(9, 3));  // the probe at prev index 9 was rejected
  CHECK(p.next < 10);
  CHECK(p.next >= 1);
  CHECK(p.next <= 4);          // the hint lets it skip back to (about) the hint, not one by one
  CHECK_FALSE(p.is_paused());  // a reply unpauses the probe

  // Never below 1, whatever the hint says.
  Progress q(2, 4, false);
  CHECK(q.maybe_decrease_to(1, 0));
  CHECK(q.next == 1);
}

TEST_CASE("Progress snapshot state: paused until the snapshot lands, then probe") {
  Progress p(3, 4, true);
  CHECK(p.learner);
  REQUIRE(p.maybe_update(2));
  p.become_snapshot(20);
  CHECK(p.state == Progress::State::kSnapshot);
  CHECK(std::string(p.state_name()) == "snapshot");
  CHECK(p.pending_snapshot == 20);
  CHECK(p.is_paused());

  CHECK(p.maybe_update(20));  // the follower acknowledged the snapshot
  p.become_probe();
  CHECK(p.state == Progress::State::kProbe);
  CHECK(p.next >= p.match + 1);
  CHECK(p.next == 21);
  CHECK_FALSE(p.is_paused());
}

TEST_CASE("Progress: become_probe from replicate restarts from match + 1 and clears inflights") {
  Progress p(5, 2, false);
  REQUIRE(p.maybe_update(6));
  p.become_replicate();
  p.optimistic_update(9);
  p.inflights.add(8);
  p.inflights.add(9);
  REQUIRE(p.is_paused());
  p.become_probe();
  CHECK(p.next == 7);
  CHECK(p.inflights.count() == 0);
  CHECK_FALSE(p.is_paused());
  p.become_replicate();
  CHECK(p.inflights.count() == 0);
}

}  // namespace
}  // namespace raftlock::raft
