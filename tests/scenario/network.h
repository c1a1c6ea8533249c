// A deterministic in-process network of raft::Cores for scripted scenarios.
//
// Each TestNode is a Core over a MemoryLogStore plus a tiny state machine,
// driven exactly as ready.h says: write storage, restore a received snapshot,
// queue the messages, apply committed entries, advance. Messages wait in one
// FIFO queue until the script delivers them: all of them, or only some, with
// links cut, nodes isolated or crashed, and drop rules. Nothing is random:
// the same script gives the same run.
//
// After every delivered message and every tick the network checks the safety
// properties of Figure 3 that it can see from outside the cores:
//   - Election Safety: at most one leader per term;
//   - State Machine Safety: no two nodes apply different entries at an index;
//   - Log Matching on committed prefixes;
//   - Leader Completeness: the leader of the highest term seen holds every
//     applied entry;
//   - each node applies index applied+1 next, and commit <= last index.
// A violation fails the test case (or is recorded, for tests that mutate the
// core on purpose and expect the checker to notice).
#pragma once

#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/core.h"
#include "raft/memory_log_store.h"
#include "raft/ready.h"
#include "raft/types.h"

#define CHECK_OK(expr)                                           \
  do {                                                           \
    const ::raftlock::Status check_ok_s_ = (expr);               \
    CHECK_MESSAGE(check_ok_s_.is_ok(), check_ok_s_.to_string()); \
  } while (0)

namespace raftlock::raft::scenario {

// The replicated state machine: the ordered list of applied commands.
struct TestStateMachine {
  Index applied = 0;
  std::vector<std::string> commands;  // data of applied kNormal entries

  // The image stored in snapshots: every command, one per line.
  std::string image() const;
  void restore(const Snapshot& s);
  std::string state() const { return image(); }
};

struct NodeOptions {
  bool pre_vote = false;
  bool check_quorum = false;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  std::uint64_t max_msg_entries = 256;
  Mutations mutations;
};

class TestNode {
 public:
  TestNode(NodeId id, const NodeOptions& opt);

  NodeId id() const { return cfg_.id; }
  Config& config() { return cfg_; }
  bool up() const { return core_ != nullptr; }
  Core& core();
  const Core& core() const;
  CoreStatus status() const { return core().status(); }
  MemoryLogStore& store() { return *store_; }
  TestStateMachine& sm() { return sm_; }
  const TestStateMachine& sm() const { return sm_; }
  // "1 1 1 4 4": terms of the log from the snapshot index (if any) to the end.
  std::string log_terms() const;
  // The same, read from the store: works while the node is down.
  std::string stored_log_terms() const;

  // The core is destroyed; the store and the state machine survive (both are
  // durable here: MemoryLogStore::write is the fsync).
  void crash() { core_.reset(); }
  // A new core from the store, told how far the state machine got.
  void start();
  // Replaces the store (before start(), or after crash()).
  void reset_store(std::unique_ptr<MemoryLogStore> store) {
    REQUIRE(!up());
    store_ = std::move(store);
    sm_ = TestStateMachine{};
  }

 private:
  Config cfg_;
  std::unique_ptr<MemoryLogStore> store_;
  std::unique_ptr<Core> core_;
  TestStateMachine sm_;
  friend class Network;
  Role last_role_ = Role::kFollower;
};

// Builds a store with the bootstrap entry for `conf` at index 1 (term 1), then
// kNormal entries with the given terms at 2, 3, ..., and hard state
// {term, no vote, commit 1}.
std::unique_ptr<MemoryLogStore> make_store(const ConfState& conf,
                                           const std::vector<Term>& terms_from_2, Term term);

class Network {
 public:
  using Pred = std::function<bool(const Message&)>;

  // Founding members `ids`, each bootstrapped with ConfState{ids, {}}, started.
  explicit Network(std::vector<NodeId> ids, NodeOptions opt = {});

  // A node with an empty store (not a member until the leader adds it).
  TestNode& add_node(NodeId id);
  TestNode& node(NodeId id);
  Core& core(NodeId id) { return node(id).core(); }
  CoreStatus status(NodeId id) { return node(id).status(); }
  std::vector<NodeId> ids() const;

