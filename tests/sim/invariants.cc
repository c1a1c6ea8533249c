#include "tests/sim/invariants.h"

#include <algorithm>

#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using raft::Index;
using raft::NodeId;
using raft::Role;
using raft::Term;

void Checker::fail(const std::string& invariant, const std::string& detail) {
  if (!failure_) failure_ = Failure{invariant, detail};  // the first failure explains the rest
}

// ---------------------------------------------------------------- volatile state

void Checker::observe(NodeId id, std::uint64_t incarnation, const raft::Core& core) {
  const raft::CoreStatus st = core.status();
  NodeView& v = views_[id];
  if (v.incarnation != incarnation) v = NodeView{incarnation};

  if (st.term < v.term) {
    fail("node-local", cat("node ", id, " term went from ", v.term, " to ", st.term));
  }
  if (st.commit < v.commit) {
    fail("node-local", cat("node ", id, " commit index went from ", v.commit, " to ", st.commit));
  }
  if (st.applied > st.commit || st.commit > st.last_index) {
    fail("node-local", cat("node ", id, " has applied ", st.applied, ", commit ", st.commit,
                           ", last index ", st.last_index, " (want applied <= commit <= last)"));
  }

  const bool became_leader =
      st.role == Role::kLeader && (v.role != Role::kLeader || v.term != st.term);
  if (st.role == Role::kLeader) {
    const auto [it, inserted] = leaders_.emplace(st.term, id);
    if (!inserted && it->second != id) {
      fail("election-safety",
           cat("nodes ", it->second, " and ", id, " are both leader of term ", st.term));
    }
  }
  if (became_leader) check_leader_completeness(id, core, st);
  if (st.commit > v.commit) {
    const Index first = st.first_index > 0 ? st.first_index - 1 : 0;
    record_commits(id, core, st, std::max({v.commit + 1, first, Index{1}}), st.commit);
  }
  v.role = st.role;
  v.term = st.term;
  v.commit = st.commit;
}

void Checker::record_commits(NodeId id, const raft::Core& core, const raft::CoreStatus& st,
                             Index from, Index to) {
  if (committed_.size() < to) committed_.resize(to);
  for (Index i = from; i <= to; ++i) {
    const Result<Term> t = core.term_at(i);
    if (!t) continue;  // compacted: covered by a snapshot someone committed
    CommitRecord& rec = committed_[i - 1];
    if (!rec.known) {
      rec = CommitRecord{true, *t, st.term, id};
    } else if (rec.term != *t) {
      fail("committed-entry-unique",
           cat("node ", id, " (term ", st.term, ") commits index ", i, " with term ", *t,
               " but node ", rec.seen_on, " committed it with term ", rec.term));
      return;
    } else {
      rec.commit_term = std::min(rec.commit_term, st.term);
    }
  }
}

// §5.4: a leader of term T holds every entry committed in a term before T.
void Checker::check_leader_completeness(NodeId id, const raft::Core& core,
                                        const raft::CoreStatus& st) {
  const Index from = std::max<Index>(st.first_index > 0 ? st.first_index - 1 : 0, 1);
  for (Index i = from; i <= committed_.size(); ++i) {
    const CommitRecord& rec = committed_[i - 1];
    if (!rec.known || rec.commit_term >= st.term) continue;
    const Result<Term> t = core.term_at(i);
    if (t.code() == ErrorCode::kCompacted) continue;
    if (!t || *t != rec.term) {
      fail("leader-completeness",
           cat("node ", id, " became leader of term ", st.term, " but its log has ",
               t ? cat("term ", *t) : std::string("no entry"), " at index ", i,
               ", which was committed with term ", rec.term, " in term ", rec.commit_term,
               " (seen on node ", rec.seen_on, ")"));
      return;
    }
  }
}

// ---------------------------------------------------------------- durable state

