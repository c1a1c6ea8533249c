// Core with pipelined writes (ready.h): the next Ready is taken once the
// previous one had advance_applied; advance_written comes later, in order.
// Entries replaced while their write is in flight never count as stable, and
// a leader counts itself toward a commit only for what advance_written
// reported.
#include "tests/unit/core_harness.h"

namespace raftlock::raft::test {
namespace {

// The ordered write of ready.h step 1 and the apply of step 2, without step 3.
void write_and_apply(Harness& h, Ready& rd) {
  CHECK_OK(h.store().write(rd.storage_write()));
  h.core().advance_applied(rd);
}

TEST_CASE(
    "pipelined: entries replaced while their write is in flight become stable only with the "
    "replacing write") {
  Harness h(2);  // a follower of {1, 2, 3}, log [1]
  REQUIRE(h.core().step(append_msg(1, 2, 2, 1, 1, {ent(2, 2), ent(3, 2)}, 1)).is_ok());
  Ready rd1 = h.core().ready();
  REQUIRE(rd1.entries.size() == 2);
  write_and_apply(h, rd1);
  // A leader of term 3 whose log differs from index 2 on, before rd1 is durable.
  REQUIRE(h.core().step(append_msg(3, 2, 3, 1, 1, {ent(2, 3)}, 1)).is_ok());
  REQUIRE(h.core().has_ready());
  Ready rd2 = h.core().ready();
  REQUIRE(rd2.entries.size() == 1);
  CHECK(rd2.entries[0].term == 3);
  write_and_apply(h, rd2);

  h.core().advance_written(rd1);  // its entries were replaced: nothing becomes stable
  CHECK(h.core().term_at(2).value() == 3);
  CHECK(h.status().last_index == 2);
  CHECK(!h.core().term_at(3).is_ok());
  h.core().advance_written(rd2);
  CHECK(h.core().term_at(2).value() == 3);
  CHECK(h.status().last_index == 2);
  CHECK(!h.core().has_ready());
  // Both acknowledgements were handed out, each for the log its Ready wrote.
  std::vector<Message> acks;
  for (const Message& m : rd1.messages)
    acks.push_back(m);
  for (const Message& m : rd2.messages)
    acks.push_back(m);
  REQUIRE(acks.size() == 2);
  CHECK((acks[0].to == 1 && acks[0].term == 2 && acks[0].index == 3));
  CHECK((acks[1].to == 3 && acks[1].term == 3 && acks[1].index == 2));
}

TEST_CASE(
    "pipelined: a write reported durable after its entries were replaced leaves the replacements "
    "unstable") {
  Harness h(2);
  REQUIRE(h.core().step(append_msg(1, 2, 2, 1, 1, {ent(2, 2), ent(3, 2)}, 1)).is_ok());
  Ready rd1 = h.core().ready();
  write_and_apply(h, rd1);
  // Entries 2 and 3 replaced by term-3 ones (same indexes) before rd1's sync
  // ends, and the sync ends before the replacing Ready is taken.
  REQUIRE(h.core().step(append_msg(3, 2, 3, 1, 1, {ent(2, 3), ent(3, 3)}, 1)).is_ok());
  h.core().advance_written(rd1);  // index 3 now holds term 3: not rd1's entry
  REQUIRE(h.core().has_ready());
  Ready rd2 = h.core().ready();
  REQUIRE(rd2.entries.size() == 2);  // still handed out: nothing wrote them yet
  CHECK(rd2.entries[0].term == 3);
  CHECK(rd2.entries[1].term == 3);
  write_and_apply(h, rd2);
  h.core().advance_written(rd2);
  CHECK(h.core().term_at(3).value() == 3);
  CHECK(h.store().term(3).value() == 3);
}

TEST_CASE("pipelined: a leader counts its own entries only once advance_written reports them") {
  Harness h(1, voters({1}));  // one voter: its own write commits
  h.elect();
  const Index base = h.status().commit;
  REQUIRE(h.status().last_index == base);
  REQUIRE(h.core().propose("a").is_ok());
  Ready rd1 = h.core().ready();
  write_and_apply(h, rd1);
  REQUIRE(h.core().propose("b").is_ok());
  Ready rd2 = h.core().ready();
  write_and_apply(h, rd2);
  CHECK(h.status().last_index == base + 2);
  CHECK(h.status().commit == base);  // both written, neither reported durable
  h.core().advance_written(rd1);
  CHECK(h.status().commit == base + 1);
  h.core().advance_written(rd2);
  CHECK(h.status().commit == base + 2);
  // The commits come out as committed entries of the next Ready, in order.
  Ready rd3 = h.core().ready();
  REQUIRE(rd3.committed_entries.size() == 2);
  CHECK(rd3.committed_entries[0].data == "a");
  CHECK(rd3.committed_entries[1].data == "b");
}

}  // namespace
}  // namespace raftlock::raft::test
