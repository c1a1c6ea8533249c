#include "storage/database.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace raftlock::storage {

Status sqlite_error(int rc, std::string_view what, sqlite3* db) {
  const int primary = rc & 0xff;
  const ErrorCode code = (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
                             ? ErrorCode::kCorruption
                             : ErrorCode::kIo;
  std::string msg(what);
  msg += ": ";
  // The connection's message describes the most recent failure on it; when
  // there is no connection (open failed early) fall back to the code's text.
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (sqlite code " + std::to_string(rc) + ")";
  return Status(code, std::move(msg));
}

// --- Statement --------------------------------------------------------------

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

std::string_view Statement::sql() const {
  const char* s = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  return s != nullptr ? std::string_view(s) : std::string_view();
}

Status Statement::bind_int64(int param, std::int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, param, v);
  if (rc != SQLITE_OK) return sqlite_error(rc, "bind", db_);
  return Status::ok();
}

Status Statement::bind_blob(int param, std::string_view v) {
  // A null pointer would bind SQL NULL; an empty blob needs a non-null one.
  const char* p = v.data() != nullptr ? v.data() : "";
  const int rc = sqlite3_bind_blob64(stmt_, param, p, v.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) return sqlite_error(rc, "bind", db_);
  return Status::ok();
}

Status Statement::bind_text(int param, std::string_view v) {
  const char* p = v.data() != nullptr ? v.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, param, p, v.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) return sqlite_error(rc, "bind", db_);
  return Status::ok();
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(rc, "step '" + std::string(sql()) + "'", db_);
}

Status Statement::run() {
  ResetOnExit reset(*this);
  for (;;) {
    const Result<bool> r = step();
    if (!r.is_ok()) return r.status();
    if (!*r) return Status::ok();
  }
}

void Statement::reset() {
  // sqlite3_reset repeats the error of a failed step; that error was already
  // returned by step(), so it is not reported twice.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

int Statement::column_type(int col) const {
  return sqlite3_column_type(stmt_, col);
}

std::size_t Statement::column_bytes(int col) const {
  return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
}

std::string Statement::column_blob(int col) const {
  // sqlite3_column_blob before sqlite3_column_bytes, as the SQLite docs advise.
  const void* p = sqlite3_column_blob(stmt_, col);
  const std::size_t n = column_bytes(col);
  return p != nullptr ? std::string(static_cast<const char*>(p), n) : std::string();
}

std::string Statement::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const std::size_t n = column_bytes(col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

// --- Database ---------------------------------------------------------------

// A new database file is only durable once its directory entry is: fsync the
// directory that holds it. (SQLite syncs the -wal file's directory at its
// first sync of that file, which under synchronous=NORMAL is the first
// checkpoint: the log store syncs it itself, sqlite_log_store_open.cc.)
Status sync_parent_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Status(ErrorCode::kIo, "open directory " + dir.string() + ": " + std::strerror(errno));
  }
  const int rc = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  if (rc != 0) {
    return Status(ErrorCode::kIo,
                  "fsync directory " + dir.string() + ": " + std::strerror(saved_errno));
  }
  return Status::ok();
}

std::string Database::wal_path() const {
  const char* wal = sqlite3_filename_wal(sqlite3_db_filename(db_, "main"));
  return wal == nullptr ? std::string() : std::string(wal);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const DatabaseOptions& options) {
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, options.open_flags, nullptr);
  // The Database owns the handle from here on, even when opening failed.
  std::unique_ptr<Database> db(new Database(handle, path));
  if (rc != SQLITE_OK) return sqlite_error(rc, "open " + path, handle);
  const Status s = db->configure(options);
  if (!s.is_ok()) return s;
  return db;
}

