// Ready::committed_written_before: which committed entries a driver may
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
  CHECK(rd.committed_written_before() == 0);
  rd.committed_entries = {at(3), at(4), at(5)};
  CHECK(rd.committed_written_before() == 3);  // nothing written by this Ready
  rd.entries = {at(6), at(7)};
  CHECK(rd.committed_written_before() == 3);
  rd.entries = {at(5), at(6)};  // 5 is committed and written by this very Ready
  CHECK(rd.committed_written_before() == 2);
  rd.entries = {at(3)};
  CHECK(rd.committed_written_before() == 0);
}

TEST_CASE("ready: nothing is applied early when a snapshot arrives") {
  Ready rd;
  rd.committed_entries = {at(3)};
  rd.snapshot = Snapshot{};
  CHECK(rd.committed_written_before() == 0);
}

TEST_CASE("ready: the storage write taken out goes back whole") {
  Ready rd;
  rd.entries = {at(6), at(7)};
  rd.hard_state = HardState{3, 2, 5};
  rd.snapshot = Snapshot{};
  rd.snapshot->meta.index = 4;
  rd.snapshot->data = "image";
  rd.compact = Snapshot{};
  rd.compact->meta.index = 2;
  const StorageWrite copy = rd.storage_write();
  StorageWrite w = rd.take_storage_write();
  CHECK(w.entries.size() == 2);
  CHECK(w.install_snapshot->data == "image");
  CHECK(w.compact->meta.index == 2);
  CHECK(w.hard_state == copy.hard_state);
  CHECK(rd.hard_state.has_value());  // copied, not taken
  rd.put_back(std::move(w));
  const StorageWrite again = rd.storage_write();
  CHECK(again.entries == copy.entries);
  CHECK(again.install_snapshot->data == "image");
  CHECK(again.compact->meta.index == 2);
}

}  // namespace
}  // namespace raftlock::raft
