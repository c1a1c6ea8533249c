// raft::Core: one Raft server's protocol logic, as a pure deterministic object.
//
// No clocks, sockets, files, threads or global randomness: time arrives as
// tick(), messages as step(), client requests as propose()/read_index()/...,
// and everything the server must do comes out as a Ready (ready.h). Given the
// same seed and the same inputs, a Core produces the same outputs, which is what
// lets tests/sim replay any fault schedule from its seed.
//
// Implemented (sections of the Raft paper, "§", and of Ongaro's thesis, "T§"):
// leader election with randomized timeouts (§5.2), PreVote (T§9.6),
// CheckQuorum and leader stickiness (T§6.2, T§4.2.3), log replication with the
// consistency check and conflict-term fast backup (§5.3), flow control,
// commitment of current-term entries only (§5.4.2) with a no-op on election (§8),
// ReadIndex (T§6.4), leadership transfer (T§3.10), single-server membership
// changes with learners (T§4.1, T§4.2.1), snapshots and log compaction (§7).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "raft/conf_change.h"
#include "raft/config.h"
#include "raft/log_store.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/read_only.h"
#include "raft/ready.h"
#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft {

struct PeerStatus {
  Index match = 0;
  Index next = 0;
  bool learner = false;
  bool recent_active = false;
  const char* state = "";  // "probe", "replicate" or "snapshot"
};

struct CoreStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  Term term = 0;
  NodeId vote = kNoNode;
  NodeId leader = kNoNode;
  Index commit = 0;
  Index applied = 0;
  Index first_index = 0;
  Index last_index = 0;
  Index snapshot_index = 0;
  ConfState conf;
  NodeId transferee = kNoNode;         // leadership transfer in progress (leader only)
  std::map<NodeId, PeerStatus> peers;  // leader only, excluding itself
};

// kVote context of an election started by TimeoutNow: overrides leader stickiness.
inline const Bytes kTransferContext = "transfer";
// kAppend context of a commit notice: an append the leader sends only to spread
// a new commit index, to a follower it replicates to. The follower answers it
// only if it rejects it (or if it is older than the follower's commit index):
// a success would repeat what its acknowledgements of the entries already said (a lost one is
// recovered through the next heartbeat's answer, which triggers an ordinary append).
inline const Bytes kCommitNoticeContext = "commit";

class Core {
 public:
  // Restores the server from `storage` (hard state, snapshot, log). `storage`
  // must outlive the Core and only change through the driver's writes of this
  // Core's Readies. REQUIRES: cfg.id != 0, 0 < cfg.heartbeat_ticks < cfg.election_ticks.
  Core(const Config& cfg, const LogView& storage);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // One unit of logical time: drives election timeouts and heartbeats.
  void tick();

  // Processes a message from a peer. Messages from unknown senders, stale
  // terms or with nonsensical fields are ignored (their Status says why).
  Status step(const Message& m);

  // Appends a command. On the leader it enters the log at once; on a follower
  // it is forwarded to the leader (kPropose) and may still be lost. Errors:
  // kNoLeader, kProposalDropped (transfer in progress), kLimitExceeded.
  Status propose(Bytes data);

  // Proposes a single-server membership change (T§4.1). Leader only
  // (kNotLeader otherwise). Refused with kBusy until the leader has
  // committed an entry of its own term, and while another change is uncommitted.
  Status propose_conf_change(const ConfChange& cc);

  // Asks for a linearizable read point (T§6.4): a ReadState{index, context}
  // appears in a later Ready once the leader has confirmed its leadership with
  // a quorum and has committed an entry of its term: a leader that has not yet
  // committed its no-op holds the read until it has. Followers ask the leader.
  // `context` must be unique among pending reads. Errors: kNoLeader.
  Status read_index(Bytes context);

  // Hands leadership to `to` (or to the most up-to-date voter if 0) with
  // TimeoutNow once it has caught up (T§3.10). Proposals are refused while a
  // transfer runs; it is abandoned after an election timeout.
  Status transfer_leadership(NodeId to);

  // Starts an election now (as if the election timer had fired).
  void campaign();

  // The state machine has a snapshot of everything up to `index` (<= applied):
  // a later Ready carries it in `compact`, and the log before it is dropped.
  Status compact(Index index, Bytes data);

