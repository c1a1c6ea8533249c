// MemoryLogStore against the LogStore conformance suite, plus what only the
// memory store has: the constructor from an initial snapshot.
#include "raft/memory_log_store.h"

#include <doctest/doctest.h>

#include <memory>

#include "tests/unit/log_store_conformance.h"

namespace {

using raftlock::raft::LogStore;
using raftlock::raft::MemoryLogStore;

// "Durable" for the memory store means "survives destroying the Core", so
// reopening is keeping the same object.
struct MemoryLogStoreFactory {
  std::unique_ptr<LogStore> open() { return std::make_unique<MemoryLogStore>(); }
  std::unique_ptr<LogStore> reopen(std::unique_ptr<LogStore> store) { return store; }
};

}  // namespace

TYPE_TO_STRING(MemoryLogStoreFactory);
RAFTLOCK_LOG_STORE_CONFORMANCE(MemoryLogStoreFactory);

namespace raftlock::raft {
namespace {

using log_store_conformance::append_write;
using log_store_conformance::check_contents;
using log_store_conformance::ents;
using log_store_conformance::Expected;
using log_store_conformance::snap;
using log_store_conformance::write_ok;

TEST_CASE("memory log store: starts from an initial snapshot") {
  MemoryLogStore store(snap(5, 2));
  // The snapshot is committed, so the hard state starts at its term and index.
  const HardState hs{2, kNoNode, 5};
  check_contents(store, Expected{snap(5, 2), {}, hs});

  write_ok(store, append_write(ents(6, {2, 3})));
  check_contents(store, Expected{snap(5, 2), ents(6, {2, 3}), hs});
  CHECK(store.write(append_write(ents(5, {3}))).code() == ErrorCode::kInvalidArgument);
  CHECK(store.write(append_write(ents(9, {3}))).code() == ErrorCode::kInvalidArgument);
  check_contents(store, Expected{snap(5, 2), ents(6, {2, 3}), hs});
}

TEST_CASE("memory log store: an empty initial snapshot is an empty store") {
  MemoryLogStore store(Snapshot{});
  check_contents(store, Expected{});
}

TEST_CASE("memory log store: entries() with lo > hi is an invalid argument") {
  MemoryLogStore store;
  write_ok(store, append_write(ents(1, {1, 1, 1})));
  CHECK(store.entries(3, 2, 100).code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftlock::raft
