#include "raft/node.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>

#include "raft/assert.h"

namespace raftlock::raft {

namespace {
constexpr int kProcessTrips = 3;  // schedule_process

Config with_applied(Config cfg, Index applied) {
  cfg.applied = applied;
  return cfg;
}
}  // namespace

Node::Node(boost::asio::io_context& io, const Config& cfg, const NodeOptions& opts, LogStore& store,
           StateMachine& sm, Transport& transport)
    : io_(io),
      cfg_(cfg),
      opts_(opts),
      store_(store),
      sm_(sm),
      transport_(transport),
      core_(with_applied(cfg, sm.applied_index()), store),
      ticker_(io),
      written_(store.initial_state().hard_state) {
  if (opts_.sync_threads > 0) {
    if (std::shared_ptr<WriteSyncer> syncer = store_.syncer()) {
      sync_ = std::make_unique<SyncWorkers>(io_, std::move(syncer), opts_.sync_threads,
                                            [this, alive = alive_](std::uint64_t through) {
                                              if (*alive) on_synced(through);
                                            });
    }
  }
  // A state machine behind the stored snapshot (its newest applies were lost
  // with a power failure after the log was compacted) starts from the snapshot.
  const InitialState init = store.initial_state();
  if (sm.applied_index() < init.snapshot.index) sm.restore(store.snapshot());
  last_image_bytes_ = init.snapshot_bytes;  // paces the next snapshot (maybe_snapshot)
  transport_.set_handlers([this](Message m) { step(m); },
                          [this](NodeId peer) {
                            core_.report_unreachable(peer);
                            schedule_process();
                          });
}

Node::~Node() {
  *alive_ = false;
  sync_.reset();  // joins the sync threads
}

void Node::start() {
  stopped_ = false;
  schedule_tick();
  schedule_process();
}

void Node::stop() {
  stopped_ = true;
  ticker_.cancel();
}

void Node::schedule_tick() {
  ticker_.expires_after(opts_.tick);
  ticker_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    core_.tick();
    process();
    schedule_tick();
  });
}

void Node::schedule_process() {
  // Requests that arrive together are handled by one Ready: one write and one
  // fsync for all of them (group commit). process() is posted behind the
  // io_context's queue, which runs in order; the reactor's poll is an entry of
  // that queue and appends what it finds behind it. So a process() posted once
  // runs before the handlers of the next poll, posted twice it runs after the
  // handlers of one poll, three times after those of two: each trip lets one
  // more poll's requests and acknowledgements join this Ready instead of
  // waiting behind its fsync. Three is measured, not derived (paired runs,
  // docs/bench.md): two trips against one, +10% contended hand-offs; three
  // against two, +10% more (uncontended +4%, within noise; single writes no
  // slower); going on while inputs keep arriving, up to eight, gained nothing.
  if (process_scheduled_) return;
  process_scheduled_ = true;
  process_after(kProcessTrips);
}

void Node::process_after(int trips) {
  boost::asio::post(io_, [this, alive = alive_, trips] {
    if (!*alive) return;
    if (trips > 1) {
      process_after(trips - 1);
      return;
    }
    process_scheduled_ = false;
    process();
  });
}

Status Node::propose(Bytes data) {
  Status s = core_.propose(std::move(data));
  schedule_process();
  return s;
}

Status Node::propose_conf_change(const ConfChange& cc) {
  Status s = core_.propose_conf_change(cc);
  schedule_process();
  return s;
}

Status Node::read_index(Bytes context) {
  Status s = core_.read_index(std::move(context));
  schedule_process();
  return s;
}

Status Node::transfer_leadership(NodeId to) {
  Status s = core_.transfer_leadership(to);
  schedule_process();
  return s;
}

void Node::step(const Message& m) {
  if (stopped_) return;
  (void)core_.step(m);  // invalid or stale messages are simply ignored
  schedule_process();
}

