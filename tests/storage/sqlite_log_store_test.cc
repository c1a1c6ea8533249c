// SqliteLogStore: the shared LogStore conformance suite (with and without the
// in-memory tail, each test reopening the database file for real), then what
// only a store on disk has: corruption found at open, SQLite failures
// reported as kIo, and the checks it adds to MemoryLogStore's.
#include "storage/sqlite_log_store.h"

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "raft/memory_log_store.h"
#include "storage/database.h"
#include "tests/storage/crash_workload.h"
#include "tests/storage/open_store.h"
#include "tests/storage/temp_dir.h"
#include "tests/unit/log_store_conformance.h"

namespace {

using raftlock::raft::LogStore;
using raftlock::storage::SqliteLogStore;
using raftlock::storage::SqliteLogStoreOptions;
using raftlock::storage::testing::TempDir;

// Each factory owns a fresh directory; reopen() closes the store (the
// connection and its WAL) and opens the file again, as a restarted node does.
template <std::size_t kTailEntries>
struct SqliteFactory {
  TempDir dir;

  std::unique_ptr<LogStore> open() {
    SqliteLogStoreOptions options;
    options.tail_cache_entries_max = kTailEntries;
    auto store = SqliteLogStore::open(dir.file("node.db"), options);
    INFO(store.status().to_string());
    REQUIRE(store.is_ok());
    return std::move(store).value();
  }
  std::unique_ptr<LogStore> reopen(std::unique_ptr<LogStore> store) {
    store.reset();
    return open();
  }
};

// Default options: recent entries are served from memory.
using SqliteLogStoreFactory = SqliteFactory<SqliteLogStoreOptions{}.tail_cache_entries_max>;
// No tail: every entries() call reads SQLite.
using SqliteLogStoreNoTailFactory = SqliteFactory<0>;

}  // namespace

TYPE_TO_STRING(SqliteLogStoreFactory);
TYPE_TO_STRING(SqliteLogStoreNoTailFactory);
RAFTLOCK_LOG_STORE_CONFORMANCE(SqliteLogStoreFactory);
RAFTLOCK_LOG_STORE_CONFORMANCE(SqliteLogStoreNoTailFactory);

namespace raftlock::storage {
namespace {

using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::StorageWrite;
using raft::log_store_conformance::append_write;
using raft::log_store_conformance::check_contents;
using raft::log_store_conformance::ent;
using raft::log_store_conformance::ents;
using raft::log_store_conformance::Expected;
using raft::log_store_conformance::kNoLimit;
using raft::log_store_conformance::snap;
using raft::log_store_conformance::write_ok;

using testing::open_ok;

void exec_ok(const std::string& path, const std::string& sql) {
  auto db = Database::open(path);
  REQUIRE(db.is_ok());
  const Status s = db.value()->exec(sql);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
}

TEST_CASE("sqlite log store: a log longer than the tail reads back from SQLite") {
  TempDir dir;
  SqliteLogStoreOptions options;
  options.tail_cache_entries_max = 100;
  options.tail_cache_bytes_max = 4000;  // about 40 of these entries
  auto store = open_ok(dir.file("node.db"), options);
  Expected want;
  for (raft::Index first = 1; first <= 3000; first += 64) {
    std::vector<Entry> batch = ents(first, std::vector<raft::Term>(64, 1 + first / 1000));
    write_ok(*store, append_write(batch));
    want.entries.insert(want.entries.end(), batch.begin(), batch.end());
  }
  check_contents(*store, want);
  // Ranges that start before the tail, inside it, and straddle it.
  const raft::Index last = store->last_index();
  CHECK(*store->entries(10, 20, kNoLimit) ==
        std::vector<Entry>(&want.entries[9], &want.entries[19]));
  CHECK(*store->entries(last - 5, last + 1, kNoLimit) ==
        std::vector<Entry>(want.entries.end() - 6, want.entries.end()));
  CHECK(store->entries(last - 200, last + 1, kNoLimit)->size() == 201);
  CHECK(store->entries(last - 200, last + 1, 0)->size() == 1);
  store.reset();
  store = open_ok(dir.file("node.db"), options);
  check_contents(*store, want);
}

// A random history (the crash test's workload: appends, suffix overwrites,
// compactions, installed snapshots) against MemoryLogStore, with a tail small
// enough that reads go to memory, to SQLite, and across both.
TEST_CASE("sqlite log store: matches MemoryLogStore over a random history") {
  TempDir dir;
  SqliteLogStoreOptions options;
  options.tail_cache_entries_max = 24;
  options.tail_cache_bytes_max = 3000;
  auto store = open_ok(dir.file("node.db"), options);
  raft::MemoryLogStore model;
  std::mt19937_64 rng(20240611);
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    const StorageWrite w = crash::to_write(crash::next_write(model, rng));
    write_ok(model, w);
    write_ok(*store, w);
    if (round % 50 == 49) store = open_ok(dir.file("node.db"), options);
    REQUIRE(store->initial_state().hard_state == model.initial_state().hard_state);
    REQUIRE(store->initial_state().snapshot == model.initial_state().snapshot);
    REQUIRE(store->first_index() == model.first_index());
    REQUIRE(store->last_index() == model.last_index());
    for (int k = 0; k < 8; ++k) {
      const raft::Index span = model.last_index() - model.first_index() + 2;
      const raft::Index lo = model.first_index() + rng() % span;
      const raft::Index hi = lo + rng() % (model.last_index() + 2 - lo);
      const std::uint64_t max_bytes = rng() % 4 == 0 ? kNoLimit : rng() % 2000;
      INFO("entries(" << lo << ", " << hi << ", " << max_bytes << ")");
      const auto got = store->entries(lo, hi, max_bytes);
      REQUIRE(got.is_ok());
      CHECK(*got == *model.entries(lo, hi, max_bytes));
      CHECK(store->term(lo - 1).value() == model.term(lo - 1).value());
    }
  }
  CHECK(store->snapshot() == model.snapshot());
}

TEST_CASE("sqlite log store: damaged rows are kCorruption at open") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  {
    auto store = open_ok(path);
    write_ok(*store, append_write(ents(1, {1, 1, 2, 2, 3, 3})));
    StorageWrite c;
    c.compact = snap(2, 1);
    write_ok(*store, c);
  }
  auto expect_corruption = [&](const std::string& sql, const std::string& needle) {
    exec_ok(path, sql);
    auto store = SqliteLogStore::open(path);
    INFO(store.status().to_string());
    CHECK(store.code() == ErrorCode::kCorruption);
    CHECK(store.status().message().find(needle) != std::string::npos);
  };
  SUBCASE("a missing entry") {
    expect_corruption("DELETE FROM raft_log WHERE log_index = 4", "index 5 where 4");
  }
  SUBCASE("a missing first entry after the snapshot") {
    expect_corruption("DELETE FROM raft_log WHERE log_index = 3", "index 4 where 3");
  }
  SUBCASE("an entry the snapshot covers") {
    expect_corruption("INSERT INTO raft_log VALUES (2, 1, 1, x'00')", "index 2 where 3");
  }
  SUBCASE("a term that goes down") {
    expect_corruption("UPDATE raft_log SET term = 1 WHERE log_index = 5", "lower than");
  }
  SUBCASE("an unknown entry type") {
    expect_corruption("UPDATE raft_log SET type = 9 WHERE log_index = 4", "unknown type");
  }
  SUBCASE("a configuration blob of the wrong size") {
    expect_corruption("UPDATE raft_snapshot SET voters = x'0102'", "voters");
  }
}

