#include "storage/schema.h"

#include <string>

namespace raftlock::storage {

namespace {

// Version 1: the Raft log. See sqlite_log_store.h for what the rows mean.
// Integers are SQLite's signed 64-bit; unsigned values (terms, node ids) are
// stored as the int64 with the same bits. STRICT makes SQLite refuse a value
// of the wrong type instead of silently converting it.
constexpr std::string_view kRaftLogV1 = R"sql(
CREATE TABLE raft_log (
  log_index INTEGER PRIMARY KEY,  -- the rowid: appends and range scans use the table b-tree
  term      INTEGER NOT NULL,
  type      INTEGER NOT NULL,     -- raft::EntryType
  data      BLOB NOT NULL
) STRICT;
CREATE TABLE raft_hard_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),  -- a single row
  term         INTEGER NOT NULL,
  vote         INTEGER NOT NULL,
  commit_index INTEGER NOT NULL
) STRICT;
CREATE TABLE raft_snapshot (
  id             INTEGER PRIMARY KEY CHECK (id = 1),  -- a single row
  snapshot_index INTEGER NOT NULL,
  term           INTEGER NOT NULL,
  voters         BLOB NOT NULL,  -- node ids, 8 bytes big-endian each, ascending
  learners       BLOB NOT NULL,  -- same encoding
  data           BLOB NOT NULL
) STRICT;
)sql";

// Version 2: the state machine (service/state_machine.h). Its applied index
// commits in the same transaction as the effects of the entries applied.
constexpr std::string_view kStateMachineV2 = R"sql(
CREATE TABLE sm_meta (
  id            INTEGER PRIMARY KEY CHECK (id = 1),  -- a single row
  applied_index INTEGER NOT NULL
) STRICT;
CREATE TABLE sm_members (
  id    INTEGER PRIMARY KEY,  -- node id
  peer  TEXT NOT NULL,        -- host:port of the peer protocol
  http  TEXT NOT NULL,        -- host:port of the HTTP API, '' if not known
  voter INTEGER NOT NULL
) STRICT;
CREATE TABLE sm_requests (
  req           TEXT PRIMARY KEY,  -- request id of an applied command
  applied_index INTEGER NOT NULL,
  result        TEXT NOT NULL      -- unused since version 3 ('')
) STRICT;
CREATE TABLE sm_sessions (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  ttl_ms        INTEGER NOT NULL,
  lock_delay_ms INTEGER NOT NULL,
  create_index  INTEGER NOT NULL,
  modify_index  INTEGER NOT NULL
) STRICT;
)sql";

// Version 3: locks and elections (service/lock_state.h), and an index for
// pruning sm_requests. One row per lock or
// election, its holders and FIFO waiters encoded in `data` (JSON, see
// LockState::encode_lock); a session's holds and waits are derived from them.
constexpr std::string_view kLocksV3 = R"sql(
CREATE TABLE sm_locks (
  key  TEXT PRIMARY KEY,  -- 'l/<name>' or 'e/<name>'
  data TEXT NOT NULL
) STRICT;
-- Pruning the request window deletes by index on every applied batch.
CREATE INDEX sm_requests_by_index ON sm_requests (applied_index);
)sql";

// Version 4: sm_requests keyed by the applied index. Its rows are inserted in
// index order, so a batch's inserts share the table's last page instead of
// touching a page of a random-keyed index each; duplicates are looked up in
// memory (service/request_window.h), so no index on `req` is kept.
constexpr std::string_view kRequestsByIndexV4 = R"sql(
CREATE TABLE sm_requests_v4 (
  applied_index INTEGER PRIMARY KEY,  -- the entry that carried the command
  req           TEXT NOT NULL,        -- its request id
  result        TEXT NOT NULL         -- unused ('')
) STRICT;
INSERT OR IGNORE INTO sm_requests_v4 (applied_index, req, result)
  SELECT applied_index, req, result FROM sm_requests;
DROP TABLE sm_requests;
ALTER TABLE sm_requests_v4 RENAME TO sm_requests;
)sql";

