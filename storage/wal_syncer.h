// WalSyncer: the sync half of SqliteLogStore's pipelined writes
// (raft::LogStore::write_ordered, raft::WriteSyncer).
//
// write_ordered commits its transaction with synchronous=NORMAL: SQLite
// appends the frames to the WAL file and does not fsync it. WalSyncer keeps a
// descriptor of its own on that file and fdatasyncs it, on the node's sync
// threads, while the node's thread goes on writing. An fdatasync makes durable
// every byte written to the file before it was called, through any
// descriptor, so one sync covers every transaction committed before it. Two
// syncs may run at once (the disk serves concurrent flushes: fsync_probe
// figures in docs/bench.md).
//
// After a crash SQLite recovers the WAL's frames up to the last valid commit
// frame (salts and a cumulative checksum chain the frames): a prefix of the
// commits, at least every one a finished sync covered. Checkpoints, which
// copy frames into the database file and then write the WAL again from its
// start, still fsync under NORMAL (the WAL before, the database after), so
// no commit a sync covered is lost when its frames are overwritten.
//
// REQUIRES: the WAL file stays the same file while the store is open: SQLite
// unlinks it only when the last connection closes (and not even then once
// told to keep it: keep_wal_on_close). sync() checks that the file it syncs
// still has a name (a link count above zero) and fails otherwise.
#pragma once

#include <memory>
#include <string>

#include "raft/log_store.h"
#include "raft/result.h"

namespace raftlock::storage {

class WalSyncer final : public raft::WriteSyncer {
 public:
  // Opens the WAL file at `wal_path` (the one SQLite names for the
  // connection: sqlite3_filename_wal, which follows symbolic links as SQLite
  // does). kIo if it does not exist or cannot be opened.
  static Result<std::shared_ptr<WalSyncer>> open(const std::string& wal_path);
  ~WalSyncer() override;
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  Status sync() override;
  void start() noexcept override;

 private:
  WalSyncer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace raftlock::storage