TEST_CASE("sqlite log store: a file that is not a database is kCorruption") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto store = SqliteLogStore::open(path);
  INFO(store.status().to_string());
  CHECK(store.code() == ErrorCode::kCorruption);
}

TEST_CASE("sqlite log store: a failed write is kIo and changes nothing") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  SqliteLogStoreOptions options;
  options.busy_timeout_ms = 20;
  auto store = open_ok(path, options);
  write_ok(*store, append_write(ents(1, {1, 1})));
  const Expected before{{}, ents(1, {1, 1}), {}};

  // Another connection holds the write lock, so the store's BEGIN IMMEDIATE
  // times out: SQLITE_BUSY, which the store must report as kIo.
  auto other = Database::open(path);
  REQUIRE(other.is_ok());
  REQUIRE(other.value()->begin(TransactionMode::kExclusive).is_ok());
  StorageWrite w = append_write(ents(2, {2, 2, 2}));
  w.hard_state = HardState{2, 1, 1};
  w.compact = snap(1, 1);
  const Status s = store->write(w);
  INFO(s.to_string());
  CHECK(s.code() == ErrorCode::kIo);
  check_contents(*store, before);  // the in-memory view did not move either

  REQUIRE(other.value()->rollback().is_ok());
  write_ok(*store, w);
  const Expected after{snap(1, 1), ents(2, {2, 2, 2}), HardState{2, 1, 1}};
  check_contents(*store, after);
  store.reset();
  check_contents(*open_ok(path), after);
}

TEST_CASE("sqlite log store: refuses writes that would store an invalid log") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  auto store = open_ok(path);
  write_ok(*store, append_write(ents(1, {1, 2, 2})));
  const Expected before{{}, ents(1, {1, 2, 2}), {}};
  auto expect_rejected = [&](const StorageWrite& w) {
    const Status s = store->write(w);
    INFO(s.to_string());
    CHECK(s.code() == ErrorCode::kInvalidArgument);
    check_contents(*store, before);
  };
  SUBCASE("terms going down inside the write") {
    expect_rejected(append_write(ents(4, {3, 2})));
  }
  SUBCASE("a first term below the entry before it") {
    expect_rejected(append_write(ents(3, {1})));
  }
  SUBCASE("a compaction with another term than its entry's") {
    StorageWrite w;
    w.compact = snap(2, 1);
    expect_rejected(w);
  }
  SUBCASE("an unknown entry type") {
    Entry e = ent(4, 2);
    e.type = static_cast<EntryType>(7);
    expect_rejected(append_write({e}));
  }
  SUBCASE("an index SQLite cannot order") {
    StorageWrite w;
    w.install_snapshot = snap(raft::Index{1} << 63, 3);
    expect_rejected(w);
  }
  store.reset();
  check_contents(*open_ok(path), before);
}

}  // namespace
}  // namespace raftlock::storage