constexpr Migration kNodeMigrations[] = {
    {1, "raft log, hard state, snapshot", kRaftLogV1},
    {2, "state machine: meta, members, requests, sessions", kStateMachineV2},
    {3, "state machine: locks and elections", kLocksV3},
    {4, "state machine: requests keyed by applied index", kRequestsByIndexV4},
};

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT";

}  // namespace

std::span<const Migration> node_migrations() {
  return kNodeMigrations;
}

int latest_schema_version() {
  return node_migrations().back().version;
}

Result<int> schema_version(Database& db) {
  const Result<std::int64_t> has_table = db.query_int64(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  if (!has_table.is_ok()) return has_table.status();
  if (*has_table == 0) return 0;
  Result<Statement> st = db.prepare(
      "SELECT count(*), coalesce(min(version), 0), coalesce(max(version), 0) "
      "FROM schema_version");
  if (!st.is_ok()) return st.status();
  const Result<bool> row = st.value().step();
  if (!row.is_ok()) return row.status();
  const std::int64_t count = st.value().column_int64(0);
  const std::int64_t min = st.value().column_int64(1);
  const std::int64_t max = st.value().column_int64(2);
  if (count == 0) return 0;
  if (min != 1 || max != count || max > INT32_MAX) {
    return Status(ErrorCode::kCorruption, db.path() + ": schema_version holds " +
                                              std::to_string(count) + " rows from version " +
                                              std::to_string(min) + " to " + std::to_string(max) +
                                              ", expected exactly 1.." + std::to_string(count));
  }
  return static_cast<int>(max);
}

namespace {

Status refuse_newer(const Database& db, int found, int latest) {
  return Status(ErrorCode::kConflict,
                db.path() + ": database schema version " + std::to_string(found) +
                    " is newer than the latest this raftlock build knows (" +
                    std::to_string(latest) +
                    "); it was written by a newer raftlock, refusing to open it");
}

Status apply_one(Database& db, const Migration& m, int latest) {
  Transaction tx(db);
  // IMMEDIATE takes the write lock now, so the version read below cannot be
  // changed by another connection migrating at the same time.
  Status s = tx.begin(TransactionMode::kImmediate);
  if (!s.is_ok()) return s;
  const Result<int> current = schema_version(db);
  if (!current.is_ok()) return current.status();
  if (*current > latest) return refuse_newer(db, *current, latest);
  if (*current >= m.version) return Status::ok();  // another connection applied it
  s = db.exec(std::string(m.sql));
  if (!s.is_ok()) {
    return Status(s.code(), "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                                "): " + s.message());
  }
  Result<Statement> record = db.prepare("INSERT INTO schema_version (version, name) VALUES (?, ?)");
  if (!record.is_ok()) return record.status();
  s = record.value().bind_int64(1, m.version);
  if (s.is_ok()) s = record.value().bind_text(2, m.name);
  if (s.is_ok()) s = record.value().run();
  if (!s.is_ok()) return s;
  return tx.commit();
}

}  // namespace

Status migrate(Database& db, std::span<const Migration> migrations) {
  for (std::size_t k = 0; k < migrations.size(); ++k) {
    if (migrations[k].version != static_cast<int>(k + 1)) {
      return Status(ErrorCode::kInvalidArgument, "migration at position " + std::to_string(k) +
                                                     " has version " +
                                                     std::to_string(migrations[k].version) +
                                                     ", expected " + std::to_string(k + 1));
    }
  }
  const int latest = static_cast<int>(migrations.size());
  const Result<int> current = schema_version(db);
  if (!current.is_ok()) return current.status();
  // Checked before anything is written, so a newer file is left as it was.
  if (*current > latest) return refuse_newer(db, *current, latest);
  if (*current == latest) return Status::ok();

  const Status s = db.exec(std::string(kCreateVersionTable));
  if (!s.is_ok()) return s;
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    const Status applied = apply_one(db, m, latest);
    if (!applied.is_ok()) return applied;
  }
  return Status::ok();
}

}  // namespace raftlock::storage
