#include "service/restore.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "service/backup.h"
#include "service/sm_image.h"
#include "service/state_machine.h"
#include "storage/database.h"
#include "storage/sqlite_log_store.h"

namespace raftlock::service {

namespace fs = std::filesystem;

namespace {

// Copies the backup into `dst` with the backup API (the backup file is only read).
Status copy_database(const std::string& from, const std::string& dst) {
  sqlite3* src = nullptr;
  sqlite3* out = nullptr;
  int rc = sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READONLY, nullptr);
  Status s = Status::ok();
  if (rc != SQLITE_OK) s = storage::sqlite_error(rc, "open " + from, src);
  if (s) {
    rc = sqlite3_open_v2(dst.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) s = storage::sqlite_error(rc, "create " + dst, out);
  }
  if (s) {
    sqlite3_backup* b = sqlite3_backup_init(out, "main", src, "main");
    rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(out);
    if (b) sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) s = storage::sqlite_error(rc, "copy " + from, out);
  }
  if (out) sqlite3_close_v2(out);
  if (src) sqlite3_close_v2(src);
  return s;
}

// The state machine's tables become a snapshot at `index` of a one-voter
// configuration; the log before it is dropped.
Result<std::string> make_single_node(const DaemonOptions& o, const std::string& path) {
  auto store = storage::SqliteLogStore::open(path);
  if (!store) return store.status();
  auto sm = SqliteStateMachine::open(path);
  if (!sm) return sm.status();
  const raft::Index applied = (*sm)->applied_index();
  const raft::Index last = (*store)->last_index();
  const raft::InitialState init = (*store)->initial_state();
  raft::Term term = std::max(init.hard_state.term, init.snapshot.term);
  if (auto t = (*store)->term(last); t) term = std::max(term, *t);
  term = std::max<raft::Term>(term, 1);
  const raft::Index index = std::max(applied, last) + o.restore_index_gap;

  auto db = storage::Database::open(path);
  if (!db) return db.status();
  // bind_text does not copy: the strings outlive the statement's run.
  const std::string peer =
      (o.initial_cluster.count(o.id) ? o.initial_cluster.at(o.id) : o.listen_peer).to_string();
  const std::string http = o.listen_http.to_string();
  {
    storage::Transaction tx(**db);
    Status s = tx.begin();
    if (s) s = (*db)->exec("DELETE FROM sm_members");
    auto ins =
        (*db)->prepare("INSERT INTO sm_members (id, peer, http, voter) VALUES (?1, ?2, ?3, 1)");
    if (s) s = ins.status();
    if (s) s = ins.value().bind_uint64(1, o.id);
    if (s) s = ins.value().bind_text(2, peer);
    if (s) s = ins.value().bind_text(3, http);
    if (s) s = ins.value().run();
    if (s) s = tx.commit();
    if (!s) return s;
  }
  raft::Snapshot snap;
  snap.meta.index = index;
  snap.meta.term = term;
  snap.meta.conf.voters.insert(o.id);
  snap.data = build_sm_image(**db, index);
  if (snap.data.empty()) return Status(ErrorCode::kIo, "could not read the backup's state");
  raft::StorageWrite w;
  w.install_snapshot = snap;
  w.hard_state = raft::HardState{term, raft::kNoNode, index};
  Status s = (*store)->write(w);
  if (!s) return s;
  (*sm)->restore(snap);  // the tables from the image, applied index = index
  return "one-node cluster of node " + std::to_string(o.id) +
         " restored: the backup's state at index " + std::to_string(applied) + " now at index " +
         std::to_string(index) + ", term " + std::to_string(term);
}

Result<std::string> seed_member(const DaemonOptions& o, const std::string& path) {
  auto store = storage::SqliteLogStore::open(path);  // checks the log
  if (!store) return store.status();
  auto sm = SqliteStateMachine::open(path);
  if (!sm) return sm.status();
  for (const Member& m : (*sm)->members()) {
    if (m.id == o.id) {
      return Status(ErrorCode::kInvalidArgument,
                    "node " + std::to_string(o.id) +
                        " is a member in this backup: a seeded node needs a new --id");
    }
  }
  return "new member " + std::to_string(o.id) + " seeded from the backup at index " +
         std::to_string((*sm)->applied_index()) +
         ": start it with --join, then add it (raftlockctl members add)";
}

}  // namespace

Result<std::string> restore_data_dir(const DaemonOptions& o) {
  std::error_code ec;
  if (!fs::is_regular_file(o.restore_from, ec))
    return Status(ErrorCode::kIo, "--restore-from: no file " + o.restore_from);
  auto what = describe_database(o.restore_from);  // refuses files that are no node database
  if (!what) return what.status();
  fs::create_directories(o.data_dir, ec);
  if (ec)
    return Status(ErrorCode::kIo, "cannot create --data-dir " + o.data_dir + ": " + ec.message());
  const std::string path = (fs::path(o.data_dir) / "raftlock.db").string();
  if (fs::exists(path, ec))
    return Status(ErrorCode::kConflict,
                  path + " exists: restore into an empty data dir (move the old one away)");
  Status s = copy_database(o.restore_from, path);
  Result<std::string> r =
      s ? (o.join ? seed_member(o, path) : make_single_node(o, path)) : Result<std::string>(s);
  if (!r) {
    for (const char* suffix : {"", "-wal", "-shm"})
      fs::remove(path + suffix, ec);
    return r.status();
  }
  return *r + " (backup: " + *what + ")";
}

}  // namespace raftlock::service
