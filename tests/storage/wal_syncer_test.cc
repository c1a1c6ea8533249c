// The WAL syncer of SqliteLogStore (wal_syncer.h): the connection commits
// without syncing, the syncer syncs SQLite's own WAL file (also when the
// database is reached through a symbolic link), an ordered write is seen at
// once and survives a reopen (also after start()), and a WAL file that lost
// its name fails the next sync instead of making nothing durable.
#include "storage/wal_syncer.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "storage/sqlite_log_store.h"
#include "storage/wal_prealloc.h"
#include "tests/storage/open_store.h"
#include "tests/storage/temp_dir.h"
#include "tests/unit/log_store_conformance.h"

namespace raftlock::storage {
namespace {

namespace fs = std::filesystem;
using raft::log_store_conformance::append_write;
using raft::log_store_conformance::ents;
using testing::open_ok;
using testing::TempDir;

std::int64_t synchronous_level(SqliteLogStore& store) {
  const Result<std::int64_t> level = store.database().query_int64("PRAGMA synchronous");
  REQUIRE(level.is_ok());
  return *level;
}

TEST_CASE("wal syncer: commits do not sync, the syncer does; ordered writes read back at once") {
  TempDir dir;
  auto store = open_ok(dir.file("node.db"));
  CHECK(synchronous_level(*store) == 1);  // NORMAL: the store syncs the WAL itself
  REQUIRE(store->syncer() != nullptr);
  REQUIRE(store->write(append_write(ents(1, {1, 1}))).is_ok());
  REQUIRE(store->write_ordered(append_write(ents(3, {2}))).is_ok());
  CHECK(store->last_index() == 3);  // seen before any sync
  REQUIRE(store->syncer()->sync().is_ok());
  CHECK(synchronous_level(*store) == 1);  // no write turned it back to FULL
  store.reset();
  store = open_ok(dir.file("node.db"));
  CHECK(store->last_index() == 3);
  CHECK(store->term(3).value() == 2);
}

// start() makes nothing durable by itself, and a reopen without a crash reads
// back what the page cache holds anyway: this checks that start() is harmless
// (the sync after it succeeds, the writes read back), not that it writes.
TEST_CASE("wal syncer: start() is harmless; the sync after it still succeeds") {
  TempDir dir;
  auto store = open_ok(dir.file("node.db"));
  REQUIRE(store->write_ordered(append_write(ents(1, {1, 1}))).is_ok());
  store->syncer()->start();
  REQUIRE(store->write_ordered(append_write(ents(3, {2}))).is_ok());
  store->syncer()->start();
  store->syncer()->start();  // nothing new: harmless
  REQUIRE(store->syncer()->sync().is_ok());
  store.reset();
  store = open_ok(dir.file("node.db"));
  CHECK(store->last_index() == 3);
  CHECK(store->term(3).value() == 2);
}

TEST_CASE(
    "wal syncer: a database reached through a symbolic link syncs (and preallocates) the WAL "
    "SQLite writes") {
  TempDir dir;
  fs::create_directory(dir.path() / "real");
  fs::create_directory(dir.path() / "links");
  const fs::path real = dir.path() / "real" / "node.db";
  const fs::path link = dir.path() / "links" / "node.db";
  {
    auto store = open_ok(real.string());  // create it
  }
  fs::create_symlink(real, link);
  auto store = open_ok(link.string());
  REQUIRE(store->write(append_write(ents(1, {1}))).is_ok());
  CHECK(fs::exists(real.string() + "-wal"));
  CHECK(!fs::exists(link.string() + "-wal"));
  REQUIRE(store->syncer()->sync().is_ok());
  // The connection names that file; preallocation goes there too.
  CHECK(fs::equivalent(store->database().wal_path(), real.string() + "-wal"));
  REQUIRE(preallocate_wal(store->database().wal_path(), 1 << 20).is_ok());
  CHECK(fs::file_size(real.string() + "-wal") >= (1u << 20));
  CHECK(!fs::exists(link.string() + "-wal"));
}

TEST_CASE("wal syncer: a WAL file unlinked under it fails the sync") {
  TempDir dir;
  const std::string db = dir.file("node.db");
  auto store = open_ok(db);
  REQUIRE(store->write(append_write(ents(1, {1}))).is_ok());
  Result<std::shared_ptr<WalSyncer>> syncer = WalSyncer::open(db + "-wal");
  REQUIRE(syncer.is_ok());
  CHECK(syncer.value()->sync().is_ok());
  REQUIRE(::unlink((db + "-wal").c_str()) == 0);
  const Status s = syncer.value()->sync();
  CHECK(s.code() == ErrorCode::kIo);
  CHECK(s.to_string().find("unlinked") != std::string::npos);
}

TEST_CASE("wal syncer: no WAL file, no syncer") {
  TempDir dir;
  const Result<std::shared_ptr<WalSyncer>> syncer = WalSyncer::open(dir.file("none.db-wal"));
  CHECK(syncer.status().code() == ErrorCode::kIo);
}

}  // namespace
}  // namespace raftlock::storage
