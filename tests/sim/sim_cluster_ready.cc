// The Ready protocol of ready.h as the simulation runs it: after every input
// the node's Ready is taken, the messages that may leave before the write
// (Ready::may_send_before_write) are sent at once, and its storage write is
// scheduled as a later event (fsync latency); when that event fires the write
// is made durable, then the other messages go out, committed entries are
// applied, and the Ready is advanced. A crash in between loses the write but
// not what was already sent. Runs with pipelined writes (RunParams) take
// Readies while earlier writes are pending (take_pipelined below).
#include <deque>
#include <utility>

#include "raft/conf_change.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using raft::NodeId;
void Cluster::schedule_tick(SimNode& n, TimeMs at) {
  queue_.push(at, Event(EventKind::kTick, n.id(), n.incarnation()));
}

void Cluster::after_input(SimNode& n) {
  if (!n.up()) return;
  checker_.observe(n.id(), n.incarnation(), n.core());
  if (params_.pipelined) {
    take_pipelined(n);
    return;
  }
  if (n.has_pending() || !n.core().has_ready()) return;
  begin_ready(n, n.take_ready());
  queue_.push(now_ + rng_.between(0, params_.fsync_max_ms),
              Event(EventKind::kPersisted, n.id(), n.incarnation()));
}

void Cluster::begin_ready(SimNode& n, const raft::Ready& rd) {
  maybe_depose_soon(n, rd);
  maybe_crash_during_write(n, rd);
  if (tracing()) {
    std::string line = cat("n", n.id(), " ready:");
    if (rd.soft_state) {
      line +=
          cat(" role ", raft::role_name(rd.soft_state->role), " leader ", rd.soft_state->leader);
    }
    if (rd.hard_state) {
      line += cat(" hs(t", rd.hard_state->term, " vote ", rd.hard_state->vote, " commit ",
                  rd.hard_state->commit, ")");
    }
    if (!rd.entries.empty()) {
      line += cat(" entries [", rd.entries.front().index, "..", rd.entries.back().index, "] t",
                  rd.entries.back().term);
    }
    if (rd.snapshot) line += cat(" install-snapshot ", rd.snapshot->meta.index);
    if (rd.compact) line += cat(" compact ", rd.compact->meta.index);
    if (!rd.committed_entries.empty()) {
      line += cat(" apply [", rd.committed_entries.front().index, "..",
                  rd.committed_entries.back().index, "]");
    }
    line += cat(" msgs ", rd.messages.size());
    trace(line);
  }
  // 0. what may go before the write is durable (the leader's appends, ...)
  for (const raft::Message& m : rd.messages) {
    if (rd.may_send_before_write(m)) send(n.id(), n.incarnation(), m);
  }
}

