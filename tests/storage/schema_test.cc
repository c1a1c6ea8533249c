// The database wrapper and the schema migration runner.
#include "storage/schema.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "storage/database.h"
#include "storage/sqlite_log_store.h"
#include "tests/storage/temp_dir.h"

namespace raftlock::storage {
namespace {

using testing::TempDir;

std::unique_ptr<Database> open_db(const std::string& path) {
  auto db = Database::open(path);
  INFO(db.status().to_string());
  REQUIRE(db.is_ok());
  return std::move(db).value();
}

std::int64_t query(Database& db, const std::string& sql) {
  const Result<std::int64_t> v = db.query_int64(sql);
  INFO(sql << ": " << v.status().to_string());
  REQUIRE(v.is_ok());
  return *v;
}

int version_of(Database& db) {
  const Result<int> v = schema_version(db);
  INFO(v.status().to_string());
  REQUIRE(v.is_ok());
  return *v;
}

// Two test migrations: the second one stands for "the state machine's tables
// arrive in a later release".
constexpr Migration kV1 = {1, "one", "CREATE TABLE t1 (x INTEGER); INSERT INTO t1 VALUES (1)"};
constexpr Migration kV2 = {2, "two", "CREATE TABLE t2 (x INTEGER); INSERT INTO t2 VALUES (2)"};
constexpr Migration kOnlyV1[] = {kV1};
constexpr Migration kV1V2[] = {kV1, kV2};

TEST_CASE("database: opened in WAL mode with synchronous=FULL and foreign keys off") {
  TempDir dir;
  auto db = open_db(dir.file("x.db"));
  Result<Statement> mode = db->prepare("PRAGMA journal_mode");
  REQUIRE(mode.is_ok());
  REQUIRE(*mode.value().step());
  CHECK(mode.value().column_text(0) == "wal");
  CHECK(query(*db, "PRAGMA synchronous") == 2);
  CHECK(query(*db, "PRAGMA foreign_keys") == 0);
}

TEST_CASE("database: statements, blobs and transactions") {
  TempDir dir;
  auto db = open_db(dir.file("x.db"));
  REQUIRE(db->exec("CREATE TABLE b (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").is_ok());
  Result<Statement> ins = db->prepare("INSERT INTO b (k, v) VALUES (?1, ?2)");
  REQUIRE(ins.is_ok());
  const std::string binary("\0a\xff\0", 4);
  REQUIRE(ins.value().bind_uint64(1, UINT64_MAX).is_ok());  // stored as -1
  REQUIRE(ins.value().bind_blob(2, binary).is_ok());
  REQUIRE(ins.value().run().is_ok());
  REQUIRE(ins.value().bind_int64(1, 2).is_ok());
  REQUIRE(ins.value().bind_blob(2, std::string_view()).is_ok());  // empty, not NULL
  REQUIRE(ins.value().run().is_ok());

  Result<Statement> sel = db->prepare("SELECT k, v FROM b ORDER BY k");
  REQUIRE(sel.is_ok());
  REQUIRE(*sel.value().step());
  CHECK(sel.value().column_uint64(0) == UINT64_MAX);
  CHECK(sel.value().column_blob(1) == binary);
  REQUIRE(*sel.value().step());
  CHECK(sel.value().column_type(1) == SQLITE_BLOB);
  CHECK(sel.value().column_blob(1).empty());
  CHECK_FALSE(*sel.value().step());
  sel.value().reset();

  {
    Transaction tx(*db);
    REQUIRE(tx.begin().is_ok());
    REQUIRE(db->exec("DELETE FROM b").is_ok());
  }  // not committed: rolled back
  CHECK_FALSE(db->in_transaction());
  CHECK(query(*db, "SELECT count(*) FROM b") == 2);

  const Result<Statement> bad = db->prepare("SELECT nope FROM b");
  CHECK(bad.code() == ErrorCode::kIo);
  CHECK(bad.status().message().find("no such column") != std::string::npos);
  CHECK(db->query_int64("SELECT k FROM b WHERE k = 7").code() == ErrorCode::kUnavailable);
}

TEST_CASE("schema: a fresh node database gets the latest version") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  auto db = open_db(path);
  CHECK(version_of(*db) == 0);
  REQUIRE(migrate(*db).is_ok());
  CHECK(version_of(*db) == latest_schema_version());
  CHECK(query(*db, "SELECT count(*) FROM schema_version") == latest_schema_version());
  CHECK(query(*db,
              "SELECT count(*) FROM sqlite_schema WHERE name IN "
              "('raft_log', 'raft_hard_state', 'raft_snapshot')") == 3);
  // Opening the log store on it migrates nothing and finds an empty log.
  auto store = SqliteLogStore::open(path);
  REQUIRE(store.is_ok());
  CHECK(store.value()->last_index() == 0);
  CHECK(query(*db, "SELECT count(*) FROM schema_version") == latest_schema_version());
}

TEST_CASE("schema: migrating again does not re-run applied migrations") {
  TempDir dir;
  const std::string path = dir.file("x.db");
  {
    auto db = open_db(path);
    REQUIRE(migrate(*db, kOnlyV1).is_ok());
    REQUIRE(migrate(*db, kOnlyV1).is_ok());
  }
  auto db = open_db(path);  // a restarted process
  REQUIRE(migrate(*db, kOnlyV1).is_ok());
  CHECK(query(*db, "SELECT count(*) FROM t1") == 1);
  CHECK(version_of(*db) == 1);

  // A later release appends migration 2: only that one runs.
  REQUIRE(migrate(*db, kV1V2).is_ok());
  CHECK(version_of(*db) == 2);
  CHECK(query(*db, "SELECT count(*) FROM t1") == 1);
  CHECK(query(*db, "SELECT count(*) FROM t2") == 1);
  Result<Statement> names = db->prepare("SELECT name FROM schema_version ORDER BY version");
  REQUIRE(names.is_ok());
  REQUIRE(*names.value().step());
  CHECK(names.value().column_text(0) == "one");
  REQUIRE(*names.value().step());
  CHECK(names.value().column_text(0) == "two");
}

TEST_CASE("schema: a database from a newer raftlock is refused and left as it was") {
  TempDir dir;
  const std::string path = dir.file("x.db");
  auto db = open_db(path);
  REQUIRE(migrate(*db, kV1V2).is_ok());
  const Status s = migrate(*db, kOnlyV1);
  INFO(s.to_string());
  CHECK(s.code() == ErrorCode::kConflict);
  CHECK(
      s.message().find("schema version 2 is newer than the latest this raftlock build knows (1)") !=
      std::string::npos);
  CHECK(version_of(*db) == 2);
}

TEST_CASE("schema: the log store refuses a node database with an unknown version") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  {
    auto store = SqliteLogStore::open(path);
    REQUIRE(store.is_ok());
  }
  auto db = open_db(path);
  const int future = latest_schema_version() + 1;
  REQUIRE(db->exec("INSERT INTO schema_version VALUES (" + std::to_string(future) +
                   ", 'from the future')")
              .is_ok());
  auto store = SqliteLogStore::open(path);
  INFO(store.status().to_string());
  CHECK(store.code() == ErrorCode::kConflict);
  CHECK(store.status().message().find("newer") != std::string::npos);
  CHECK(version_of(*db) == future);
}

