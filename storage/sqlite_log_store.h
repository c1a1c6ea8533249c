// SqliteLogStore: the durable raft::LogStore, kept in the node's SQLite file
// (schema.h, migration 1).
//
// On-disk format, one row per fact:
//   raft_log(log_index, term, type, data)   the entries after the snapshot,
//                                           exactly (snapshot index, last index]
//   raft_hard_state(term, vote, commit)     one row; absent = HardState{}
//   raft_snapshot(index, term, voters, learners, data)
//                                           one row; absent = no snapshot
// Unsigned 64-bit values are stored as the int64 with the same bits; indexes
// must stay below 2^63 so that SQLite orders them correctly.
//
// Crash cases: write() runs as one SQLite transaction followed by an
// fdatasync of the WAL file, so after a crash the file holds either
// everything a write() that returned ok put in it, or - for the write() the
// crash interrupted - all or none of it. One write() is one fsync of the WAL:
// the driver's group commit is one StorageWrite per Ready. write_ordered() is
// the same transaction without the fsync (pipelined writes, wal_syncer.h):
// SQLite's WAL keeps commits in order, so a crash keeps a prefix of them.
// The connection runs with synchronous=NORMAL (commits do not sync; the
// store syncs the WAL itself, through syncer(), which is exactly what FULL
// would do at each commit); checkpoints still sync the WAL and the database. open() checks the rows
// it loads (consecutive indexes after the snapshot, non-decreasing terms, known entry types, well
// formed configurations) and reports kCorruption instead of starting a node
// on a damaged log.
//
// Reads served from memory (log_cache.h): first_index, last_index,
// initial_state, term(i) for every stored i, and entries() within the most
// recent tail. entries() further back and snapshot() read SQLite.
//
// Not thread-safe: the driver thread owns it, as it owns the Core.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raft/log_store.h"
#include "raft/result.h"
#include "raft/types.h"
#include "storage/database.h"
#include "storage/log_cache.h"

namespace raftlock::storage {

struct LogStatements;  // log_rows.h

struct SqliteLogStoreOptions {
  int busy_timeout_ms = 5000;
  // Limits of the in-memory tail of recent entries (log_cache.h).
  std::size_t tail_cache_entries_max = 4096;
  std::uint64_t tail_cache_bytes_max = std::uint64_t{16} << 20;
};

class SqliteLogStore final : public raft::LogStore {
 public:
  // Opens or creates the database file at `path`, migrates it to the latest
  // schema (schema.h) and loads the log. Errors: kIo (cannot open or read),
  // kCorruption (not a database, or rows that break the format above),
  // kConflict (schema written by a newer raftlock).
  static Result<std::unique_ptr<SqliteLogStore>> open(const std::string& path);
  static Result<std::unique_ptr<SqliteLogStore>> open(const std::string& path,
                                                      const SqliteLogStoreOptions& options);
  ~SqliteLogStore() override;

  raft::InitialState initial_state() const override;
  raft::Index first_index() const override;
  raft::Index last_index() const override;
  Result<raft::Term> term(raft::Index i) const override;
  // kIo if SQLite fails reading entries before the cached tail, kCorruption if
  // the rows read do not match what open() loaded.
  Result<std::vector<raft::Entry>> entries(raft::Index lo, raft::Index hi,
                                           std::uint64_t max_bytes) const override;
  // Reads the snapshot's data from SQLite. LogView gives this no error path,
  // so a failed read aborts the process, as a failed write() does.
  raft::Snapshot snapshot() const override;

  // Validates all of `w` first (kInvalidArgument, nothing applied), then
  // applies it in one transaction. Beyond MemoryLogStore's checks it also
  // refuses what would make the stored log invalid: entry terms that
  // decrease, a compaction whose term differs from its entry's, indexes at or
  // above 2^63, unknown entry types. Any SQLite failure is kIo (fatal: the
  // caller aborts; the in-memory view is left as it was before the write).
  Status write(const raft::StorageWrite& w) override;
  // The same transaction without the fsync; the WalSyncer of syncer() makes
  // it durable (wal_syncer.h). syncer() is never null.
  Status write_ordered(const raft::StorageWrite& w) override;
  std::shared_ptr<raft::WriteSyncer> syncer() override;

  // The connection, for the state machine to share (one page cache, no
  // re-reads of pages the other connection changed). REQUIRES: the sharer
  // never leaves a transaction open across calls into this store, and keeps
  // synchronous=NORMAL (its commits become durable with the store's next
  // sync, which covers the whole WAL).
  Database& database() { return *db_; }

 private:
  struct Plan;

  SqliteLogStore(std::unique_ptr<Database> db, std::unique_ptr<LogStatements> st,
                 const SqliteLogStoreOptions& options);
  Status open_syncer();
  Status load();
  Status load_entries();
  Status write_with(const raft::StorageWrite& w, bool durable);
  Status validate(const raft::StorageWrite& w, Plan* plan) const;
  Status apply(const raft::StorageWrite& w, const Plan& plan);
  Status put_snapshot(const raft::Snapshot& s);
  Result<std::vector<raft::Entry>> read_entries(raft::Index lo, raft::Index hi,
                                                std::uint64_t max_bytes) const;

  std::unique_ptr<Database> db_;
  // Used by const reads too: a statement is reset after each use, so running
  // one does not change what the store holds.
  std::unique_ptr<LogStatements> st_;
  LogCache cache_;
  raft::HardState hard_state_;
  std::uint64_t snapshot_bytes_ = 0;           // the stored snapshot's data (InitialState)
  std::shared_ptr<raft::WriteSyncer> syncer_;  // the WAL file's (open())
};

}  // namespace raftlock::storage
