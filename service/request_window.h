// RequestWindow: the request ids of the last commands applied, in memory.
//
// A command re-proposed after a leader change (or retried by its node) must
// take effect once: applying looks its request id up here, without a read
// of SQLite. The rows behind it (sm_requests, keyed by the applied index so
// a batch's inserts share the table's last page) are written by the state
// machine in the batch's transaction; this mirror is rebuilt from them on
// open and after a snapshot restore, and pruned at the same index on every
// node, so every replica decides "duplicate" alike.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "raft/types.h"

namespace raftlock::service {

class RequestWindow {
 public:
  RequestWindow() = default;
  // Not copyable: the keys are views into this object's own strings.
  RequestWindow(const RequestWindow&) = delete;
  RequestWindow& operator=(const RequestWindow&) = delete;

  // The index at which `req` was applied, if it still is in the window.
  std::optional<raft::Index> find(const std::string& req) const;
  // REQUIRES: index greater than every index added before.
  void add(std::string req, raft::Index index);
  // Forgets every request applied at or below `index`; true if any was.
  bool prune_through(raft::Index index);
  void clear();
  std::size_t size() const { return by_index_.size(); }

 private:
  // Keys are views of the strings in by_index_: a deque keeps its elements
  // in place when others are added or removed at its ends.
  std::unordered_map<std::string_view, raft::Index> by_req_;
  std::deque<std::pair<raft::Index, std::string>> by_index_;  // ascending
};

}  // namespace raftlock::service
