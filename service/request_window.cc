#include "service/request_window.h"

#include "raft/assert.h"

namespace raftlock::service {

std::optional<raft::Index> RequestWindow::find(const std::string& req) const {
  auto it = by_req_.find(req);
  if (it == by_req_.end()) return std::nullopt;
  return it->second;
}

void RequestWindow::add(std::string req, raft::Index index) {
  RAFTLOCK_ASSERT_MSG(by_index_.empty() || by_index_.back().first < index,
                      "request ids added out of index order");
  // A request id is applied once; a second copy would have been found first.
  by_index_.emplace_back(index, std::move(req));
  by_req_.emplace(std::string_view(by_index_.back().second), index);
}

bool RequestWindow::prune_through(raft::Index index) {
  bool any = false;
  while (!by_index_.empty() && by_index_.front().first <= index) {
    auto it = by_req_.find(std::string_view(by_index_.front().second));
    if (it != by_req_.end() && it->second == by_index_.front().first) by_req_.erase(it);
    by_index_.pop_front();
    any = true;
  }
  return any;
}

void RequestWindow::clear() {
  by_req_.clear();
  by_index_.clear();
}

}  // namespace raftlock::service
