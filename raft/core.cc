// raft::Core: construction, state transitions, the step() entry point with the
// term rules applied once for every message, and the Ready/advance cycle.
#include "raft/core.h"

#include <algorithm>

#include "raft/assert.h"

namespace raftlock::raft {

namespace {
constexpr std::uint64_t kMaxApplyBytes = 64ull << 20;

bool is_local_request(MessageType t) {
  return t == MessageType::kPropose || t == MessageType::kReadIndex;
}
}  // namespace

Core::Core(const Config& cfg, const LogView& storage)
    : cfg_(cfg),
      id_(cfg.id),
      log_(storage, cfg.applied),
      rng_(cfg.seed * 0x9E3779B97F4A7C15ull + cfg.id) {
  RAFTLOCK_ASSERT_MSG(id_ != kNoNode, "node id must not be 0");
  RAFTLOCK_ASSERT(cfg_.heartbeat_ticks > 0 && cfg_.heartbeat_ticks < cfg_.election_ticks);
  RAFTLOCK_ASSERT(cfg_.max_inflight_msgs > 0 && cfg_.max_msg_entries > 0);
  const InitialState init = storage.initial_state();
  term_ = init.hard_state.term;
  vote_ = init.hard_state.vote;
  restore_conf(init.snapshot);
  // T§4.1: the configuration in force is the latest one in the log.
  if (log_.last_index() >= log_.first_index()) {
    auto all = log_.slice(log_.first_index(), log_.last_index() + 1, UINT64_MAX);
    RAFTLOCK_ASSERT_MSG(all.is_ok(), "stored log unreadable");
    on_appended(*all, log_.first_index());
  }
  become_follower(term_, kNoNode);
  prev_hard_state_ = hard_state();
  prev_soft_state_ = soft_state();
}

HardState Core::hard_state() const {
  return HardState{term_, vote_, log_.committed()};
}

SoftState Core::soft_state() const {
  return SoftState{leader_, role_};
}

// --- transitions ------------------------------------------------------------

void Core::reset(Term term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  bcast_pending_ = false;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  transferee_ = kNoNode;
  votes_.clear();
  read_only_.clear();
  pending_reads_.clear();
  pending_conf_index_ = 0;
  prs_.clear();
  const ConfState& c = conf();
  for (NodeId v : c.voters)
    prs_.emplace(v, Progress(log_.last_index() + 1, cfg_.max_inflight_msgs, false));
  for (NodeId l : c.learners)
    prs_.emplace(l, Progress(log_.last_index() + 1, cfg_.max_inflight_msgs, true));
  // The leader's own entry in the quorum counts what its log holds durably
  // (T§10.2.1): advance() moves it as the driver's writes complete.
  if (auto it = prs_.find(id_); it != prs_.end()) it->second.match = log_.stable_last_index();
}

void Core::become_follower(Term term, NodeId leader) {
  reset(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Core::become_pre_candidate() {
  // T§9.6: a pre-candidate does not change its term or vote.
  RAFTLOCK_ASSERT(role_ != Role::kLeader);
  role_ = Role::kPreCandidate;
  votes_.clear();
  leader_ = kNoNode;
}

void Core::become_candidate() {
  // §5.2: "increment currentTerm, vote for self".
  RAFTLOCK_ASSERT(role_ != Role::kLeader);
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Core::become_leader() {
  RAFTLOCK_ASSERT(role_ == Role::kCandidate);
  reset(term_);
  role_ = Role::kLeader;
  leader_ = id_;
  for (auto& [id, pr] : prs_) {
    if (id == id_) pr.become_replicate();
  }
  // Any configuration change still uncommitted in the log counts as pending.
  pending_conf_index_ = log_.last_index();
  // §8 / §5.4.2: a no-op of the new term lets the leader learn what is
  // committed and commit entries of earlier terms indirectly.
  append_entries({Entry{0, 0, EntryType::kNoop, {}}});
  bcast_append();
}

void Core::reset_randomized_election_timeout() {
  // §5.2: randomized in [election_ticks, 2 * election_ticks), redrawn each time.
  randomized_election_timeout_ =
      cfg_.election_ticks +
      static_cast<int>(rng_() % static_cast<std::uint64_t>(cfg_.election_ticks));
}

bool Core::promotable() const {
  return conf().voters.count(id_) > 0 && !log_.next_unstable_snapshot();
}

bool Core::past_election_timeout() const {
  return election_elapsed_ >= randomized_election_timeout_;
}

// --- time -------------------------------------------------------------------

void Core::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Core::tick_election() {
  ++election_elapsed_;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    start_election(cfg_.pre_vote, false);
  }
}

void Core::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) check_quorum_and_step_down();
    if (role_ != Role::kLeader) return;
    abort_transfer();  // T§3.10: a transfer that did not finish in an election timeout ends
    for (auto& [id, pr] : prs_) {
      // A snapshot that got no answer for a whole round was lost: probe again.
      if (pr.state == Progress::State::kSnapshot && ++pr.snapshot_rounds > 1) pr.become_probe();
    }
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    bcast_heartbeat(read_only_.last_pending());
  }
}

