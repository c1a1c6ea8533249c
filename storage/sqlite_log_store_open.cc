// SqliteLogStore, opening: the database, its schema, and loading the log into
// the in-memory view with every check that can catch a damaged file.
#include <set>
#include <string>
#include <utility>

#include "storage/log_rows.h"
#include "storage/schema.h"
#include "storage/sqlite_log_store.h"
#include "storage/wal_syncer.h"

namespace raftlock::storage {

using raft::Entry;
using raft::HardState;
using raft::Index;
using raft::NodeId;
using raft::SnapshotMeta;
using raft::Term;

namespace {

Status corruption(const std::string& path, const std::string& msg) {
  return Status(ErrorCode::kCorruption, path + ": " + msg);
}

}  // namespace

Result<std::unique_ptr<SqliteLogStore>> SqliteLogStore::open(const std::string& path) {
  return open(path, SqliteLogStoreOptions{});
}

Result<std::unique_ptr<SqliteLogStore>> SqliteLogStore::open(const std::string& path,
                                                             const SqliteLogStoreOptions& options) {
  DatabaseOptions db_options;
  db_options.busy_timeout_ms = options.busy_timeout_ms;
  Result<std::unique_ptr<Database>> db = Database::open(path, db_options);
  if (!db.is_ok()) return db.status();
  Status s = migrate(*db.value());
  if (!s.is_ok()) return s;
  Result<std::unique_ptr<LogStatements>> st = prepare_log_statements(*db.value());
  if (!st.is_ok()) return st.status();
  std::unique_ptr<SqliteLogStore> store(
      new SqliteLogStore(std::move(db).value(), std::move(st).value(), options));
  s = store->load();
  if (!s.is_ok()) return s;
  s = store->open_syncer();
  if (!s.is_ok()) return s;
  return store;
}

Status SqliteLogStore::open_syncer() {
  // Commits stop syncing; write() and the node's sync threads sync the WAL
  // through a descriptor of their own (wal_syncer.h). The WAL's name is
  // SQLite's own, so a database reached through a symbolic link is synced
  // where SQLite writes it.
  const std::string wal = db_->wal_path();
  if (wal.empty()) {
    return Status(ErrorCode::kIo, "open " + db_->path() + ": no WAL file name");
  }
  Result<std::shared_ptr<WalSyncer>> syncer = WalSyncer::open(wal);
  if (!syncer.is_ok()) return syncer.status();
  syncer_ = std::move(syncer).value();
  // SQLite would sync the WAL's directory at its own first sync of the WAL,
  // which no longer comes before the first checkpoint: the directory entry of
  // a new WAL file is made durable here, before any write counts as durable.
  Status dir = sync_parent_directory(wal);
  if (!dir.is_ok()) return dir;
  Status s = db_->exec("PRAGMA synchronous=NORMAL");
  if (!s.is_ok()) return s;
  const Result<std::int64_t> level = db_->query_int64("PRAGMA synchronous");
  if (!level.is_ok()) return level.status();
  if (*level != 1) {
    return Status(ErrorCode::kIo, "open " + db_->path() + ": synchronous is " +
                                      std::to_string(*level) + ", not NORMAL (1)");
  }
  return Status::ok();
}

Status SqliteLogStore::load() {
  Result<Statement> hs =
      db_->prepare("SELECT term, vote, commit_index FROM raft_hard_state WHERE id = 1");
  if (!hs.is_ok()) return hs.status();
  Result<bool> row = hs.value().step();
  if (!row.is_ok()) return row.status();
  if (*row) {
    hard_state_ = HardState{hs.value().column_uint64(0), hs.value().column_uint64(1),
                            hs.value().column_uint64(2)};
  }

  Result<Statement> snap = db_->prepare(
      "SELECT snapshot_index, term, voters, learners, length(data) FROM raft_snapshot "
      "WHERE id = 1");
  if (!snap.is_ok()) return snap.status();
  row = snap.value().step();
  if (!row.is_ok()) return row.status();
  SnapshotMeta meta;
  if (*row) {
    meta.index = snap.value().column_uint64(0);
    meta.term = snap.value().column_uint64(1);
    if (meta.index > kLogIndexMax) return corruption(db_->path(), "snapshot index is negative");
    Result<std::set<NodeId>> voters = decode_node_ids(snap.value().column_blob(2));
    if (!voters.is_ok()) {
      return corruption(db_->path(), "snapshot voters: " + voters.status().message());
    }
    Result<std::set<NodeId>> learners = decode_node_ids(snap.value().column_blob(3));
    if (!learners.is_ok()) {
      return corruption(db_->path(), "snapshot learners: " + learners.status().message());
    }
    meta.conf.voters = std::move(voters).value();
    meta.conf.learners = std::move(learners).value();
    snapshot_bytes_ = snap.value().column_uint64(4);
  }
  cache_.reset(meta);
  return load_entries();
}

// Checks the shape of the whole log and loads its terms, then reads the tail.
Status SqliteLogStore::load_entries() {
  Result<Statement> scan =
      db_->prepare("SELECT log_index, term, type FROM raft_log ORDER BY log_index");
  if (!scan.is_ok()) return scan.status();
  Term prev_term = cache_.snapshot_meta().term;
  for (;;) {
    const Result<bool> row = scan.value().step();
    if (!row.is_ok()) return row.status();
    if (!*row) break;
    const Index i = scan.value().column_uint64(0);
    const Term t = scan.value().column_uint64(1);
    const std::int64_t type = scan.value().column_int64(2);
    const Index want = cache_.last_index() + 1;
    if (i != want) {
      return corruption(db_->path(), "log entry at index " + std::to_string(i) + " where " +
                                         std::to_string(want) + " was expected");
    }
    if (t < prev_term) {
      return corruption(db_->path(), "log entry " + std::to_string(i) + " has term " +
                                         std::to_string(t) + ", lower than the term " +
                                         std::to_string(prev_term) + " before it");
    }
    if (!valid_entry_type(type)) {
      return corruption(db_->path(), "log entry " + std::to_string(i) + " has unknown type " +
                                         std::to_string(type));
    }
    cache_.push_term(i, t);
    prev_term = t;
  }
  if (cache_.last_index() == cache_.snapshot_meta().index) return Status::ok();
  Result<std::vector<Entry>> tail =
      read_entries(cache_.tail_load_from(), cache_.last_index() + 1, UINT64_MAX);
  if (!tail.is_ok()) return tail.status();
  cache_.append(tail.value());
  return Status::ok();
}

}  // namespace raftlock::storage