void Node::process() {
  while (core_.has_ready()) {
    // Enough writes wait for a sync: what arrives joins the next Ready, taken
    // when a sync ends (on_synced).
    if (!in_flight_.empty() && in_flight_.size() >= opts_.max_writes_in_flight) return;
    Ready rd = core_.ready();
    // 0. What depends on nothing this write makes durable leaves first, so the
    // followers write their logs while the leader writes its own (ready.h).
    // One write per peer for all of them (Transport::hold).
    // What stays in rd.messages waits for the write.
    std::vector<Message> rest;
    transport_.hold();
    for (Message& m : rd.messages) {
      if (rd.may_send_before_write(m)) {
        transport_.send(m);
      } else {
        rest.push_back(std::move(m));
      }
    }
    transport_.release();
    rd.messages = std::move(rest);
    // On the leader, committed entries it had already written (all but those
    // in this Ready's own write) are applied before the write: their answers
    // do not wait for the fsync of newer entries. A follower writes first: its
    // acknowledgement, which every commit waits for, leaves only after its
    // write, so applying first would delay all commits (measured: fewer
    // hand-offs and cycles per second when followers apply first).
    const std::size_t early = core_.role() == Role::kLeader ? rd.committed_written_before() : 0;
    if (early > 0) apply_committed(rd.committed_entries, 0, early);
    StorageWrite w = rd.take_storage_write();
    if (w.hard_state && !w.install_snapshot && !w.compact && w.hard_state->term == written_.term &&
        w.hard_state->vote == written_.vote) {
      // Only the commit index moved: Raft does not need it durable (a restarted
      // node learns it again), so it is not written: a Ready without entries
      // costs no fsync, one with entries writes only them.
      w.hard_state.reset();
    }
    if (sync_ && !w.install_snapshot && !w.compact) {
      process_ordered(rd, w, early);
    } else {
      process_durable(rd, w, early);
    }
  }
}

void Node::process_durable(Ready& rd, StorageWrite& w, std::size_t early) {
  // 1. Persist: durable before anything that depends on it leaves this node.
  if (!w.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = store_.write(w);
    if (on_write_)
      on_write_(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    RAFTLOCK_ASSERT_MSG(s.is_ok(), s.to_string().c_str());  // never retry an fsync
    if (w.hard_state) written_ = *w.hard_state;
    // The fsync covered every ordered write before it: the Readies in flight
    // finish first, in order.
    durable_seq_ = written_seq_;
    finish_durable();
  }
  // Only a snapshot or a compaction comes here while writes are pipelined,
  // and neither is an empty write.
  RAFTLOCK_ASSERT(in_flight_.empty());
  rd.put_back(std::move(w));
  // 2. A snapshot from the leader replaces the state machine.
  if (rd.snapshot) {
    sm_.restore(*rd.snapshot);
    last_image_bytes_ = rd.snapshot->data.size();
    bytes_since_snapshot_ = 0;
    ++stats_.snapshots_installed;
  }
  // 3. Send the rest.
  send_all(rd.messages);
  // 4. Apply the rest, then serve the reads that waited for it.
  apply_committed(rd.committed_entries, early, rd.committed_entries.size());
  after_apply(rd);
  core_.advance(rd);
  if ((rd.snapshot || !rd.committed_entries.empty()) && on_applied_) {
    on_applied_(sm_.applied_index());
  }
  maybe_snapshot();
}

void Node::process_ordered(Ready& rd, StorageWrite& w, std::size_t early) {
  // 1. Written in order after every earlier write; a sync makes it durable.
  InFlight f;
  if (!w.empty()) {
    f.written_at = std::chrono::steady_clock::now();
    f.wrote = true;
    Status s = store_.write_ordered(w);
    RAFTLOCK_ASSERT_MSG(s.is_ok(), s.to_string().c_str());
    if (w.hard_state) written_ = *w.hard_state;
    sync_->request(++written_seq_);
  }
  rd.put_back(std::move(w));
  // 2. Committed entries are durable on a quorum: they apply now, while this
  // node's own write may still be on its way to the disk (ready.h).
  apply_committed(rd.committed_entries, early, rd.committed_entries.size());
  after_apply(rd);
  core_.advance_applied(rd);
  const bool applied = !rd.committed_entries.empty();
  if (written_seq_ <= durable_seq_) {
    // 3. Nothing to wait for: send the rest now.
    send_all(rd.messages);
    core_.advance_written(rd);
  } else {
    // 3. Later, in on_synced.
    rd.committed_entries.clear();
    f.seq = written_seq_;
    f.rd = std::move(rd);
    in_flight_.push_back(std::move(f));
  }
  if (applied && on_applied_) on_applied_(sm_.applied_index());
  maybe_snapshot();
}

void Node::on_synced(std::uint64_t through) {
  durable_seq_ = std::max(durable_seq_, through);
  if (stopped_) return;  // nothing leaves a stopped node
  finish_durable();
  process();  // the leader's own acknowledgement may commit; Readies may have waited
}

void Node::finish_durable() {
  transport_.hold();
  while (!in_flight_.empty() && in_flight_.front().seq <= durable_seq_) {
    InFlight f = std::move(in_flight_.front());
    in_flight_.pop_front();
    for (const Message& m : f.rd.messages)
      transport_.send(m);
    if (f.wrote && on_write_) {
      on_write_(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - f.written_at).count());
    }
    core_.advance_written(f.rd);
  }
  transport_.release();
}