// --- messages ---------------------------------------------------------------

void Core::send(Message m) {
  m.from = id_;
  if (m.term == 0 && !is_local_request(m.type)) m.term = term_;
  msgs_.push_back(std::move(m));
}

Status Core::step(const Message& m) {
  if (m.from == kNoNode || m.from == id_) {
    return Status(ErrorCode::kInvalidArgument, "message from an invalid sender");
  }
  if (m.type == MessageType::kAppend) {
    for (std::size_t k = 0; k < m.entries.size(); ++k) {
      if (m.entries[k].index != m.index + 1 + k || m.entries[k].term > m.term) {
        return Status(ErrorCode::kInvalidArgument, "append with non-consecutive entries");
      }
    }
  }
  if (is_local_request(m.type)) return step_by_role(m);

  // §5.1: "If RPC request or response contains term T > currentTerm: set
  // currentTerm = T, convert to follower" -- with the PreVote exceptions.
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool force = m.context == kTransferContext;
      const bool in_lease =
          cfg_.check_quorum && leader_ != kNoNode && election_elapsed_ < cfg_.election_ticks;
      // T§4.2.3: a server that heard from a leader within the minimum election
      // timeout ignores vote requests, so removed or partitioned servers cannot
      // disrupt a healthy cluster. A transfer (TimeoutNow) overrides this.
      if (!force && in_lease) return Status(ErrorCode::kConflict, "vote ignored: leader lease");
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // A granted pre-vote carries the term we will campaign in, not a new term.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kAppend)) {
      // A leader of an older term (e.g. rejoining after a partition) learns our
      // term from this answer and steps down.
      send(Message{.type = MessageType::kAppendResp, .to = m.from});
    } else if (m.type == MessageType::kPreVote) {
      // Tell the pre-candidate our term so it can catch up (etcd #8243).
      send(Message{.type = MessageType::kPreVoteResp, .to = m.from, .reject = true});
    }
    return Status(ErrorCode::kConflict, "stale term");
  }

  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    handle_vote_request(m);
    return Status::ok();
  }
  return step_by_role(m);
}

Status Core::step_by_role(const Message& m) {
  switch (role_) {
    case Role::kLeader:
      return step_leader(m);
    case Role::kFollower:
      return step_follower(m);
    case Role::kPreCandidate:
    case Role::kCandidate:
      return step_candidate(m);
  }
  return Status::ok();
}

Status Core::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
    case MessageType::kReadIndex:
      if (leader_ == kNoNode) return Status(ErrorCode::kNoLeader, "no leader");
      // Only forward our own requests: a request forwarded to us by a node
      // that thought we lead is dropped rather than bounced around.
      if (m.from != id_) return Status(ErrorCode::kNotLeader, "not the leader");
      {
        Message fwd = m;
        fwd.to = leader_;
        send(std::move(fwd));
      }
      return Status::ok();
    case MessageType::kAppend:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_append(m);
      return Status::ok();
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_heartbeat(m);
      return Status::ok();
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_snapshot(m);
      return Status::ok();
    case MessageType::kTimeoutNow:
      // T§3.10: start an election at once, even though a leader is alive.
      if (promotable()) start_election(false, true);
      return Status::ok();
    case MessageType::kReadIndexResp:
      read_states_.push_back(ReadState{m.index, m.context});
      return Status::ok();
    default:
      return Status::ok();
  }
}

Status Core::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
    case MessageType::kReadIndex:
      return Status(ErrorCode::kNoLeader, "election in progress");
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      // §5.2: an AppendEntries from a leader of our term: that leader won.
      become_follower(m.term, m.from);
      return step_follower(m);
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
      handle_vote_response(m);
      return Status::ok();
    default:
      return Status::ok();
  }
}

// --- client requests --------------------------------------------------------

Status Core::propose(Bytes data) {
  Message m{.type = MessageType::kPropose, .from = id_, .to = id_};
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return step_by_role(m);
}

Status Core::read_index(Bytes context) {
  Message m{.type = MessageType::kReadIndex, .from = id_, .to = id_};
  m.context = std::move(context);
  return step_by_role(m);
}

void Core::campaign() {
  if (role_ == Role::kLeader || !promotable()) return;
  start_election(cfg_.pre_vote, false);
}

Status Core::compact(Index index, Bytes data) {
  if (index < log_.first_index()) return Status(ErrorCode::kConflict, "already compacted");
  if (index > log_.applied()) return Status(ErrorCode::kInvalidArgument, "index not applied yet");
  auto t = log_.term(index);
  if (!t) return t.status();
  if (pending_compact_ && pending_compact_->meta.index >= index) {
    return Status(ErrorCode::kConflict, "a newer snapshot is pending");
  }
  pending_compact_ = Snapshot{SnapshotMeta{index, *t, conf_at(index)}, std::move(data)};
  return Status::ok();
}

// --- Ready ------------------------------------------------------------------

