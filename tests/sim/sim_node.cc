#include "tests/sim/sim_node.h"

#include <utility>

#include "raft/assert.h"
#include "raft/conf_change.h"

namespace raftlock::sim {

std::unique_ptr<SimNode> SimNode::founding(raft::NodeId id, const raft::ConfState& voters) {
  std::unique_ptr<SimNode> n(new SimNode(id));
  const Status s = n->store_.write(raft::bootstrap_write(voters));
  RAFTLOCK_ASSERT_MSG(s.is_ok(), s.to_string().c_str());
  return n;
}

std::unique_ptr<SimNode> SimNode::joining(raft::NodeId id) {
  return std::unique_ptr<SimNode>(new SimNode(id));
}

Status SimNode::start(raft::Config cfg) {
  RAFTLOCK_ASSERT(!up() && !retired_);
  const raft::Snapshot snap = store_.snapshot();
  Result<StateMachine> sm = StateMachine::from_image(snap.data, id_, lock_mutations_);
  if (!sm) return sm.status();
  if (sm->applied() != snap.meta.index) {
    return Status(ErrorCode::kCorruption,
                  "stored snapshot at index " + std::to_string(snap.meta.index) +
                      " holds a state machine applied to " + std::to_string(sm->applied()));
  }
  sm_ = std::move(sm).value();
  cfg.id = id_;
  cfg.applied = snap.meta.index;
  core_ = std::make_unique<raft::Core>(cfg, store_);
  pending_.clear();
  taken_as_.clear();
  ++incarnation_;
  return Status::ok();
}

void SimNode::crash() {
  RAFTLOCK_ASSERT(up());
  core_.reset();
  sm_ = StateMachine(id_, lock_mutations_);
  pending_.clear();
  taken_as_.clear();
}

void SimNode::retire() {
  if (up()) crash();
  retired_ = true;
}

raft::Ready& SimNode::take_ready() {
  RAFTLOCK_ASSERT(up());
  pending_.push_back(core_->ready());
  taken_as_.push_back(TakenAs{core_->role(), core_->term()});
  ++taken_;
  return pending_.back();
}

raft::Ready SimNode::release_pending() {
  RAFTLOCK_ASSERT(!pending_.empty());
  raft::Ready rd = std::move(pending_.front());
  pending_.pop_front();
  taken_as_.pop_front();
  return rd;
}

}  // namespace raftlock::sim
