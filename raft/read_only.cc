#include "raft/read_only.h"

namespace raftlock::raft {

void ReadOnly::add(const ReadRequest& r) {
  if (acks_.count(r.context)) return;
  queue_.push_back(r);
  acks_[r.context] = {};
}

std::set<NodeId> ReadOnly::ack(NodeId from, const Bytes& context) {
  auto it = acks_.find(context);
  if (it == acks_.end()) return {};
  it->second.insert(from);
  return it->second;
}

std::vector<ReadRequest> ReadOnly::advance(const Bytes& context) {
  std::vector<ReadRequest> out;
  if (!acks_.count(context)) return out;
  while (!queue_.empty()) {
    ReadRequest r = std::move(queue_.front());
    queue_.pop_front();
    acks_.erase(r.context);
    bool last = r.context == context;
    out.push_back(std::move(r));
    if (last) break;
  }
  return out;
}

Bytes ReadOnly::last_pending() const {
  return queue_.empty() ? Bytes() : queue_.back().context;
}

void ReadOnly::clear() {
  queue_.clear();
  acks_.clear();
}

}  // namespace raftlock::raft