void Checker::before_write(NodeId id, const raft::CoreStatus& st, const raft::StorageWrite& w,
                           const raft::LogView& store) {
  if (st.role == Role::kLeader) {
    if (!w.entries.empty() && w.entries.front().index <= store.last_index()) {
      fail(
          "leader-append-only",
          cat("node ", id, ", leader of term ", st.term, ", overwrites its durable log from index ",
              w.entries.front().index, " (last index ", store.last_index(), ")"));
    }
    if (w.install_snapshot) {
      fail("leader-append-only",
           cat("node ", id, ", leader of term ", st.term, ", installs a snapshot at index ",
               w.install_snapshot->meta.index));
    }
  }
  if (w.hard_state) {
    const raft::HardState prev = store.initial_state().hard_state;
    const raft::HardState& hs = *w.hard_state;
    if (hs.term < prev.term) {
      fail("node-local", cat("node ", id, " durable term goes from ", prev.term, " to ", hs.term));
    } else if (hs.term == prev.term && prev.vote != raft::kNoNode && hs.vote != prev.vote) {
      fail("one-vote-per-term", cat("node ", id, " durable vote in term ", hs.term,
                                    " changes from ", prev.vote, " to ", hs.vote));
    }
    if (hs.commit < prev.commit) {
      fail("node-local",
           cat("node ", id, " durable commit goes from ", prev.commit, " to ", hs.commit));
    }
  }
  if (w.install_snapshot) {
    const raft::SnapshotMeta& m = w.install_snapshot->meta;
    if (m.index > 0 && m.index <= committed_.size()) {
      const CommitRecord& rec = committed_[m.index - 1];
      if (rec.known && rec.term != m.term) {
        fail("state-machine-safety",
             cat("node ", id, " installs a snapshot at (", m.index, ", t", m.term, ") but index ",
                 m.index, " was committed with term ", rec.term));
      }
    } else if (m.index > committed_.size()) {
      fail("state-machine-safety",
           cat("node ", id, " installs a snapshot at index ", m.index,
               " beyond every commit index seen (", committed_.size(), ")"));
    }
  }
}

void Checker::after_write(NodeId id, const raft::StorageWrite& w, const raft::LogView& store) {
  for (const raft::Entry& e : w.entries) {
    const Result<Term> prev = store.term(e.index - 1);
    std::optional<Term> prev_term;
    if (prev) prev_term = *prev;
    const auto [it, inserted] =
        log_.emplace(std::pair{e.index, e.term}, LogRecord{e.type, e.data, prev_term, id});
    if (inserted) continue;
    LogRecord& rec = it->second;
    if (rec.type != e.type || rec.data != e.data) {
      fail("log-matching",
           cat("entry (", e.index, ", t", e.term, ") is '", describe_entry(e), "' on node ", id,
               " but was '", describe_entry(raft::Entry{e.term, e.index, rec.type, rec.data}),
               "' on node ", rec.written_by));
      return;
    }
    if (prev_term && rec.prev_term && *prev_term != *rec.prev_term) {
      fail("log-matching",
           cat("entry (", e.index, ", t", e.term, ") follows term ", *prev_term, " on node ", id,
               " but term ", *rec.prev_term, " on node ", rec.written_by));
      return;
    }
    if (!rec.prev_term) rec.prev_term = prev_term;
  }
  const raft::HardState hs = store.initial_state().hard_state;
  if (hs.commit > store.last_index()) {
    fail("node-local", cat("node ", id, " durable commit ", hs.commit,
                           " is beyond its durable last index ", store.last_index()));
  }
}

// ---------------------------------------------------------------- messages

