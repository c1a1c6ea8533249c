// Single-server membership changes (T§4.1) and learners (T§4.2.1).
//
// A server uses the latest configuration in its log, committed or not, so a
// change takes effect as soon as it is appended, and a truncated change
// rolls back to the previous configuration.
#include "raft/assert.h"
#include "raft/core.h"

namespace raftlock::raft {

const ConfState& Core::conf() const {
  return conf_log_.empty() ? base_conf_ : conf_log_.back().second;
}

ConfState Core::conf_at(Index i) const {
  const ConfState* c = &base_conf_;
  for (const auto& [index, conf] : conf_log_) {
    if (index > i) break;
    c = &conf;
  }
  return *c;
}

void Core::restore_conf(const SnapshotMeta& snap) {
  base_conf_ = snap.conf;
  conf_log_.clear();
  conf_changed();
}

void Core::on_appended(const std::vector<Entry>& entries, Index from) {
  bool changed = false;
  while (!conf_log_.empty() && conf_log_.back().first >= from) {
    conf_log_.pop_back();
    changed = true;
  }
  for (const Entry& e : entries) {
    if (e.type != EntryType::kConfChange) continue;
    auto cc = decode_conf_change_entry(e.data);
    RAFTLOCK_ASSERT_MSG(cc.is_ok(), "undecodable configuration entry in the log");
    conf_log_.emplace_back(e.index, cc->result);
    changed = true;
  }
  if (changed) conf_changed();
}

void Core::forget_conf_before(Index index) {
  base_conf_ = conf_at(index);
  while (!conf_log_.empty() && conf_log_.front().first <= index)
    conf_log_.erase(conf_log_.begin());
}

void Core::conf_changed() {
  if (role_ != Role::kLeader) return;
  const ConfState& c = conf();
  // Drop progress of removed members; track new ones from the end of our log.
  for (auto it = prs_.begin(); it != prs_.end();) {
    if (!c.contains(it->first) && it->first != id_) {
      it = prs_.erase(it);
    } else {
      ++it;
    }
  }
  for (NodeId id : c.voters) {
    auto [it, added] = prs_.try_emplace(id, log_.last_index() + 1, cfg_.max_inflight_msgs, false);
    it->second.learner = false;
  }
  for (NodeId id : c.learners) {
    auto [it, added] = prs_.try_emplace(id, log_.last_index() + 1, cfg_.max_inflight_msgs, true);
    it->second.learner = true;
  }
  if (transferee_ != kNoNode && !c.voters.count(transferee_)) abort_transfer();
  // With fewer voters, entries may now be on a majority.
  maybe_commit();
}

void Core::on_commit_advanced() {
  if (role_ != Role::kLeader) return;
  // Reads that waited for the first commit of this term (T§6.4).
  if (committed_in_current_term() && !pending_reads_.empty()) {
    std::vector<Message> reads;
    reads.swap(pending_reads_);
    for (const Message& m : reads)
      handle_read_index(m);
  }
  // T§4.2.2: a leader removed from the configuration steps down once the
  // change is committed.
  if (!conf().voters.count(id_) && !conf_log_.empty() &&
      conf_log_.back().first <= log_.committed()) {
    become_follower(term_, kNoNode);
  }
}

Status Core::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::kLeader) return Status(ErrorCode::kNotLeader, "not the leader");
  if (transferee_ != kNoNode) {
    return Status(ErrorCode::kProposalDropped, "leadership transfer in progress");
  }
  if (cc.type == ConfChangeType::kBootstrap) {
    return Status(ErrorCode::kInvalidArgument, "bootstrap is not a change");
  }
  // The rule of the single-server change bug fix (Ongaro, raft-dev 2015): a
  // leader may not append a change before it has committed an entry of its term.
  if (!committed_in_current_term()) {
    return Status(ErrorCode::kBusy, "leader has not committed an entry of its term yet");
  }
  if (pending_conf_index_ > log_.committed()) {
    return Status(ErrorCode::kBusy, "another configuration change is not committed yet");
  }
  auto next = apply_conf_change(conf(), cc);
  if (!next) return next.status();
  Entry e{0, 0, EntryType::kConfChange, encode_conf_change_entry(ConfChangeEntry{cc, *next})};
  append_entries({std::move(e)});
  pending_conf_index_ = log_.last_index();
  bcast_append();
  return Status::ok();
}

}  // namespace raftlock::raft
