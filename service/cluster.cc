#include "service/cluster.h"

#include <nlohmann/json.hpp>

namespace raftlock::service {

using raft::NodeId;

ClusterService::ClusterService(boost::asio::io_context& io, raft::Node& node,
                               SqliteStateMachine& sm, std::string own_http,
                               PeerHttpLookup peer_http, Logger& log,
                               std::chrono::milliseconds election_timeout)
    : io_(io),
      node_(node),
      sm_(sm),
      own_http_(std::move(own_http)),
      peer_http_(std::move(peer_http)),
      log_(log),
      election_timeout_(election_timeout),
      timer_(io) {}

void ClusterService::start() {
  stopped_ = false;
  schedule();
}

void ClusterService::stop() {
  stopped_ = true;
  timer_.cancel();
  for (PendingOp& op : ops_)
    op.done(Status(ErrorCode::kTimeout, "node shutting down"));
  ops_.clear();
}

void ClusterService::schedule() {
  timer_.expires_after(std::chrono::milliseconds(10));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    on_timer();
    schedule();
  });
}

void ClusterService::on_timer() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<PendingOp> still;
  std::vector<std::pair<PendingOp, bool>> done;  // op, finished
  for (PendingOp& op : ops_) {
    const bool finished = op.finished();
    if (finished || now >= op.deadline) {
      done.emplace_back(std::move(op), finished);
    } else {
      still.push_back(std::move(op));
    }
  }
  ops_ = std::move(still);
  for (auto& [op, finished] : done) {
    op.done(finished ? Status::ok()
                     : Status(ErrorCode::kTimeout, "the change was not seen in time"));
  }
  if (is_leader()) promote_caught_up_learners();
}

std::optional<LeaderInfo> ClusterService::leader() const {
  const raft::CoreStatus st = node_.status();
  if (st.leader == raft::kNoNode) return std::nullopt;
  LeaderInfo li{st.leader, "", st.term};
  if (st.leader == node_.id()) {
    li.http = own_http_;
  } else {
    for (const Member& m : members()) {
      if (m.id == st.leader) li.http = m.http;
    }
  }
  return li;
}

std::vector<Member> ClusterService::members() const {
  std::vector<Member> ms = sm_.members();
  for (Member& m : ms) {
    if (m.id == node_.id()) {
      m.http = own_http_;
    } else if (auto h = peer_http_(m.id); h && !h->empty()) {
      m.http = *h;  // what the node itself advertises wins over what was configured
    }
  }
  return ms;
}

bool ClusterService::is_leader() const {
  return node_.status().role == raft::Role::kLeader;
}

bool ClusterService::ready() const {
  const raft::CoreStatus st = node_.status();
  // A leader that stops hearing from a quorum steps down within an election
  // timeout (CheckQuorum), so "knows a leader" covers API.md's rule for leaders.
  return st.leader != raft::kNoNode && st.applied >= st.commit;
}

bool ClusterService::has_member(NodeId id) const {
  for (const Member& m : sm_.members()) {
    if (m.id == id) return true;
  }
  return false;
}

void ClusterService::wait_for(std::function<bool()> finished, std::chrono::milliseconds timeout,
                              Done done) {
  ops_.push_back(
      PendingOp{std::move(finished), std::chrono::steady_clock::now() + timeout, std::move(done)});
}

void ClusterService::add_member(NodeId id, const std::string& peer, const std::string& http,
                                Done done) {
  if (!is_leader()) return done(Status(ErrorCode::kNotLeader, "not the leader"));
  if (has_member(id))
    return done(
        Status(ErrorCode::kConflict, "node " + std::to_string(id) + " is already a member"));
  raft::ConfChange cc{raft::ConfChangeType::kAddLearner, id,
                      nlohmann::json{{"peer", peer}, {"http", http}}.dump()};
  Status s = node_.propose_conf_change(cc);
  if (!s) return done(s);
  log_.info("adding node " + std::to_string(id) + " as a learner (peer " + peer + ")");
  wait_for([this, id] { return has_member(id); }, std::chrono::milliseconds(5000), std::move(done));
}

void ClusterService::remove_member(NodeId id, Done done) {
  if (!is_leader()) return done(Status(ErrorCode::kNotLeader, "not the leader"));
  if (!has_member(id)) return done(Status(ErrorCode::kUnavailable, "member not found"));
  Status s = node_.propose_conf_change(raft::ConfChange{raft::ConfChangeType::kRemoveNode, id, ""});
  if (!s) return done(s);
  log_.info("removing node " + std::to_string(id));
  wait_for([this, id] { return !has_member(id); }, std::chrono::milliseconds(5000),
           std::move(done));
}

void ClusterService::transfer_leadership(NodeId to, Done done) {
  if (!is_leader()) return done(Status(ErrorCode::kNotLeader, "not the leader"));
  Status s = node_.transfer_leadership(to);
  if (!s) return done(s);
  const raft::CoreStatus st = node_.status();
  NodeId target = st.transferee != raft::kNoNode ? st.transferee : to;
  if (target == node_.id() || (to == node_.id())) return done(Status::ok());
  log_.info("transferring leadership to node " + std::to_string(target));
  wait_for(
      [this, target] {
        const raft::CoreStatus now = node_.status();
        return now.leader == target && now.role != raft::Role::kLeader;
      },
      election_timeout_ * 2, std::move(done));
}

void ClusterService::promote_caught_up_learners() {
  const raft::CoreStatus st = node_.status();
  if (st.conf.learners.empty()) return;
  for (const auto& [id, p] : st.peers) {
    if (!p.learner || p.match < st.commit || p.match == 0) continue;
    // Caught up with everything committed: promote (T§4.2.1). One change at
    // a time; the core refuses while another is uncommitted.
    std::string ctx;
    for (const Member& m : sm_.members()) {
      if (m.id == id) ctx = nlohmann::json{{"peer", m.peer}, {"http", m.http}}.dump();
    }
    if (node_.propose_conf_change(raft::ConfChange{raft::ConfChangeType::kAddVoter, id, ctx})) {
      log_.info("node " + std::to_string(id) + " caught up (match " + std::to_string(p.match) +
                "): promoting to voter");
    }
    return;
  }
}

}  // namespace raftlock::service
