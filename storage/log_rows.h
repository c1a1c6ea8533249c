// The rows of the Raft log tables (schema.h, migration 1) as SqliteLogStore
// reads and writes them: its prepared statements, the encoding of the
// columns that are not plain integers, and the checks on loaded values.
// Internal to SqliteLogStore.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "raft/result.h"
#include "raft/types.h"
#include "storage/database.h"

namespace raftlock::storage {

// SQLite orders integers as signed 64-bit: a log index at or above 2^63 would
// sort before index 1, so the store refuses such indexes.
inline constexpr raft::Index kLogIndexMax = INT64_MAX;

// raft::entry_bytes() of an entry whose data is `data_bytes` long, known
// before the data is copied out of SQLite.
inline std::uint64_t entry_bytes_with_data(std::uint64_t data_bytes) {
  return raft::entry_bytes(raft::Entry{}) + data_bytes;
}

inline bool valid_entry_type(std::int64_t type) {
  return type == static_cast<std::int64_t>(raft::EntryType::kNoop) ||
         type == static_cast<std::int64_t>(raft::EntryType::kNormal) ||
         type == static_cast<std::int64_t>(raft::EntryType::kConfChange);
}

// Node ids as stored in raft_snapshot.voters/learners: 8 bytes big-endian
// each, ascending (the order of std::set).
std::string encode_node_ids(const std::set<raft::NodeId>& ids);
// kCorruption unless `blob` is a whole number of ids, strictly ascending.
Result<std::set<raft::NodeId>> decode_node_ids(const std::string& blob);

// The statements of the hot paths, prepared once per connection.
struct LogStatements {
  Statement insert_entry;    // ?1 index, ?2 term, ?3 type, ?4 data
  Statement delete_from;     // log_index >= ?1
  Statement delete_through;  // log_index <= ?1
  Statement delete_all;
  Statement put_hard_state;  // ?1 term, ?2 vote, ?3 commit
  Statement put_snapshot;    // ?1 index, ?2 term, ?3 voters, ?4 learners, ?5 data
  Statement select_entries;  // ?1 <= log_index < ?2, ascending
  Statement select_snapshot_data;
};

Result<std::unique_ptr<LogStatements>> prepare_log_statements(Database& db);

}  // namespace raftlock::storage