// Pipelined writes, as raft::Node runs them (ready.h): every Ready is taken at
// once; its committed entries apply now; its write becomes durable at a later
// kPersisted event, which also covers every earlier pending write. A Ready
// with a snapshot or a compaction is not pipelined: every pending write, then
// its own, is made durable at once.
void Cluster::take_pipelined(SimNode& n) {
  // An apply below may propose (the lock workload) and so re-enter: the loop
  // takes that Ready after the current one.
  if (!taking_.insert(n.id()).second) return;
  const NodeId id = n.id();
  const std::uint64_t incarnation = n.incarnation();
  while (n.up() && n.incarnation() == incarnation && !checker_.failed()) {
    // A barrier below finishes writes, which may advance the commit index:
    // the checker sees every state the core hands a Ready out of.
    checker_.observe(id, incarnation, n.core());
    if (checker_.failed() || !n.core().has_ready()) break;
    raft::Ready& rd = n.take_ready();
    begin_ready(n, rd);
    if (rd.snapshot || rd.compact) {
      // As raft::Node does: the writes in flight are already in the store's
      // order; the barrier's durable write covers them; then they finish, in
      // order, and the barrier last.
      raft::Ready barrier = std::move(rd);
      std::deque<std::pair<raft::Ready, SimNode::TakenAs>> earlier;
      while (n.pending_count() > 1) {
        const SimNode::TakenAs as = n.oldest_taken_as();
        earlier.emplace_back(n.release_pending(), as);
      }
      const SimNode::TakenAs barrier_as = n.oldest_taken_as();
      n.release_pending();  // the moved-from barrier
      bool ok = true;
      for (const auto& [e, as] : earlier)
        ok = ok && write_durably(n, e.storage_write(), as);
      ok = ok && write_durably(n, barrier.storage_write(), barrier_as);
      for (const auto& [e, as] : earlier) {
        if (ok) send_written(n, e);
      }
      if (ok) finish_after_write(n, barrier);
      continue;
    }
    for (const raft::Entry& e : rd.committed_entries) {
      checker_.on_apply(id, n.sm(), e);
      if (checker_.failed()) break;
      apply(n, e);
    }
    if (checker_.failed()) break;
    for (const raft::ReadState& r : rd.read_states) {
      checker_.on_read_state(id, r);
      ++stats_.reads_served;
      trace(cat("n", id, " read '", r.context, "' at index ", r.index));
    }
    n.core().advance_applied(rd);
    rd.committed_entries.clear();
    if (cfg_.driver_sends_before_sync) {
      for (const raft::Message& m : rd.messages) {
        if (!rd.may_send_before_write(m)) send(id, incarnation, m);
      }
      rd.messages.clear();
    }
    Event ev(EventKind::kPersisted, id, incarnation);
    ev.write = n.last_taken();
    queue_.push(now_ + rng_.between(0, params_.fsync_max_ms), std::move(ev));
  }
  taking_.erase(id);
}

Status Cluster::propose(NodeId id, const raft::Bytes& data) {
  SimNode* n = node(id);
  if (!n || !n->up()) return Status(ErrorCode::kUnavailable, "node down");
  const Status s = n->core().propose(data);
  if (s) proposed_at_.emplace(data, id);
  trace(cat("n", id, " propose ", data, ": ", s.to_string()));
  after_input(*n);
  return s;
}

void Cluster::trace(const std::string& line) {
  if (!cfg_.trace) return;
  *cfg_.trace << now_ << "ms " << line << "\n";
}

// ---------------------------------------------------------------- events

void Cluster::on_tick(const Event& ev) {
  SimNode* n = node(ev.node);
  if (!n || !n->up() || n->incarnation() != ev.incarnation) return;  // a stale timer
  n->core().tick();
  if (tracing()) trace(cat("n", n->id(), " tick"));
  after_input(*n);
  schedule_tick(*n, now_ + kTickMs);
}

void Cluster::send(NodeId from, std::uint64_t incarnation, const raft::Message& m) {
  check_durable_claim(from, m);
  checker_.on_send(m);
  const int copies = network_.duplicate(rng_) ? 2 : 1;
  for (int k = 0; k < copies; ++k) {
    Event ev(EventKind::kDeliver, from, incarnation);
    ev.msg = m;
    queue_.push(now_ + network_.delay(rng_), std::move(ev));
  }
}

// What a message claims about its sender's disk must already be on it: an
// acknowledgement of entries up to m.index, a vote granted in m.term. Checked
// against the store (the durable part of the node) when the message leaves.
// A later term already durable excuses it: the claim was durable before that
// term was, and a newer leader may have replaced those entries since (the
// message then reads as one the network delayed, which Raft tolerates).
void Cluster::check_durable_claim(NodeId from, const raft::Message& m) {
  const SimNode* n = node(from);
  if (!n || m.reject) return;
  const raft::MemoryLogStore& disk = n->store();
  const raft::HardState hs = disk.initial_state().hard_state;
  if (hs.term > m.term) return;
  if (m.type == raft::MessageType::kAppendResp && m.index > disk.last_index()) {
    checker_.fail("durable-before-send",
                  cat("node ", from, " acknowledges entries up to ", m.index, " in term ", m.term,
                      " but its durable log ends at ", disk.last_index()));
  } else if (m.type == raft::MessageType::kVoteResp) {
    if (hs.term != m.term || hs.vote != m.to) {
      checker_.fail("durable-before-send",
                    cat("node ", from, " grants its term-", m.term, " vote to ", m.to,
                        " but its durable hard state is term ", hs.term, " vote ", hs.vote));
    }
  }
}