void Node::send_all(const std::vector<Message>& messages) {
  transport_.hold();
  for (const Message& m : messages)
    transport_.send(m);
  transport_.release();
}

void Node::after_apply(const Ready& rd) {
  if (rd.soft_state) {
    if (rd.soft_state->leader != last_leader_ && rd.soft_state->leader != kNoNode) {
      ++leader_changes_;
    }
    last_leader_ = rd.soft_state->leader;
    if (on_soft_) on_soft_(*rd.soft_state, core_.term());
  }
  for (const ReadState& r : rd.read_states) {
    if (on_read_) on_read_(r);
  }
}

void Node::apply_committed(const std::vector<Entry>& entries, std::size_t from, std::size_t to) {
  if (from >= to) return;
  for (std::size_t i = from; i < to; ++i)
    bytes_since_snapshot_ += entries[i].data.size();
  sm_.apply(std::span<const Entry>(entries).subspan(from, to - from));
}

void Node::maybe_snapshot() {
  const Index applied = core_.applied();
  if (snapshot_in_progress_ || opts_.snapshot_entries == 0 ||
      applied < core_.snapshot_index() + opts_.snapshot_entries ||
      (last_image_bytes_ > opts_.snapshot_small_image_bytes &&
       bytes_since_snapshot_ < last_image_bytes_)) {
    return;
  }
  if (sm_.applied_index() != applied) return;
  snapshot_in_progress_ = true;
  bytes_since_snapshot_ = 0;  // what applies while the image is built counts for the next
  // The image may be built off this thread; the node keeps serving meanwhile.
  sm_.snapshot_image_async([this, alive = alive_](Index index, Bytes image) {
    if (!*alive) return;
    snapshot_in_progress_ = false;
    const std::size_t bytes = image.size();
    Status s = core_.compact(index, std::move(image));
    if (s.is_ok()) {
      last_image_bytes_ = bytes;
      ++stats_.snapshots_taken;
    } else {
      // E.g. a newer snapshot arrived from the leader meanwhile: nothing to do.
      const std::string msg = "snapshot at " + std::to_string(index) + " skipped: " + s.to_string();
      if (log_)
        log_->info(msg);
      else
        std::fprintf(stderr, "%s\n", msg.c_str());
    }
    schedule_process();
  });
}

}  // namespace raftlock::raft
