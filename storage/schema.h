// The schema of raftlock's database file and the runner that brings a file up
// to date.
//
// One SQLite file per node holds the Raft log (sqlite_log_store.h) and, from
// migration 2 on, the state machine's tables, so that the state machine can
// store its applied index in the same transaction as its effects (DESIGN.md,
// "Durability"). Every component that opens the file calls migrate() first;
// it is idempotent and safe to call from several connections.
//
// The `schema_version` table lists every applied migration, one row each
// (version, name). Migrations are append-only: a released migration is never
// edited, reordered or removed; a change is a new migration at the end.
#pragma once

#include <span>
#include <string_view>

#include "raft/result.h"
#include "storage/database.h"

namespace raftlock::storage {

struct Migration {
  int version;            // 1, 2, 3, ...: position in the list, never reused
  std::string_view name;  // recorded in schema_version, for people reading the file
  std::string_view sql;   // one or more statements, run inside the migration's transaction
};

// The migrations of the node database, oldest first.
//   1: raft_log, raft_hard_state, raft_snapshot (SqliteLogStore)
// The state machine's tables go in as migration 2, appended in schema.cc.
std::span<const Migration> node_migrations();

// The version a fully migrated node database has: node_migrations().back().version.
int latest_schema_version();

// The highest applied version, 0 for a database without a schema_version
// table. kCorruption if the recorded versions are not exactly 1..n.
Result<int> schema_version(Database& db);

// Applies, in order, every migration of `migrations` newer than the
// database's version, each in its own IMMEDIATE transaction together with its
// schema_version row, so a crash leaves the file at some version, never
// between two. A database whose version is newer than the last migration
// (written by a newer raftlock) is refused with kConflict and left untouched.
// REQUIRES: migrations[k].version == k + 1.
Status migrate(Database& db, std::span<const Migration> migrations = node_migrations());

}  // namespace raftlock::storage
