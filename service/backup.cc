#include "service/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/database.h"

namespace raftlock::service {

namespace fs = std::filesystem;

namespace {

struct Conn {
  sqlite3* db = nullptr;
  ~Conn() {
    if (db) sqlite3_close_v2(db);
  }
};

Status sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::kIo, "open " + path + " for fsync failed");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status(ErrorCode::kIo, "fsync " + path + " failed");
  return Status::ok();
}

std::int64_t scalar(sqlite3* db, const char* sql, std::int64_t fallback) {
  sqlite3_stmt* st = nullptr;
  std::int64_t v = fallback;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

std::string summary(sqlite3* db) {
  const std::int64_t applied = scalar(db, "SELECT applied_index FROM sm_meta WHERE id = 1", 0);
  const std::int64_t term =
      scalar(db,
             "SELECT max(coalesce((SELECT term FROM raft_hard_state WHERE id = 1), 0), "
             "coalesce((SELECT max(term) FROM raft_log), 0), "
             "coalesce((SELECT term FROM raft_snapshot WHERE id = 1), 0))",
             0);
  return "applied index " + std::to_string(applied) + ", term " + std::to_string(term) + ", " +
         std::to_string(scalar(db, "SELECT count(*) FROM sm_sessions", 0)) + " sessions, " +
         std::to_string(scalar(db, "SELECT count(*) FROM sm_locks", 0)) +
         " locks and elections, members " +
         std::to_string(scalar(db, "SELECT count(*) FROM sm_members", 0));
}

}  // namespace

Result<std::string> describe_database(const std::string& path) {
  Conn c;
  int rc = sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) return storage::sqlite_error(rc, "open " + path, c.db);
  sqlite3_busy_timeout(c.db, 5000);
  if (scalar(c.db, "SELECT count(*) FROM sqlite_master WHERE name = 'sm_meta'", -1) != 1)
    return Status(ErrorCode::kCorruption, path + " is not a raftlock node database");
  return summary(c.db);
}

Result<std::string> backup_database(const std::string& data_dir, const std::string& out) {
  const std::string src = (fs::path(data_dir) / "raftlock.db").string();
  std::error_code ec;
  if (!fs::exists(src, ec)) return Status(ErrorCode::kIo, "no database at " + src);
  if (fs::exists(out, ec)) return Status(ErrorCode::kConflict, out + " exists; not overwritten");
  const std::string tmp = out + ".partial";
  fs::remove(tmp, ec);

  Conn from, to;
  // Read-write without CREATE: a WAL reader may need to write the -shm index.
  int rc = sqlite3_open_v2(src.c_str(), &from.db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) return storage::sqlite_error(rc, "open " + src, from.db);
  sqlite3_busy_timeout(from.db, 5000);
  rc = sqlite3_open_v2(tmp.c_str(), &to.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) return storage::sqlite_error(rc, "create " + tmp, to.db);

  // All pages in one step: one read transaction, one consistent moment.
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(to.db, "main", from.db, "main");
    if (!b) return storage::sqlite_error(sqlite3_errcode(to.db), "backup init", to.db);
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) break;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt == 50) {
      fs::remove(tmp, ec);
      return storage::sqlite_error(rc, "backup of " + src, to.db);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  char* err = nullptr;
  rc = sqlite3_exec(to.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return storage::sqlite_error(rc, "journal_mode of " + tmp, to.db);
  sqlite3_stmt* st = nullptr;
  std::string check;
  if (sqlite3_prepare_v2(to.db, "PRAGMA quick_check", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    check = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  if (check != "ok") {
    fs::remove(tmp, ec);
    return Status(ErrorCode::kCorruption, "the copy failed its check: " + check);
  }
  const std::string what = summary(to.db);
  sqlite3_close_v2(to.db);
  to.db = nullptr;
  Status s = sync_path(tmp);
  if (!s) return s;
  fs::rename(tmp, out, ec);
  if (ec) return Status(ErrorCode::kIo, "rename " + tmp + " to " + out + ": " + ec.message());
  const fs::path dir = fs::absolute(out).parent_path();
  s = sync_path(dir.string());
  if (!s) return s;
  return "backup of " + src + " written to " + out + ": " + what;
}

}  // namespace raftlock::service
