#include "storage/log_rows.h"

#include <boost/endian/conversion.hpp>

#include <utility>

namespace raftlock::storage {

std::string encode_node_ids(const std::set<raft::NodeId>& ids) {
  std::string out(ids.size() * 8, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  for (const raft::NodeId id : ids) {
    boost::endian::store_big_u64(p, id);
    p += 8;
  }
  return out;
}

Result<std::set<raft::NodeId>> decode_node_ids(const std::string& blob) {
  if (blob.size() % 8 != 0) {
    return Status(ErrorCode::kCorruption,
                  std::to_string(blob.size()) + " bytes is not a whole number of node ids");
  }
  std::set<raft::NodeId> ids;
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  for (std::size_t k = 0; k < blob.size(); k += 8) {
    const raft::NodeId id = boost::endian::load_big_u64(p + k);
    if (!ids.empty() && id <= *ids.rbegin()) {
      return Status(ErrorCode::kCorruption, "node ids are not strictly ascending");
    }
    ids.insert(ids.end(), id);
  }
  return ids;
}

Result<std::unique_ptr<LogStatements>> prepare_log_statements(Database& db) {
  auto st = std::make_unique<LogStatements>();
  const std::pair<Statement*, const char*> sql[] = {
      {&st->insert_entry,
       "INSERT INTO raft_log (log_index, term, type, data) VALUES (?1, ?2, ?3, ?4)"},
      {&st->delete_from, "DELETE FROM raft_log WHERE log_index >= ?1"},
      {&st->delete_through, "DELETE FROM raft_log WHERE log_index <= ?1"},
      {&st->delete_all, "DELETE FROM raft_log"},
      {&st->put_hard_state,
       "INSERT OR REPLACE INTO raft_hard_state (id, term, vote, commit_index) "
       "VALUES (1, ?1, ?2, ?3)"},
      {&st->put_snapshot,
       "INSERT OR REPLACE INTO raft_snapshot "
       "(id, snapshot_index, term, voters, learners, data) VALUES (1, ?1, ?2, ?3, ?4, ?5)"},
      {&st->select_entries,
       "SELECT log_index, term, type, data FROM raft_log "
       "WHERE log_index >= ?1 AND log_index < ?2 ORDER BY log_index"},
      {&st->select_snapshot_data, "SELECT data FROM raft_snapshot WHERE id = 1"},
  };
  for (const auto& [stmt, text] : sql) {
    Result<Statement> prepared = db.prepare_persistent(text);
    if (!prepared.is_ok()) return prepared.status();
    *stmt = std::move(prepared).value();
  }
  return st;
}

}  // namespace raftlock::storage
