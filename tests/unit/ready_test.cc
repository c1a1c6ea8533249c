// Ready::committed_durable_before_write: which committed entries a driver may
// apply before the Ready's own write (ready.h, step 4 early).
#include <doctest/doctest.h>

#include "raft/ready.h"

namespace raftlock::raft {
namespace {

Entry at(Index i) {
  Entry e;
  e.index = i;
  e.term = 1;
  return e;
}

TEST_CASE("ready: committed entries below the first written one are durable already") {
  Ready rd;
  CHECK(rd.committed_durable_before_write() == 0);
  rd.committed_entries = {at(3), at(4), at(5)};
  CHECK(rd.committed_durable_before_write() == 3);  // nothing written by this Ready
  rd.entries = {at(6), at(7)};
  CHECK(rd.committed_durable_before_write() == 3);
  rd.entries = {at(5), at(6)};  // 5 is committed and written by this very Ready
  CHECK(rd.committed_durable_before_write() == 2);
  rd.entries = {at(3)};
  CHECK(rd.committed_durable_before_write() == 0);
}

TEST_CASE("ready: nothing is applied early when a snapshot arrives") {
  Ready rd;
  rd.committed_entries = {at(3)};
  rd.snapshot = Snapshot{};
  CHECK(rd.committed_durable_before_write() == 0);
}

}  // namespace
}  // namespace raftlock::raft