Status Database::configure(const DatabaseOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);

  // WAL: readers do not block the writer, and a commit is one append (plus one
  // fsync) to the -wal file instead of a rollback journal dance.
  //
  // synchronous=FULL, not NORMAL: in WAL mode NORMAL does not fsync the WAL at
  // each commit, only at checkpoints, so the most recent committed
  // transactions can be lost on power loss (they are durable only after a
  // checkpoint). That would let a node forget a log entry it acknowledged to
  // the leader, or a vote it granted, and break Raft's safety (§5.2, §5.3).
  // With FULL, every commit fsyncs the WAL before it returns. The log store
  // turns its connection to NORMAL and syncs the WAL itself after each
  // durable write (the same fsync, sqlite_log_store.h), so that it can also
  // make writes whose sync runs on another thread (wal_syncer.h).
  Result<Statement> mode = prepare("PRAGMA journal_mode=WAL");
  if (!mode.is_ok()) return mode.status();
  const Result<bool> row = mode.value().step();
  if (!row.is_ok()) return row.status();
  const std::string journal_mode = *row ? mode.value().column_text(0) : std::string();
  mode.value().reset();
  if (journal_mode != "wal") {
    return Status(ErrorCode::kIo, "open " + path_ + ": could not enable WAL (journal_mode is '" +
                                      journal_mode + "')");
  }
  // wal_autocheckpoint: a checkpoint every 8192 WAL pages (32 MiB with 4 KiB
  // pages) instead of SQLite's 1000. Every commit appends whole pages to the
  // WAL, and the same few pages (the tail of the log, the state machine's
  // indexes) change in every batch: the rarer the checkpoint, the fewer copies
  // of them are written back to the database file. The price is a larger WAL
  // file and a longer recovery scan after a crash. A page cache of up to
  // 16 MiB keeps the hot pages of the log and of the state machine's tables
  // (100,000 locks are ~70 MiB on disk) without re-reading them.
  // journal_size_limit=-1 (SQLite's default, made explicit): the WAL file is
  // never shortened, so blocks preallocated for it stay (wal_prealloc.h).
  Status s = exec(
      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA wal_autocheckpoint=8192; "
      "PRAGMA journal_size_limit=-1; "
      "PRAGMA cache_size=-16384");
  if (!s.is_ok()) return s;
  const Result<std::int64_t> sync = query_int64("PRAGMA synchronous");
  if (!sync.is_ok()) return sync.status();
  if (*sync != 2) {
    return Status(ErrorCode::kIo,
                  "open " + path_ + ": synchronous is " + std::to_string(*sync) + ", not FULL (2)");
  }
  if ((options.open_flags & SQLITE_OPEN_CREATE) != 0) {
    s = sync_parent_directory(path_);
    if (!s.is_ok()) return s;
  }

  struct {
    Statement* stmt;
    const char* sql;
  } const control[] = {
      {&begin_deferred_, "BEGIN DEFERRED"},
      {&begin_immediate_, "BEGIN IMMEDIATE"},
      {&begin_exclusive_, "BEGIN EXCLUSIVE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
  };
  for (const auto& c : control) {
    Result<Statement> st = prepare_persistent(c.sql);
    if (!st.is_ok()) return st.status();
    *c.stmt = std::move(st).value();
  }
  return Status::ok();
}

Database::~Database() {
  // Finalize the cached statements first; close_v2 would otherwise keep the
  // connection alive as a zombie until they are.
  begin_deferred_ = Statement();
  begin_immediate_ = Statement();
  begin_exclusive_ = Statement();
  commit_ = Statement();
  rollback_ = Statement();
  sqlite3_close_v2(db_);
}

Status Database::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  Status s = sqlite_error(rc, "exec '" + sql + "'", db_);
  sqlite3_free(err);
  return s;
}

Result<Statement> Database::prepare(std::string_view sql) {
  return prepare_flags(sql, 0);
}

Result<Statement> Database::prepare_persistent(std::string_view sql) {
  return prepare_flags(sql, SQLITE_PREPARE_PERSISTENT);
}

Result<Statement> Database::prepare_flags(std::string_view sql, unsigned flags) {
  sqlite3_stmt* stmt = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(rc, "prepare '" + std::string(sql) + "'", db_);
  }
  if (stmt == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "prepare: no statement in '" + std::string(sql) + "'");
  }
  return Statement(db_, stmt);
}

Result<std::int64_t> Database::query_int64(std::string_view sql) {
  Result<Statement> st = prepare(sql);
  if (!st.is_ok()) return st.status();
  const Result<bool> row = st.value().step();
  if (!row.is_ok()) return row.status();
  if (!*row) return Status(ErrorCode::kUnavailable, "no row from '" + std::string(sql) + "'");
  return st.value().column_int64(0);
}

Status Database::begin(TransactionMode mode) {
  switch (mode) {
    case TransactionMode::kDeferred:
      return begin_deferred_.run();
    case TransactionMode::kImmediate:
      return begin_immediate_.run();
    case TransactionMode::kExclusive:
      return begin_exclusive_.run();
  }
  return Status(ErrorCode::kInvalidArgument, "begin: unknown transaction mode");
}

Status Database::commit() {
  return commit_.run();
}

Status Database::rollback() {
  return rollback_.run();
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

// --- Transaction ------------------------------------------------------------

Transaction::~Transaction() {
  // Only reached uncommitted on an error path, whose Status the caller is
  // already returning; a failed rollback adds nothing to it (SQLite rolls
  // back by itself when the connection closes).
  if (open_ && db_.in_transaction()) (void)db_.rollback();
}

Status Transaction::begin(TransactionMode mode) {
  const Status s = db_.begin(mode);
  open_ = s.is_ok();
  return s;
}

Status Transaction::commit() {
  const Status s = db_.commit();
  if (s.is_ok()) open_ = false;
  return s;
}

}  // namespace raftlock::storage