void Core::coalesce_messages() {
  // A follower's proposals to the leader travel in one kPropose; of its
  // (cumulative) acknowledgements of one term to the leader, the highest
  // stands for the others. Order among the proposals is kept. Of commit
  // notices to a peer with nothing between them, the last (the highest
  // commit index) stands for the others.
  std::map<NodeId, std::size_t> propose_at;  // kept kPropose to a node
  std::map<NodeId, std::size_t> ack_at;      // kept kAppendResp to a node
  std::map<NodeId, std::size_t> last_to;     // kept message last sent to a node
  const auto is_notice = [](const Message& x) {
    return x.type == MessageType::kAppend && x.entries.empty() && x.context == kCommitNoticeContext;
  };
  std::size_t kept = 0;
  for (std::size_t k = 0; k < msgs_.size(); ++k) {
    Message& m = msgs_[k];
    if (is_notice(m)) {
      auto it = last_to.find(m.to);
      if (it != last_to.end() && is_notice(msgs_[it->second]) && msgs_[it->second].term == m.term) {
        msgs_[it->second] = std::move(m);
        continue;
      }
    }
    if (m.type == MessageType::kPropose) {
      auto [it, fresh] = propose_at.try_emplace(m.to, kept);
      if (!fresh) {
        std::vector<Entry>& into = msgs_[it->second].entries;
        into.insert(into.end(), std::make_move_iterator(m.entries.begin()),
                    std::make_move_iterator(m.entries.end()));
        last_to[m.to] = it->second;
        continue;
      }
    } else if (m.type == MessageType::kAppendResp && !m.reject) {
      auto [it, fresh] = ack_at.try_emplace(m.to, kept);
      if (!fresh) {
        Message& earlier = msgs_[it->second];
        if (earlier.term == m.term) {
          earlier.index = std::max(earlier.index, m.index);
          last_to[m.to] = it->second;
          continue;
        }
        it->second = kept;
      }
    }
    last_to[m.to] = kept;
    if (kept != k) msgs_[kept] = std::move(m);
    ++kept;
  }
  msgs_.resize(kept);
}

bool Core::has_ready() const {
  return bcast_pending_ || soft_state() != prev_soft_state_ || hard_state() != prev_hard_state_ ||
         log_.has_next_unstable() || pending_compact_.has_value() || log_.has_next_committed() ||
         !msgs_.empty() || !read_states_.empty();
}

Ready Core::ready() {
  if (bcast_pending_) {
    bcast_pending_ = false;
    if (role_ == Role::kLeader) bcast_append();
  }
  coalesce_messages();
  Ready rd;
  if (soft_state() != prev_soft_state_) {
    rd.soft_state = soft_state();
    prev_soft_state_ = soft_state();
  }
  if (hard_state() != prev_hard_state_) {
    rd.hard_state = hard_state();
    // Then no message may leave before the write is durable (ready.h).
    rd.term_or_vote_changes = rd.hard_state->term != prev_hard_state_.term ||
                              rd.hard_state->vote != prev_hard_state_.vote;
    prev_hard_state_ = hard_state();
  }
  rd.snapshot = log_.next_unstable_snapshot();
  rd.entries = log_.next_unstable_entries();
  log_.accept_unstable();
  rd.compact = std::move(pending_compact_);
  pending_compact_.reset();
  if (rd.snapshot) log_.applying_to(rd.snapshot->meta.index);
  rd.committed_entries = log_.next_committed(kMaxApplyBytes);
  if (!rd.committed_entries.empty()) log_.applying_to(rd.committed_entries.back().index);
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  return rd;
}

void Core::advance(const Ready& rd) {
  advance_applied(rd);
  advance_written(rd);
}

void Core::advance_applied(const Ready& rd) {
  if (rd.snapshot) log_.applied_to(rd.snapshot->meta.index);
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().index);
}

void Core::advance_written(const Ready& rd) {
  if (rd.snapshot) log_.stable_snapshot_to(rd.snapshot->meta.index);
  // With writes pipelined, a later Ready may have replaced these entries
  // since: stable_to then ignores them (its term check), and they count as
  // durable only with the write that replaced them.
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (rd.compact) forget_conf_before(rd.compact->meta.index);
  if ((rd.snapshot || !rd.entries.empty()) && role_ == Role::kLeader) {
    // The leader's own acknowledgement: its write is durable now (T§10.2.1).
    auto it = prs_.find(id_);
    if (it != prs_.end() && it->second.maybe_update(log_.stable_last_index()) && maybe_commit() &&
        role_ == Role::kLeader) {
      bcast_commit();
    }
  }
}

Index Core::applied() const {
  return log_.applied();
}

Index Core::snapshot_index() const {
  return log_.first_index() - 1;
}

CoreStatus Core::status() const {
  CoreStatus s;
  s.id = id_;
  s.role = role_;
  s.term = term_;
  s.vote = vote_;
  s.leader = leader_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.snapshot_index = snapshot_index();
  s.conf = conf();
  s.transferee = transferee_;
  if (role_ == Role::kLeader) {
    for (const auto& [id, pr] : prs_) {
      if (id == id_) continue;
      s.peers[id] = PeerStatus{pr.match, pr.next, pr.learner, pr.recent_active, pr.state_name()};
    }
  }
  return s;
}

}  // namespace raftlock::raft
