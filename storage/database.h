// Database: a small RAII wrapper over one sqlite3 connection, returning
// Status/Result instead of throwing (STYLE.md, "Errors").
//
// Every database raftlock opens goes through Database::open, which puts the
// connection in the mode that durability needs (see database.cc): WAL journal,
// synchronous=FULL, a busy timeout, foreign keys off.
//
// A Database and its Statements are used by one thread at a time (the
// connection is opened with SQLITE_OPEN_NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "raft/result.h"

namespace raftlock::storage {

// The Status for a failed SQLite call: kCorruption for SQLITE_CORRUPT and
// SQLITE_NOTADB, kIo for everything else. `what` names the operation.
Status sqlite_error(int rc, std::string_view what, sqlite3* db);

// A prepared statement. Parameters are 1-based, columns 0-based (SQLite's
// conventions). Move-only; finalized on destruction.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool valid() const { return stmt_ != nullptr; }
  std::string_view sql() const;

  Status bind_int64(int param, std::int64_t v);
  // Stored as the int64 with the same bits; column_uint64 reads it back.
  Status bind_uint64(int param, std::uint64_t v) {
    return bind_int64(param, static_cast<std::int64_t>(v));
  }
  // The bytes are not copied. REQUIRES: `v` stays alive until reset().
  Status bind_blob(int param, std::string_view v);
  Status bind_text(int param, std::string_view v);

  // Runs the statement one step: true when a row is available, false when done.
  Result<bool> step();
  // Steps until done, ignoring rows, then resets. For INSERT/UPDATE/DELETE.
  Status run();
  // Makes the statement ready to run again and clears its bindings.
  void reset();

  // REQUIRES: the last step() returned true.
  std::int64_t column_int64(int col) const;
  std::uint64_t column_uint64(int col) const {
    return static_cast<std::uint64_t>(column_int64(col));
  }
  int column_type(int col) const;  // SQLITE_INTEGER, SQLITE_BLOB, SQLITE_NULL, ...
  std::size_t column_bytes(int col) const;
  std::string column_blob(int col) const;
  std::string column_text(int col) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when the scope ends, however it ends, so that a read
// statement never holds a snapshot of the database open by accident.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& s_;
};

struct DatabaseOptions {
  int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  // How long a statement waits for a lock held by another connection before
  // it fails with SQLITE_BUSY.
  int busy_timeout_ms = 5000;
};

// fsyncs the directory that holds `path`, so that a file created there (or
// its new name) survives a power loss. kIo on failure.
Status sync_parent_directory(const std::string& path);

enum class TransactionMode { kDeferred, kImmediate, kExclusive };

class Database {
 public:
  // Opens (or creates, with SQLITE_OPEN_CREATE) the database file at `path`
  // and configures the connection for durability. A file that is not a
  // database is kCorruption; other failures are kIo.
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more ';'-separated statements that return no rows.
  Status exec(const std::string& sql);
  // A statement to run once or a few times.
  Result<Statement> prepare(std::string_view sql);
  // A statement kept for the lifetime of the connection (hot paths).
  Result<Statement> prepare_persistent(std::string_view sql);
  // The first column of the first row of `sql`; kUnavailable when there is
  // no row.
  Result<std::int64_t> query_int64(std::string_view sql);

  // Transaction control, through statements prepared once at open.
  Status begin(TransactionMode mode);
  Status commit();
  Status rollback();
  bool in_transaction() const;

  const std::string& path() const { return path_; }
  // The WAL file's name as SQLite has it (after following symbolic links to
  // the database file); "" for a database without one.
  std::string wal_path() const;
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status configure(const DatabaseOptions& options);
  Result<Statement> prepare_flags(std::string_view sql, unsigned flags);

  sqlite3* db_;
  std::string path_;
  Statement begin_deferred_;
  Statement begin_immediate_;
  Statement begin_exclusive_;
  Statement commit_;
  Statement rollback_;
};

// A transaction that rolls back when it goes out of scope uncommitted, so an
// early `return status;` never leaves a transaction open.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status begin(TransactionMode mode = TransactionMode::kImmediate);
  Status commit();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace raftlock::storage
