// Online backup of a node's database (docs/operations.md, "Backup").
#pragma once

#include <string>

#include "raft/result.h"

namespace raftlock::service {

// Copies DATA_DIR/raftlock.db to `out` with SQLite's online backup API: one
// read transaction, so the copy is the consistent state of one moment even
// while the node runs and writes (WAL readers do not block the writer). The
// copy is a single self-contained file (rollback journal mode), checked with
// PRAGMA quick_check, fsynced, then renamed into place. `out` must not exist.
// Returns a one-line summary (applied index, term, sessions, locks).
Result<std::string> backup_database(const std::string& data_dir, const std::string& out);

// What a backup file (or a data dir's database) holds, in one line; kIo or
// kCorruption when it cannot be read.
Result<std::string> describe_database(const std::string& path);

}  // namespace raftlock::service