void Checker::on_send(const raft::Message& m) {
  switch (m.type) {
    case raft::MessageType::kVoteResp: {
      if (m.reject) return;
      const auto [it, inserted] = votes_granted_.emplace(std::pair{m.from, m.term}, m.to);
      if (!inserted && it->second != m.to) {
        fail("one-vote-per-term", cat("node ", m.from, " granted its term-", m.term,
                                      " vote to both ", it->second, " and ", m.to));
      }
      return;
    }
    case raft::MessageType::kAppend:
    case raft::MessageType::kHeartbeat:
    case raft::MessageType::kSnapshot: {
      const auto it = leaders_.find(m.term);
      if (it == leaders_.end() || it->second != m.from) {
        fail("election-safety",
             cat("node ", m.from, " sends ", describe(m), " but the leader of term ", m.term,
                 " is ", it == leaders_.end() ? std::string("nobody") : cat(it->second)));
      }
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------- state machines

void Checker::check_applied(NodeId id, const AppliedEntry& e) {
  if (applied_.size() < e.index) applied_.resize(e.index);
  std::optional<AppliedEntry>& rec = applied_[e.index - 1];
  if (!rec) {
    rec = e;
    return;
  }
  if (rec->term != e.term || rec->type != e.type || rec->data != e.data) {
    fail("state-machine-safety",
         cat("node ", id, " applies (", e.index, ", t", e.term, ") '",
             describe_entry(raft::Entry{e.term, e.index, e.type, e.data}),
             "' but another node applied (", rec->index, ", t", rec->term, ") '",
             describe_entry(raft::Entry{rec->term, rec->index, rec->type, rec->data}), "'"));
  }
}

void Checker::on_apply(NodeId id, const StateMachine& sm, const raft::Entry& e) {
  if (e.index != sm.applied() + 1) {
    fail("node-local", cat("node ", id, " applies index ", e.index, " after ", sm.applied()));
    return;
  }
  if (e.index > committed_.size()) {
    fail("state-machine-safety",
         cat("node ", id, " applies index ", e.index,
             " but no commit index that high was ever seen (", committed_.size(), ")"));
    return;
  }
  check_applied(id, AppliedEntry{e.index, e.term, e.type, e.data});
}

void Checker::on_restore(NodeId id, Index applied_before, const raft::Snapshot& snap,
                         const StateMachine& sm) {
  if (snap.meta.index < applied_before) {
    fail("node-local", cat("node ", id, " restores a snapshot at index ", snap.meta.index,
                           " after applying up to ", applied_before));
  }
  if (sm.applied() != snap.meta.index ||
      (snap.meta.index > 0 && sm.entries().back().term != snap.meta.term)) {
    fail("state-machine-safety", cat("node ", id, " restores a snapshot (", snap.meta.index, ", t",
                                     snap.meta.term, ") whose image ends at index ", sm.applied()));
  }
  for (const AppliedEntry& e : sm.entries()) {
    check_applied(id, e);
    if (failed()) return;
    const LockOutcome* o = sm.outcome(e.index);
    if (o && o->command) on_lock_outcome(id, e.index, *o);
    if (failed()) return;
  }
}

void Checker::on_lock_outcome(NodeId id, Index index, const LockOutcome& o) {
  const auto [it, fresh] =
      lock_at_.emplace(index, LockRecordAt{o.result_hash, o.state_hash, id, o.result});
  if (fresh) {
    ++lock_totals_.commands;
    lock_totals_.grants += o.grants.size();
    lock_totals_.sessions_ended += o.ended.size();
    if (o.op == "session.expire") lock_totals_.sessions_expired += o.ended.size();
    if (o.stale_expiry) ++lock_totals_.stale_expiries;
    if (!o.ok) ++lock_totals_.errors;
    return;
  }
  const LockRecordAt& rec = it->second;
  if (rec.result_hash != o.result_hash) {
    fail("lock-replica-agreement",
         cat("node ", id, " answers the command at index ", index, " with ", o.result, " but node ",
             rec.seen_on, " answered ", rec.result));
  } else if (rec.state_hash != o.state_hash) {
    fail("lock-replica-agreement",
         cat("node ", id, " and node ", rec.seen_on, " hold different lock states after index ",
             index, " (", o.op, " ", o.req, ")"));
  }
}

void Checker::on_read_request(const raft::Bytes& context) {
  read_floors_[context] = committed_.size();
}

void Checker::on_read_state(NodeId id, const raft::ReadState& rs) {
  const auto it = read_floors_.find(rs.context);
  if (it == read_floors_.end()) {
    fail("read-index", cat("node ", id, " answers read '", rs.context, "' that was never asked"));
    return;
  }
  if (rs.index < it->second) {
    fail("read-index", cat("node ", id, " answers read '", rs.context, "' at index ", rs.index,
                           " but index ", it->second, " was committed before it was asked"));
  }
}

}  // namespace raftlock::sim