  // Transport feedback: the peer could not be reached / a snapshot send ended.
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool ok);

  bool has_ready() const;
  // Collects the pending outputs. REQUIRES: the previous Ready was advanced,
  // or, for a driver that pipelines its writes (ready.h), every earlier Ready
  // had advance_applied, and none still waiting for advance_written holds a
  // snapshot or a compaction.
  Ready ready();
  // The driver has done everything `rd` asked (see ready.h): both halves below.
  void advance(const Ready& rd);
  // A pipelined driver's two halves of advance() (ready.h): `rd`'s committed
  // entries are applied (and its snapshot restored); `rd`'s write is durable.
  // advance_written comes for the Readies in the order ready() gave them.
  void advance_applied(const Ready& rd);
  void advance_written(const Ready& rd);

  CoreStatus status() const;
  // Parts of status() without building the rest (the driver reads them on
  // every Ready).
  Role role() const { return role_; }
  Term term() const { return term_; }
  Index applied() const;
  Index snapshot_index() const;  // as status().snapshot_index
  // Term of entry i in this server's log (stable or not); for observers/tests.
  Result<Term> term_at(Index i) const { return log_.term(i); }

 private:
  // core.cc: state transitions and the entry points
  void reset(Term term);
  void become_follower(Term term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void tick_election();
  void tick_heartbeat();
  bool promotable() const;
  bool past_election_timeout() const;
  void reset_randomized_election_timeout();
  void send(Message m);
  void coalesce_messages();  // ready(): merges messages that one message can carry
  Status step_by_role(const Message& m);
  Status step_follower(const Message& m);
  Status step_candidate(const Message& m);
  HardState hard_state() const;
  SoftState soft_state() const;

  // core_election.cc
  void start_election(bool pre_vote, bool transfer);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  int poll(NodeId id, bool granted);  // +1 won, -1 lost, 0 pending

  // core_replication.cc (follower side and the leader's sends)
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool send_append(NodeId to, bool send_if_empty = true, bool commit_notice = false);
  void send_heartbeat(NodeId to, const Bytes& context);
  void bcast_append();
  void bcast_commit();  // after the commit index advanced: entries or commit notices
  void bcast_heartbeat(const Bytes& context);
  bool append_entries(std::vector<Entry> entries);  // leader: assign term/index
  bool maybe_commit();

  // core_leader.cc
  Status step_leader(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void handle_read_index(const Message& m);
  void release_ready_reads(const std::vector<ReadRequest>& reads);
  void check_quorum_and_step_down();
  bool committed_in_current_term() const;
  void abort_transfer();
  void send_timeout_now(NodeId to);

  // core_membership.cc
  void restore_conf(const SnapshotMeta& snap);
  // Entries from index `from` on were (re)written: forget configurations at or
  // after `from`, then adopt those among `entries` (T§4.1).
  void on_appended(const std::vector<Entry>& entries, Index from);
  void forget_conf_before(Index index);  // after compaction up to `index`
  void conf_changed();                   // updates progress tracking after a change
  void on_commit_advanced();
  ConfState conf_at(Index i) const;
  const ConfState& conf() const;

  Config cfg_;
  NodeId id_;
  RaftLog log_;
  std::mt19937_64 rng_;

  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;
  Role role_ = Role::kFollower;
  std::map<NodeId, Progress> prs_;  // leader's view of every member (itself included)
  std::map<NodeId, bool> votes_;    // (pre-)candidate's received answers
  ReadOnly read_only_;
  std::vector<Message> pending_reads_;  // leader: kReadIndex waiting for the no-op to commit
  NodeId transferee_ = kNoNode;
  int transfer_elapsed_ = 0;
  Index pending_conf_index_ = 0;   // leader: index of the last conf change proposed
  Index uncommitted_entries_ = 0;  // leader: cheap bound on proposals in flight

  // Configuration history (T§4.1): base_conf_ as of the snapshot, then one
  // (index, configuration) per kConfChange entry in the log, in index order.
  ConfState base_conf_;
  std::vector<std::pair<Index, ConfState>> conf_log_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;

  // Outputs not yet handed out by ready().
  bool bcast_pending_ = false;  // leader: proposals appended, kAppends not yet sent
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  std::optional<Snapshot> pending_compact_;
  HardState prev_hard_state_;
  SoftState prev_soft_state_;
};

}  // namespace raftlock::raft
