// Log replication (§5.3): the follower's side of AppendEntries, heartbeats and
// InstallSnapshot (§7), and the leader's sends with flow control.
#include <algorithm>

#include "raft/assert.h"
#include "raft/core.h"
#include "raft/quorum.h"

namespace raftlock::raft {

void Core::handle_append(const Message& m) {
  if (m.index < log_.committed()) {
    // Everything up to our commit index is known to match: say so.
    send(Message{.type = MessageType::kAppendResp, .to = m.from, .index = log_.committed()});
    return;
  }
  Index appended_from = 0;
  auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries, &appended_from,
                                    cfg_.mutations.skip_conflict_truncation);
  if (last_new) {
    if (appended_from != 0) {
      std::vector<Entry> written(m.entries.begin() + (appended_from - m.index - 1),
                                 m.entries.end());
      on_appended(written, appended_from);
    }
    // A commit notice that adds nothing needs no answer (kCommitNoticeContext).
    if (!m.entries.empty() || m.context != kCommitNoticeContext) {
      send(Message{.type = MessageType::kAppendResp, .to = m.from, .index = *last_new});
    }
    return;
  }
  // §5.3: "If a follower does not have prevLogIndex in its log, or the term
  // doesn't match, reply false." The hint lets the leader skip a whole term of
  // mismatching entries at once: the last index <= m.index whose term is <= m.log_term.
  const Index hint = log_.find_conflict_by_term(std::min(m.index, log_.last_index()), m.log_term);
  Message r{.type = MessageType::kAppendResp, .to = m.from, .index = m.index};
  r.reject = true;
  r.reject_hint = hint;
  r.hint_term = log_.term_or_zero(hint);
  send(std::move(r));
}

void Core::handle_heartbeat(const Message& m) {
  // The leader sends min(match, commit), which our log is known to contain.
  log_.commit_to(std::min(m.commit, log_.last_index()));
  send(Message{.type = MessageType::kHeartbeatResp, .to = m.from, .context = m.context});
}

void Core::handle_snapshot(const Message& m) {
  const SnapshotMeta& meta = m.snapshot.meta;
  if (meta.index <= log_.committed()) {
    // §7 / Figure 13: a stale snapshot must not roll our state back.
    send(Message{.type = MessageType::kAppendResp, .to = m.from, .index = log_.committed()});
    return;
  }
  if (log_.match_term(meta.index, meta.term)) {
    // "If existing log entry has same index and term as snapshot's last
    // included entry, retain log entries following it": only commit.
    log_.commit_to(meta.index);
    send(Message{.type = MessageType::kAppendResp, .to = m.from, .index = log_.committed()});
    return;
  }
  log_.restore(m.snapshot);
  restore_conf(meta);
  send(Message{.type = MessageType::kAppendResp, .to = m.from, .index = meta.index});
}

bool Core::send_append(NodeId to, bool send_if_empty, bool commit_notice) {
  auto it = prs_.find(to);
  if (it == prs_.end() || to == id_) return false;
  Progress& pr = it->second;
  if (pr.is_paused()) return false;
  const Index prev = pr.next - 1;
  auto prev_term = log_.term(prev);
  auto ents = log_.entries_from(pr.next, cfg_.max_msg_bytes, cfg_.max_msg_entries);
  if (!prev_term || !ents) {
    // Anything but "compacted" is a storage failure: never paper over it.
    for (ErrorCode c : {prev_term.code(), ents.code()}) {
      RAFTLOCK_ASSERT_MSG(c != ErrorCode::kIo && c != ErrorCode::kCorruption,
                          "the log could not be read");
    }
    if (prev_term.code() != ErrorCode::kCompacted && ents.code() != ErrorCode::kCompacted) {
      return false;  // beyond our log: wait for the peer's next answer
    }
    // The entries the follower needs were compacted: send the snapshot (§7).
    if (!pr.recent_active) return false;
    Snapshot snap = log_.snapshot();
    RAFTLOCK_ASSERT_MSG(!snap.empty(), "log compacted without a snapshot");
    const Index snap_index = snap.meta.index;
    send(Message{.type = MessageType::kSnapshot, .to = to, .snapshot = std::move(snap)});
    pr.become_snapshot(snap_index);
    return true;
  }
  std::vector<Entry> entries = std::move(ents).value();
  if (entries.empty() && !send_if_empty) return false;
  if (!entries.empty()) {
    if (pr.state == Progress::State::kReplicate) {
      const Index last = entries.back().index;
      pr.optimistic_update(last);
      pr.inflights.add(last);
    } else {
      pr.probe_sent = true;
    }
  } else if (pr.state == Progress::State::kProbe) {
    pr.probe_sent = true;
  }
  Message m{.type = MessageType::kAppend, .to = to, .log_term = *prev_term, .index = prev};
  // Only a replicating follower's answers are redundant: a probe's answer is
  // how the leader learns where the follower's log matches.
  if (commit_notice && entries.empty() && pr.state == Progress::State::kReplicate) {
    m.context = kCommitNoticeContext;
  }
  m.entries = std::move(entries);
  m.commit = log_.committed();
  send(std::move(m));
  return true;
}

void Core::send_heartbeat(NodeId to, const Bytes& context) {
  const Progress& pr = prs_.at(to);
  // Never tell a follower to commit beyond what it is known to hold: a
  // heartbeat carries no consistency check.
  Message m{.type = MessageType::kHeartbeat, .to = to};
  m.commit = std::min(pr.match, log_.committed());
  m.context = context;
  send(std::move(m));
}

void Core::bcast_append() {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) send_append(id);
  }
}

void Core::bcast_commit() {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) send_append(id, true, true);
  }
}

void Core::bcast_heartbeat(const Bytes& context) {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) send_heartbeat(id, context);
  }
}

bool Core::append_entries(std::vector<Entry> entries) {
  const Index last = log_.last_index();
  for (std::size_t k = 0; k < entries.size(); ++k) {
    entries[k].term = term_;
    entries[k].index = last + 1 + k;
  }
  log_.append(entries);
  on_appended(entries, last + 1);
  // The leader's own match index moves only once the entries are durable
  // (advance()): a single-voter cluster commits them then.
  if (cfg_.mutations.count_unsynced_leader_entries) {
    if (auto it = prs_.find(id_); it != prs_.end()) it->second.maybe_update(log_.last_index());
    maybe_commit();
  }
  return true;
}

bool Core::maybe_commit() {
  std::map<NodeId, Index> match;
  for (const auto& [id, pr] : prs_)
    match[id] = pr.match;
  const Index q = quorum_index(conf().voters, match);
  bool advanced;
  if (cfg_.mutations.commit_old_term_by_count) {
    // Test-only mutation: commit whatever a majority holds, of any term.
    advanced = q > log_.committed() && q <= log_.last_index();
    if (advanced) log_.commit_to(q);
  } else {
    // §5.4.2: "Raft never commits log entries from previous terms by counting
    // replicas. Only log entries from the leader's current term are committed
    // by counting replicas."
    advanced = log_.maybe_commit(q, term_);
  }
  if (advanced) on_commit_advanced();
  return advanced;
}

}  // namespace raftlock::raft