TEST_CASE("schema: a failing migration is rolled back whole") {
  TempDir dir;
  auto db = open_db(dir.file("x.db"));
  constexpr Migration kBroken[] = {
      kV1, {2, "broken", "CREATE TABLE t2 (x INTEGER); INSERT INTO missing VALUES (1)"}};
  const Status s = migrate(*db, kBroken);
  INFO(s.to_string());
  CHECK(s.code() == ErrorCode::kIo);
  CHECK(s.message().find("migration 2 (broken)") != std::string::npos);
  CHECK(version_of(*db) == 1);  // migration 1 committed on its own
  CHECK(query(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 't2'") == 0);
  CHECK_FALSE(db->in_transaction());
}

TEST_CASE("schema: inconsistent version records and lists are errors") {
  TempDir dir;
  auto db = open_db(dir.file("x.db"));
  constexpr Migration kSkips[] = {kV1, {3, "three", "SELECT 1"}};
  CHECK(migrate(*db, kSkips).code() == ErrorCode::kInvalidArgument);
  CHECK(version_of(*db) == 0);

  REQUIRE(migrate(*db, kV1V2).is_ok());
  REQUIRE(db->exec("DELETE FROM schema_version WHERE version = 1").is_ok());
  CHECK(schema_version(*db).code() == ErrorCode::kCorruption);
  CHECK(migrate(*db, kV1V2).code() == ErrorCode::kCorruption);
}

}  // namespace
}  // namespace raftlock::storage
