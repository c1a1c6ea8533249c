#include "service/reads.h"

#include <string>

namespace raftlock::service {

Reads::Reads(boost::asio::io_context& io, raft::Node& node) : io_(io), node_(node) {}

void Reads::linearizable(std::chrono::milliseconds timeout, Done done) {
  const std::uint64_t id = next_id_++;
  // The context names this node too, so contexts of different nodes never collide.
  Status s = node_.read_index(std::to_string(node_.id()) + ":" + std::to_string(id));
  if (!s.is_ok()) {
    done(Status(ErrorCode::kNoLeader, s.message()));
    return;
  }
  Pending p;
  p.done = std::move(done);
  p.timer = std::make_unique<boost::asio::steady_timer>(io_, timeout);
  p.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) finish(id, Status(ErrorCode::kTimeout, "read index not confirmed in time"));
  });
  pending_.emplace(id, std::move(p));
}

void Reads::on_read_state(const raft::ReadState& rs) {
  const std::string prefix = std::to_string(node_.id()) + ":";
  if (rs.context.compare(0, prefix.size(), prefix) != 0) return;
  const std::uint64_t id = std::stoull(rs.context.substr(prefix.size()));
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second.index = rs.index;
  if (node_.status().applied >= rs.index) finish(id, Status::ok());
}

void Reads::on_applied(raft::Index applied) {
  std::vector<std::uint64_t> ready;
  for (const auto& [id, p] : pending_) {
    if (p.index != 0 && applied >= p.index) ready.push_back(id);
  }
  for (std::uint64_t id : ready)
    finish(id, Status::ok());
}

void Reads::on_leader_change() {
  for (const auto& [id, p] : pending_) {
    if (p.index == 0) (void)node_.read_index(std::to_string(node_.id()) + ":" + std::to_string(id));
  }
}

void Reads::finish(std::uint64_t id, Status s) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Done done = std::move(it->second.done);
  it->second.timer->cancel();
  pending_.erase(it);
  done(s);
}

}  // namespace raftlock::service
