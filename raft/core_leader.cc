// The leader's side: proposals, replication feedback, commitment, ReadIndex
// (T§6.4), CheckQuorum (T§6.2) and leadership transfer (T§3.10).
#include <algorithm>

#include "raft/core.h"
#include "raft/quorum.h"

namespace raftlock::raft {

Status Core::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose: {
      if (transferee_ != kNoNode) {
        return Status(ErrorCode::kProposalDropped, "leadership transfer in progress");
      }
      if (log_.last_index() - log_.committed() + m.entries.size() > cfg_.max_uncommitted_entries) {
        return Status(ErrorCode::kLimitExceeded, "too many uncommitted entries");
      }
      std::vector<Entry> entries = m.entries;
      for (Entry& e : entries) {
        // Only this node's own API creates configuration changes.
        if (e.type != EntryType::kNormal) e.type = EntryType::kNormal;
      }
      append_entries(std::move(entries));
      // Sent when the Ready is collected: the proposals that arrive together
      // leave in one kAppend per follower.
      bcast_pending_ = true;
      return Status::ok();
    }
    case MessageType::kReadIndex:
      handle_read_index(m);
      return Status::ok();
    case MessageType::kAppendResp:
      handle_append_response(m);
      return Status::ok();
    case MessageType::kHeartbeatResp:
      handle_heartbeat_response(m);
      return Status::ok();
    default:
      return Status::ok();
  }
}

void Core::handle_append_response(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    // Conflict-term fast backup: skip every entry of a term the follower
    // does not have at all.
    Index next_probe = m.reject_hint;
    if (m.hint_term > 0) next_probe = log_.find_conflict_by_term(m.reject_hint, m.hint_term);
    if (pr.maybe_decrease_to(m.index, next_probe)) send_append(m.from);
    return;
  }
  const bool was_paused = pr.is_paused();
  if (!pr.maybe_update(m.index)) return;  // stale or duplicate acknowledgement
  switch (pr.state) {
    case Progress::State::kProbe:
      pr.become_replicate();
      break;
    case Progress::State::kSnapshot:
      if (pr.match + 1 >= log_.first_index()) pr.become_replicate();
      break;
    case Progress::State::kReplicate:
      pr.inflights.free_le(m.index);
      break;
  }
  if (maybe_commit()) {
    if (role_ != Role::kLeader) return;  // stepped down after its own removal committed
    bcast_commit();
  } else if (was_paused) {
    send_append(m.from);
  }
  // Keep the pipeline full.
  while (send_append(m.from, false)) {
  }
  if (m.from == transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from);
}

void Core::handle_heartbeat_response(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  if (pr.state == Progress::State::kReplicate && pr.inflights.full()) pr.inflights.free_first_one();
  if (pr.match < log_.last_index()) send_append(m.from);
  if (m.context.empty()) return;
  std::set<NodeId> acks = read_only_.ack(m.from, m.context);
  if (acks.empty()) return;
  acks.insert(id_);
  if (!has_quorum(conf().voters, acks)) return;
  release_ready_reads(read_only_.advance(m.context));
}

void Core::handle_read_index(const Message& m) {
  const ConfState& c = conf();
  if (c.voters.size() == 1 && c.voters.count(id_)) {
    // A single voter is its own quorum.
    release_ready_reads({ReadRequest{log_.committed(), m.context, m.from}});
    return;
  }
  if (!committed_in_current_term()) {
    // T§6.4: the leader does not know the commit index until an entry of its
    // term commits; hold the read until then.
    pending_reads_.push_back(m);
    return;
  }
  read_only_.add(ReadRequest{log_.committed(), m.context, m.from});
  bcast_heartbeat(m.context);
}

void Core::release_ready_reads(const std::vector<ReadRequest>& reads) {
  for (const ReadRequest& r : reads) {
    if (r.from == id_) {
      read_states_.push_back(ReadState{r.index, r.context});
    } else {
      send(Message{.type = MessageType::kReadIndexResp,
                   .to = r.from,
                   .index = r.index,
                   .context = r.context});
    }
  }
}

bool Core::committed_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

void Core::check_quorum_and_step_down() {
  std::set<NodeId> active{id_};
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    if (pr.recent_active) active.insert(id);
    pr.recent_active = false;
  }
  // T§6.2: a leader that has not heard from a majority within an election
  // timeout steps down, so clients can find the real leader.
  if (!has_quorum(conf().voters, active)) become_follower(term_, kNoNode);
}

Status Core::transfer_leadership(NodeId to) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kNotLeader, "not the leader");
  if (to == kNoNode) {
    Index best = 0;
    for (const auto& [id, pr] : prs_) {
      if (id != id_ && conf().voters.count(id) && (to == kNoNode || pr.match > best)) {
        to = id;
        best = pr.match;
      }
    }
    if (to == kNoNode) return Status(ErrorCode::kInvalidArgument, "no other voter to transfer to");
  }
  if (to == id_) return Status::ok();
  if (!conf().voters.count(to)) return Status(ErrorCode::kInvalidArgument, "target is not a voter");
  if (transferee_ == to) return Status::ok();
  transferee_ = to;
  // The transfer must finish within an election timeout (checked in tick).
  election_elapsed_ = 0;
  if (prs_.at(to).match == log_.last_index()) {
    send_timeout_now(to);
  } else {
    send_append(to);
  }
  return Status::ok();
}

void Core::send_timeout_now(NodeId to) {
  send(Message{.type = MessageType::kTimeoutNow, .to = to});
}

void Core::abort_transfer() {
  transferee_ = kNoNode;
}

void Core::report_unreachable(NodeId peer) {
  if (role_ != Role::kLeader) return;
  auto it = prs_.find(peer);
  if (it != prs_.end() && it->second.state == Progress::State::kReplicate)
    it->second.become_probe();
}

void Core::report_snapshot(NodeId peer, bool ok) {
  if (role_ != Role::kLeader) return;
  auto it = prs_.find(peer);
  if (it == prs_.end() || it->second.state != Progress::State::kSnapshot) return;
  Progress& pr = it->second;
  if (!ok) pr.pending_snapshot = 0;
  // Wait for the follower's answer (or the next heartbeat) before probing.
  pr.become_probe();
  pr.probe_sent = true;
}

}  // namespace raftlock::raft