  // ---- driving -------------------------------------------------------------
  // Runs the driver loop of every running node until none has a Ready.
  void process();
  // Delivers queued messages (and those they cause) until the queue is empty
  // or `max` messages were delivered. Returns the number delivered.
  int deliver_all(int max = 100000);
  // Delivers only messages matching `pred` (and, recursively, matching
  // messages they cause); the others stay queued.
  int deliver_if(const Pred& pred, int max = 100000);
  // Discards queued messages matching `pred` (all if none given).
  void discard(const Pred& pred = nullptr);
  const std::deque<Message>& queue() const { return queue_; }

  // One tick on every running node, then everything is delivered.
  void tick_all();
  // One tick on node `id` alone (the others' timers stand still), then
  // everything is delivered. Scripts use it to let a leader heartbeat
  // without any other node timing out.
  void tick(NodeId id, int n = 1);
  void run_ticks(int n) {
    for (int k = 0; k < n; ++k)
      tick_all();
  }
  // Ticks until `done` holds (checked after each tick); returns the number of
  // ticks it took, or -1 after `max_ticks`.
  int tick_until(const std::function<bool()>& done, int max_ticks);

  // core.campaign() on `id`, then deliver everything.
  void campaign(NodeId id);
  // Campaigns on `id` until it leads (elections may fail on a term already
  // voted in); REQUIREs success within `attempts`.
  void elect(NodeId id, int attempts = 5);
  Status propose(NodeId id, const std::string& data);

  // ---- faults --------------------------------------------------------------
  void cut(NodeId a, NodeId b);  // both directions
  void cut_one_way(NodeId from, NodeId to);
  void isolate(NodeId id);  // from every other node
  void heal();              // every link back, drop rules kept
  void add_drop_rule(Pred pred) { drop_rules_.push_back(std::move(pred)); }
  void clear_drop_rules() { drop_rules_.clear(); }
  void crash(NodeId id);  // its queued messages are lost too
  void restart(NodeId id);

  // ---- observation ---------------------------------------------------------
  // The leader of the highest term among running nodes, or kNoNode.
  NodeId leader() const;
  // How many times any node became leader since the start (or since reset).
  int leader_elections() const { return leader_elections_; }
  // Every message delivered so far, in order.
  const std::vector<Message>& delivered() const { return delivered_; }
  // Called with each message right before it is stepped into its recipient.
  std::function<void(const Message&)> on_deliver;
  // Entries applied anywhere, by index (State Machine Safety reference).
  const std::map<Index, Entry>& applied_anywhere() const { return applied_anywhere_; }
  // True if every running node's log equals `id`'s (same indexes, same terms).
  bool logs_equal(NodeId a, NodeId b) const;

  // Invariant violations fail the test case unless `strict` is false, in which
  // case they are collected here.
  bool strict = true;
  std::vector<std::string> violations;
  void check_invariants();

 private:
  bool blocked(const Message& m) const;
  void deliver(const Message& m);
  void process_node(TestNode& n);
  void violation(const std::string& what);

  NodeOptions opt_;
  std::map<NodeId, std::unique_ptr<TestNode>> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;  // (from, to)
  std::vector<Pred> drop_rules_;
  std::vector<Message> delivered_;
  std::map<Index, Entry> applied_anywhere_;
  std::map<Term, NodeId> leader_of_term_;
  Term max_leader_term_ = 0;
  int leader_elections_ = 0;
};

// Message predicates for scripts.
inline Network::Pred from_to(NodeId from, NodeId to) {
  return [=](const Message& m) { return m.from == from && m.to == to; };
}
inline Network::Pred of_type(MessageType t) {
  return [=](const Message& m) { return m.type == t; };
}
inline bool is_vote_traffic(const Message& m) {
  return m.type == MessageType::kVote || m.type == MessageType::kVoteResp ||
         m.type == MessageType::kPreVote || m.type == MessageType::kPreVoteResp;
}
// A kAppend carrying the entry at `index`.
inline Network::Pred carries_index(Index index) {
  return [=](const Message& m) {
    if (m.type != MessageType::kAppend) return false;
    for (const Entry& e : m.entries) {
      if (e.index == index) return true;
    }
    return false;
  };
}

}  // namespace raftlock::raft::scenario
