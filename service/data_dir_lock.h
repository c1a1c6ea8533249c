// One raftlockd per data dir: an exclusive flock(2) on DATA_DIR/raftlockd.lock,
// held for the daemon's life. Two processes writing one node database would
// be two Raft nodes with one log; the second one is refused before it opens
// the database. The kernel releases the lock when the process exits, however
// it exits (kill -9 included), so a restart never finds a stale lock.
#pragma once

#include <memory>
#include <string>

#include "raft/result.h"

namespace raftlock::service {

class DataDirLock {
 public:
  // kConflict if another process holds the lock (the message names its pid),
  // kIo if the lock file cannot be opened.
  static Result<std::unique_ptr<DataDirLock>> acquire(const std::string& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace raftlock::service
