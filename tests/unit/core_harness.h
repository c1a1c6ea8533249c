// Test harness for unit tests of one raft::Core: a MemoryLogStore, the driver
// loop of ready.h (persist, restore, send, apply, advance), and builders for
// hand-made messages. Tests drive the core through its public inputs and look
// only at its outputs: Readies (messages, committed entries, read states,
// snapshots), status() and term_at().
//
// The driver loop also checks "persist before send" (Figure 2: state is
// "updated on stable storage before responding to RPCs"): when a message
// leaves, whatever it vouches for must already be in the store.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/core.h"
#include "raft/memory_log_store.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace doctest {
template <>
struct StringMaker<raftlock::raft::Role> {
  static String convert(raftlock::raft::Role r) { return raftlock::raft::role_name(r); }
};
template <>
struct StringMaker<raftlock::ErrorCode> {
  static String convert(raftlock::ErrorCode c) { return raftlock::error_code_name(c); }
};
template <>
struct StringMaker<raftlock::raft::MessageType> {
  static String convert(raftlock::raft::MessageType t) {
    return raftlock::raft::message_type_name(t);
  }
};
}  // namespace doctest

namespace raftlock::raft::test {

#define CHECK_OK(expr)                                           \
  do {                                                           \
    const ::raftlock::Status check_ok_s_ = (expr);               \
    CHECK_MESSAGE(check_ok_s_.is_ok(), check_ok_s_.to_string()); \
  } while (0)

inline ConfState voters(std::initializer_list<NodeId> ids) {
  ConfState c;
  c.voters = ids;
  return c;
}

inline std::string conf_str(const ConfState& c) {
  std::string s = "voters{";
  for (NodeId id : c.voters)
    s += std::to_string(id) + " ";
  s += "} learners{";
  for (NodeId id : c.learners)
    s += std::to_string(id) + " ";
  return s + "}";
}

// Unit tests look at the rules of Figure 2 alone unless they ask for the
// thesis extensions (PreVote, CheckQuorum) explicitly.
inline Config unit_config(NodeId id) {
  Config c;
  c.id = id;
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.pre_vote = false;
  c.check_quorum = false;
  c.seed = 1000 + id * 7919;
  return c;
}

inline Entry ent(Index i, Term t, std::string data = "") {
  if (data.empty()) data = "e" + std::to_string(i) + "t" + std::to_string(t);
  return Entry{t, i, EntryType::kNormal, std::move(data)};
}

// Writes a log to `store`: the bootstrap entry (index 1, term 1, holding
// `conf`), then one kNormal entry per element of `terms_from_2` at indexes
// 2, 3, ..., and the hard state {term, no vote, commit}.
inline void fill_store(MemoryLogStore& store, const ConfState& conf,
                       const std::vector<Term>& terms_from_2, Term term, Index commit = 1) {
  const Status b = store.write(bootstrap_write(conf));
  REQUIRE_MESSAGE(b.is_ok(), b.to_string());
  StorageWrite w;
  Term max_term = 1;
  for (std::size_t k = 0; k < terms_from_2.size(); ++k) {
    w.entries.push_back(ent(2 + k, terms_from_2[k]));
    max_term = std::max(max_term, terms_from_2[k]);
  }
  REQUIRE(term >= max_term);
  REQUIRE(commit <= 1 + terms_from_2.size());
  w.hard_state = HardState{term, kNoNode, commit};
  const Status s = store.write(w);
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
}

// "1 1 1 4 4": the terms of a core's log from its first index (or the
// snapshot index, marked with '|') to its last.
inline std::string log_terms(const Core& core) {
  const CoreStatus st = core.status();
  std::string s;
  for (Index i = st.first_index; i <= st.last_index; ++i) {
    const Result<Term> t = core.term_at(i);
    if (!s.empty()) s += " ";
    s += t.is_ok() ? std::to_string(*t) : "?";
  }
  return s;
}

// ---- message builders -------------------------------------------------------

inline Message make_msg(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

inline Message append_msg(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
                          std::vector<Entry> entries, Index commit) {
  Message m = make_msg(MessageType::kAppend, from, to, term);
  m.index = prev_index;
  m.log_term = prev_term;
  m.entries = std::move(entries);
  m.commit = commit;
  return m;
}

inline Message append_resp(NodeId from, NodeId to, Term term, Index index, bool reject = false,
                           Index hint = 0, Term hint_term = 0) {
  Message m = make_msg(MessageType::kAppendResp, from, to, term);
  m.index = index;
  m.reject = reject;
  m.reject_hint = hint;
  m.hint_term = hint_term;
  return m;
}

inline Message heartbeat(NodeId from, NodeId to, Term term, Index commit, Bytes ctx = "") {
  Message m = make_msg(MessageType::kHeartbeat, from, to, term);
  m.commit = commit;
  m.context = std::move(ctx);
  return m;
}

inline Message heartbeat_resp(NodeId from, NodeId to, Term term, Bytes ctx = "") {
  Message m = make_msg(MessageType::kHeartbeatResp, from, to, term);
  m.context = std::move(ctx);
  return m;
}

inline Message vote_req(NodeId from, NodeId to, Term term, Index last_index, Term last_term,
                        bool pre = false) {
  Message m = make_msg(pre ? MessageType::kPreVote : MessageType::kVote, from, to, term);
  m.index = last_index;
  m.log_term = last_term;
  return m;
}

inline Message vote_resp(NodeId from, NodeId to, Term term, bool reject, bool pre = false) {
  Message m = make_msg(pre ? MessageType::kPreVoteResp : MessageType::kVoteResp, from, to, term);
  m.reject = reject;
  return m;
}

inline Message snapshot_msg(NodeId from, NodeId to, Term term, Index index, Term snap_term,
                            ConfState conf, Bytes data = "image") {
  Message m = make_msg(MessageType::kSnapshot, from, to, term);
  m.snapshot.meta.index = index;
  m.snapshot.meta.term = snap_term;
  m.snapshot.meta.conf = std::move(conf);
  m.snapshot.data = std::move(data);
  return m;
}

// ---- one core and its driver -----------------------------------------------

class Harness {
 public:
  // A founding member of `conf` whose log is the bootstrap entry followed by
  // entries of `terms_from_2`; its hard state is {term, none, commit} (term 0
  // keeps what bootstrap wrote: term 1, commit 1).
  explicit Harness(NodeId id = 1, ConfState conf = voters({1, 2, 3}),
                   std::vector<Term> terms_from_2 = {}, Term term = 0, Index commit = 1,
                   Config cfg = Config{})
      : conf_(conf) {
    cfg_ = cfg.id == kNoNode ? unit_config(id) : cfg;
    if (term == 0) term = 1;
    for (Term t : terms_from_2)
      term = std::max(term, t);
    fill_store(store_, conf, terms_from_2, term, commit);
    start();
  }

  // A harness with a fully specified config (pre_vote etc.).
  static std::unique_ptr<Harness> with_config(Config cfg, ConfState conf = voters({1, 2, 3}),
                                              std::vector<Term> terms_from_2 = {}, Term term = 0,
                                              Index commit = 1) {
    return std::make_unique<Harness>(cfg.id, conf, terms_from_2, term, commit, cfg);
  }

  Core& core() { return *core_; }
  const Core& core() const { return *core_; }
  CoreStatus status() const { return core_->status(); }
  NodeId id() const { return cfg_.id; }
  MemoryLogStore& store() { return store_; }
  const ConfState& founding_conf() const { return conf_; }

  // The driver loop of ready.h, until the core has nothing more to hand out.
  void drain() {
    for (int rounds = 0; core_->has_ready(); ++rounds) {
      REQUIRE_MESSAGE(rounds < 1000, "has_ready() never becomes false");
      Ready rd = core_->ready();
      const Status s = store_.write(rd.storage_write());
      REQUIRE_MESSAGE(s.is_ok(), "store.write: " << s.to_string());
      if (rd.snapshot) {
        installed_.push_back(*rd.snapshot);
        applied_index_ = rd.snapshot->meta.index;
      }
      if (rd.compact) compacts_.push_back(*rd.compact);
      if (rd.soft_state) soft_states_.push_back(*rd.soft_state);
      if (rd.hard_state) hard_states_.push_back(*rd.hard_state);
      for (const Message& m : rd.messages) {
        check_persisted_before_send(m);
        outbox_.push_back(m);
      }
      for (const Entry& e : rd.committed_entries) {
        CHECK_MESSAGE(e.index == applied_index_ + 1,
                      "applied " << e.index << " after " << applied_index_);
        CHECK_MESSAGE(store_.term(e.index).is_ok(),
                      "applied entry " << e.index << " is not in the store");
        applied_index_ = e.index;
        applied_.push_back(e);
      }
      for (const ReadState& r : rd.read_states)
        read_states_.push_back(r);
      core_->advance(rd);
    }
  }

  Status step(const Message& m) {
    const Status s = core_->step(m);
    drain();
    return s;
  }
  void tick(int n = 1) {
    for (int k = 0; k < n; ++k) {
      core_->tick();
      drain();
    }
  }
  void campaign() {
    core_->campaign();
    drain();
  }
  Status propose(Bytes data) {
    const Status s = core_->propose(std::move(data));
    drain();
    return s;
  }
  Status read_index(Bytes ctx) {
    const Status s = core_->read_index(std::move(ctx));
    drain();
    return s;
  }

  // Simulates a crash and restart: the core is rebuilt from the store; the
  // state machine (here: the applied list) is persistent.
  void restart() {
    core_.reset();
    outbox_.clear();
    start();
  }

  // Messages sent so far and not yet taken.
  const std::vector<Message>& outbox() const { return outbox_; }
  std::vector<Message> take_messages() {
    std::vector<Message> out;
    out.swap(outbox_);
    return out;
  }
  // Takes the messages of type `t` (optionally to `to`), leaves the rest.
  std::vector<Message> take(MessageType t, NodeId to = kNoNode) {
    std::vector<Message> out, keep;
    for (Message& m : outbox_) {
      if (m.type == t && (to == kNoNode || m.to == to)) {
        out.push_back(std::move(m));
      } else {
        keep.push_back(std::move(m));
      }
    }
    outbox_.swap(keep);
    return out;
  }
  // The only message of type `t` to `to`; fails the test if there is not exactly one.
  Message take_one(MessageType t, NodeId to) {
    std::vector<Message> ms = take(t, to);
    REQUIRE_MESSAGE(ms.size() == 1, "expected one " << message_type_name(t) << " to " << to
                                                    << ", got " << ms.size());
    return ms.front();
  }

  const std::vector<Entry>& applied() const { return applied_; }
  Index applied_index() const { return applied_index_; }
  std::vector<ReadState> take_read_states() {
    std::vector<ReadState> out;
    out.swap(read_states_);
    return out;
  }
  const std::vector<Snapshot>& installed_snapshots() const { return installed_; }
  const std::vector<Snapshot>& compacts() const { return compacts_; }
  const std::vector<SoftState>& soft_states() const { return soft_states_; }
  const std::vector<HardState>& hard_states() const { return hard_states_; }

  // Makes this core leader through a real election: campaign() and grants
  // from every peer. PreVote, if enabled, is answered the same way.
  void elect() {
    campaign();
    for (int round = 0; round < 3 && status().role != Role::kLeader; ++round) {
      const bool pre = status().role == Role::kPreCandidate;
      const MessageType req = pre ? MessageType::kPreVote : MessageType::kVote;
      std::vector<Message> reqs = take(req);
      REQUIRE_MESSAGE(!reqs.empty(),
                      "a " << role_name(status().role) << " sent no " << message_type_name(req));
      for (const Message& m : reqs)
        step(vote_resp(m.to, id(), m.term, false, pre));
    }
    REQUIRE(status().role == Role::kLeader);
    take_messages();
  }

  // Every voter acknowledges the leader's whole log: commits it (the no-op
  // included) and clears the outbox.
  void ack_all() {
    const CoreStatus st = status();
    REQUIRE(st.role == Role::kLeader);
    for (NodeId p : st.conf.voters) {
      if (p != id()) step(append_resp(p, id(), st.term, st.last_index));
    }
    take_messages();
  }

 private:
  void start() {
    Config c = cfg_;
    c.applied = applied_index_;
    core_ = std::make_unique<Core>(c, store_);
    drain();
  }

  // Figure 2: persistent state is on stable storage before the RPC is answered.
  void check_persisted_before_send(const Message& m) {
    CHECK(m.from == cfg_.id);
    const HardState hs = store_.initial_state().hard_state;
    if (m.type == MessageType::kVoteResp && !m.reject) {
      CHECK_MESSAGE(hs.term == m.term,
                    "vote granted in term " << m.term << " before the term was stored");
      CHECK_MESSAGE(hs.vote == m.to, "vote for " << m.to << " sent before it was stored");
    }
    if (m.type == MessageType::kVote) {
      CHECK_MESSAGE(hs.term == m.term,
                    "RequestVote for term " << m.term << " before the term was stored");
      CHECK_MESSAGE(hs.vote == cfg_.id, "a candidate sent RequestVote before storing its own vote");
    }
    if (m.type == MessageType::kAppend) {
      for (const Entry& e : m.entries) {
        const Result<Term> t = store_.term(e.index);
        CHECK_MESSAGE((t.is_ok() && *t == e.term),
                      "kAppend carries entry " << e.index << " before it was stored");
      }
    }
    if (m.type == MessageType::kAppendResp && !m.reject) {
      CHECK_MESSAGE(store_.last_index() >= m.index, "acknowledged index "
                                                        << m.index << " beyond the stored log "
                                                        << store_.last_index());
    }
  }

  Config cfg_;
  ConfState conf_;
  MemoryLogStore store_;
  std::unique_ptr<Core> core_;
  std::vector<Message> outbox_;
  std::vector<Entry> applied_;
  Index applied_index_ = 0;
  std::vector<ReadState> read_states_;
  std::vector<Snapshot> installed_;
  std::vector<Snapshot> compacts_;
  std::vector<SoftState> soft_states_;
  std::vector<HardState> hard_states_;
};

}  // namespace raftlock::raft::test