void Cluster::on_deliver(Event& ev) {
  const raft::Message& m = ev.msg;
  SimNode* to = node(m.to);
  SimNode* from = node(m.from);
  const bool sender_same = from && from->up() && from->incarnation() == ev.incarnation;
  const char* lost = nullptr;
  if (!to || !to->up()) {
    lost = "receiver down";
  } else if (!from || !from->up()) {
    lost = "sender down";
  } else if (network_.blocked(m.from, m.to)) {
    lost = "partition";
  } else if (network_.drop(rng_)) {
    lost = "dropped";
  }
  if (lost) {
    if (tracing()) trace(cat("lost (", lost, ") ", describe(m)));
    if (!sender_same) return;
    // What a real transport would notice: a failed snapshot stream, a broken link.
    if (m.type == raft::MessageType::kSnapshot) {
      from->core().report_snapshot(m.to, false);
      after_input(*from);
    } else if (m.type == raft::MessageType::kAppend && rng_.chance(100)) {
      from->core().report_unreachable(m.to);
      after_input(*from);
    }
    return;
  }
  const Status s = to->core().step(m);
  if (tracing()) trace(cat("deliver ", describe(m), s ? "" : " -> " + s.to_string()));
  after_input(*to);
  if (m.type == raft::MessageType::kSnapshot && sender_same && from->up()) {
    from->core().report_snapshot(m.to, true);
    after_input(*from);
  }
}

void Cluster::on_persisted(const Event& ev) {
  SimNode* n = node(ev.node);
  if (!n || !n->up() || n->incarnation() != ev.incarnation || !n->has_pending()) return;
  if (params_.pipelined) {
    // This write's sync covers every pending write before it.
    while (n->has_pending() && n->oldest_pending() <= ev.write) {
      const SimNode::TakenAs as = n->oldest_taken_as();
      if (!finish_written(*n, n->release_pending(), as)) return;
    }
  } else {
    const SimNode::TakenAs as = n->oldest_taken_as();
    finish_ready(*n, n->release_pending(), as);
    if (checker_.failed()) return;
  }
  after_input(*n);
}

bool Cluster::write_durably(SimNode& n, const raft::StorageWrite& w, const SimNode::TakenAs& as) {
  const NodeId id = n.id();
  raft::CoreStatus st;  // what before_write judges a write by
  st.role = as.role;
  st.term = as.term;
  checker_.before_write(id, st, w, n.store());
  const Status s = n.store().write(w);
  if (!s) {
    checker_.fail("storage", cat("node ", id, " store rejects the Ready's write: ", s.to_string()));
    return false;
  }
  checker_.after_write(id, w, n.store());
  return !checker_.failed();
}

bool Cluster::finish_written(SimNode& n, const raft::Ready& rd, const SimNode::TakenAs& as) {
  if (!write_durably(n, rd.storage_write(), as)) return false;
  send_written(n, rd);
  return true;
}

void Cluster::send_written(SimNode& n, const raft::Ready& rd) {
  if (tracing()) {
    trace(cat("n", n.id(), " write durable (last index ", n.store().last_index(), ", term ",
              n.store().initial_state().hard_state.term, "): send the rest of ",
              rd.messages.size()));
  }
  for (const raft::Message& m : rd.messages) {
    if (!rd.may_send_before_write(m)) send(n.id(), n.incarnation(), m);
  }
  n.core().advance_written(rd);
}

void Cluster::finish_ready(SimNode& n, const raft::Ready& rd, const SimNode::TakenAs& as) {
  // 1. make the write durable
  if (write_durably(n, rd.storage_write(), as)) finish_after_write(n, rd);
}

void Cluster::finish_after_write(SimNode& n, const raft::Ready& rd) {
  const NodeId id = n.id();
  if (tracing()) {
    trace(cat("n", id, " write durable (last index ", n.store().last_index(), ", term ",
              n.store().initial_state().hard_state.term, "): send ", rd.messages.size(), ", apply ",
              rd.committed_entries.size()));
  }

  // 2. restore the state machine from a received snapshot
  if (rd.snapshot) {
    Result<StateMachine> sm = StateMachine::from_image(rd.snapshot->data, id, n.lock_mutations());
    if (!sm) {
      checker_.fail("state-machine-safety",
                    cat("node ", id, " receives a snapshot image that does not decode: ",
                        sm.status().to_string()));
      return;
    }
    checker_.on_restore(id, n.sm().applied(), *rd.snapshot, *sm);
    n.sm() = std::move(sm).value();
    trace(cat("n", id, " restored state machine to ", n.sm().applied()));
    check_lock_replica(n);
    if (checker_.failed()) return;
    ++stats_.snapshots_restored;
  }
  // 3. send the rest, only now that the write is durable
  for (const raft::Message& m : rd.messages) {
    if (!rd.may_send_before_write(m)) send(id, n.incarnation(), m);
  }
  // 4. apply
  for (const raft::Entry& e : rd.committed_entries) {
    checker_.on_apply(id, n.sm(), e);
    if (checker_.failed()) return;
    apply(n, e);
  }
  for (const raft::ReadState& r : rd.read_states) {
    checker_.on_read_state(id, r);
    ++stats_.reads_served;
    trace(cat("n", id, " read '", r.context, "' at index ", r.index));
  }
  // 5. advance
  n.core().advance(rd);
}

void Cluster::check_lock_replica(SimNode& n) {
  const LockReplica& r = n.sm().locks();
  if (!r.violation().empty()) checker_.fail(r.violation_kind(), r.violation());
}

void Cluster::apply(SimNode& n, const raft::Entry& e) {
  const LockOutcome& o = n.sm().apply(e);
  if (o.command) {
    checker_.on_lock_outcome(n.id(), e.index, o);
    check_lock_replica(n);
    if (tracing()) {
      trace(cat("n", n.id(), " lock ", e.index, ": ", o.result,
                o.grants.empty() ? "" : cat(" +", o.grants.size(), " grant(s)"),
                o.ended.empty() ? "" : cat(" ended ", o.ended.size(), " session(s)")));
    }
  }
  if (e.type == raft::EntryType::kNormal) {
    const auto it = proposed_at_.find(e.data);
    if (it != proposed_at_.end() && it->second == n.id() &&
        acked_.emplace(e.data, e.index).second) {
      if (o.command) acked_results_.emplace(e.data, o.result_hash);
      trace(cat("n", n.id(), " ACK ", e.data, " at index ", e.index));
    }
    if (o.command && locks_) locks_->on_applied(*this, n, e, o);
  } else if (e.type == raft::EntryType::kConfChange) {
    const Result<raft::ConfChangeEntry> cc = raft::decode_conf_change_entry(e.data);
    if (!cc) {
      checker_.fail("state-machine-safety",
                    cat("node ", n.id(), " applies a conf change at ", e.index,
                        " that does not decode: ", cc.status().to_string()));
      return;
    }
    if (cc->change.type == raft::ConfChangeType::kRemoveNode) to_retire_.insert(cc->change.node);
    if (e.index > last_conf_change_) {
      last_conf_change_ = e.index;
      ++stats_.conf_changes;
      trace(cat("committed ", describe_entry(e)));
    }
  }
}

}  // namespace raftlock::sim
