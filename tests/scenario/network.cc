#include "tests/scenario/network.h"

#include <algorithm>
#include <sstream>

namespace raftlock::raft::scenario {

// ---- TestStateMachine --------------------------------------------------------

std::string TestStateMachine::image() const {
  std::string out;
  for (const std::string& c : commands)
    out += c + "\n";
  return out;
}

void TestStateMachine::restore(const Snapshot& s) {
  commands.clear();
  std::istringstream in(s.data);
  std::string line;
  while (std::getline(in, line))
    commands.push_back(line);
  applied = s.meta.index;
}

// ---- TestNode ---------------------------------------------------------------

TestNode::TestNode(NodeId id, const NodeOptions& opt) : store_(std::make_unique<MemoryLogStore>()) {
  cfg_.id = id;
  cfg_.election_ticks = opt.election_ticks;
  cfg_.heartbeat_ticks = opt.heartbeat_ticks;
  cfg_.pre_vote = opt.pre_vote;
  cfg_.check_quorum = opt.check_quorum;
  cfg_.max_msg_entries = opt.max_msg_entries;
  cfg_.seed = 0x5eed0000 + id * 7919;  // distinct per node, fixed per run
  cfg_.mutations = opt.mutations;
}

// Checked without a doctest assertion per call: the invariant checker calls
// these thousands of times per test.
Core& TestNode::core() {
  if (core_ == nullptr) FAIL("node " << cfg_.id << " is down");
  return *core_;
}

const Core& TestNode::core() const {
  if (core_ == nullptr) FAIL("node " << cfg_.id << " is down");
  return *core_;
}

void TestNode::start() {
  REQUIRE(!up());
  Config c = cfg_;
  c.applied = sm_.applied;
  core_ = std::make_unique<Core>(c, *store_);
  last_role_ = Role::kFollower;
}

std::string TestNode::log_terms() const {
  const CoreStatus st = core().status();
  std::string s;
  for (Index i = st.first_index; i <= st.last_index; ++i) {
    const Result<Term> t = core().term_at(i);
    if (!s.empty()) s += " ";
    s += t.is_ok() ? std::to_string(*t) : "?";
  }
  return s;
}

std::string TestNode::stored_log_terms() const {
  std::string s;
  for (Index i = store_->first_index(); i <= store_->last_index(); ++i) {
    const Result<Term> t = store_->term(i);
    if (!s.empty()) s += " ";
    s += t.is_ok() ? std::to_string(*t) : "?";
  }
  return s;
}

std::unique_ptr<MemoryLogStore> make_store(const ConfState& conf,
                                           const std::vector<Term>& terms_from_2, Term term) {
  auto store = std::make_unique<MemoryLogStore>();
  const Status b = store->write(bootstrap_write(conf));
  REQUIRE_MESSAGE(b.is_ok(), b.to_string());
  StorageWrite w;
  for (std::size_t k = 0; k < terms_from_2.size(); ++k) {
    const Index i = 2 + k;
    REQUIRE(terms_from_2[k] <= term);
    w.entries.push_back(Entry{terms_from_2[k], i, EntryType::kNormal,
                              "x" + std::to_string(i) + "t" + std::to_string(terms_from_2[k])});
  }
  w.hard_state = HardState{term, kNoNode, 1};
  const Status s = store->write(w);
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  return store;
}

// ---- Network ----------------------------------------------------------------

Network::Network(std::vector<NodeId> ids, NodeOptions opt) : opt_(opt) {
  ConfState conf;
  conf.voters.insert(ids.begin(), ids.end());
  for (NodeId id : ids) {
    auto n = std::make_unique<TestNode>(id, opt_);
    const Status s = n->store().write(bootstrap_write(conf));
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
    n->start();
    nodes_[id] = std::move(n);
  }
  process();
}

TestNode& Network::add_node(NodeId id) {
  REQUIRE(!nodes_.count(id));
  auto n = std::make_unique<TestNode>(id, opt_);
  n->start();
  TestNode& ref = *n;
  nodes_[id] = std::move(n);
  process();
  return ref;
}

TestNode& Network::node(NodeId id) {
  auto it = nodes_.find(id);
  REQUIRE_MESSAGE(it != nodes_.end(), "no node " << id);
  return *it->second;
}

std::vector<NodeId> Network::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_)
    out.push_back(id);
  return out;
}

void Network::violation(const std::string& what) {
  if (strict) FAIL(what);
  if (std::find(violations.begin(), violations.end(), what) == violations.end()) {
    violations.push_back(what);
  }
}

void Network::process_node(TestNode& n) {
  for (int rounds = 0; n.up() && n.core().has_ready(); ++rounds) {
    if (rounds >= 1000) FAIL("node " << n.id() << ": has_ready() never becomes false");
    Ready rd = n.core().ready();
    // 1. Persist.
    const Status s = n.store().write(rd.storage_write());
    if (!s.is_ok()) FAIL("node " << n.id() << " store.write: " << s.to_string());
    // 2. Restore the state machine from a received snapshot.
    if (rd.snapshot) n.sm().restore(*rd.snapshot);
    if (rd.soft_state) {
      if (rd.soft_state->role == Role::kLeader && n.last_role_ != Role::kLeader) {
        ++leader_elections_;
      }
      n.last_role_ = rd.soft_state->role;
    }
    // 3. Send (queue) the messages.
    for (const Message& m : rd.messages) {
      if (m.from != n.id()) {
        violation("node " + std::to_string(n.id()) + " sent a message from " +
                  std::to_string(m.from));
      }
      queue_.push_back(m);
    }
    // 4. Apply.
    for (const Entry& e : rd.committed_entries) {
      if (e.index != n.sm().applied + 1) {
        violation("node " + std::to_string(n.id()) + " applied index " + std::to_string(e.index) +
                  " after " + std::to_string(n.sm().applied));
      }
      auto [it, fresh] = applied_anywhere_.emplace(e.index, e);
      if (!fresh && !(it->second == e)) {
        violation("State Machine Safety: node " + std::to_string(n.id()) + " applied (" +
                  std::to_string(e.index) + ", t" + std::to_string(e.term) + ") but (" +
                  std::to_string(e.index) + ", t" + std::to_string(it->second.term) +
                  ") was applied elsewhere");
      }
      n.sm().applied = e.index;
      if (e.type == EntryType::kNormal) n.sm().commands.push_back(e.data);
    }
    for (const ReadState& r : rd.read_states)
      (void)r;
    // 5. Advance.
    n.core().advance(rd);
  }
}

void Network::process() {
  for (bool again = true; again;) {
    again = false;
    for (auto& [id, n] : nodes_) {
      if (n->up() && n->core().has_ready()) {
        process_node(*n);
        again = true;
      }
    }
  }
}

bool Network::blocked(const Message& m) const {
  if (cut_.count({m.from, m.to})) return true;
  for (const Pred& p : drop_rules_) {
    if (p(m)) return true;
  }
  auto it = nodes_.find(m.to);
  return it == nodes_.end() || !it->second->up();
}

void Network::deliver(const Message& m) {
  auto from = nodes_.find(m.from);
  const bool sender_up = from != nodes_.end() && from->second->up();
  if (blocked(m)) {
    if (m.type == MessageType::kSnapshot && sender_up) {
      from->second->core().report_snapshot(m.to, false);
    }
    return;
  }
  if (on_deliver) on_deliver(m);
  delivered_.push_back(m);
  (void)node(m.to).core().step(m);
  if (m.type == MessageType::kSnapshot && sender_up) {
    from->second->core().report_snapshot(m.to, true);
  }
  process();
  check_invariants();
}

int Network::deliver_all(int max) {
  int count = 0;
  process();
  while (!queue_.empty() && count < max) {
    Message m = std::move(queue_.front());
    queue_.pop_front();
    deliver(m);
    ++count;
  }
  return count;
}

int Network::deliver_if(const Pred& pred, int max) {
  int count = 0;
  process();
  while (count < max) {
    auto it = std::find_if(queue_.begin(), queue_.end(), pred);
    if (it == queue_.end()) break;
    Message m = std::move(*it);
    queue_.erase(it);
    deliver(m);
    ++count;
  }
  return count;
}

void Network::discard(const Pred& pred) {
  process();
  if (!pred) {
    queue_.clear();
    return;
  }
  std::deque<Message> keep;
  for (Message& m : queue_) {
    if (!pred(m)) keep.push_back(std::move(m));
  }
  queue_.swap(keep);
}

void Network::tick_all() {
  for (auto& [id, n] : nodes_) {
    if (n->up()) n->core().tick();
  }
  process();
  check_invariants();
  deliver_all();
}

void Network::tick(NodeId id, int n) {
  for (int k = 0; k < n; ++k) {
    core(id).tick();
    process();
    check_invariants();
    deliver_all();
  }
}

int Network::tick_until(const std::function<bool()>& done, int max_ticks) {
  for (int k = 1; k <= max_ticks; ++k) {
    tick_all();
    if (done()) return k;
  }
  return -1;
}

void Network::campaign(NodeId id) {
  core(id).campaign();
  process();
  deliver_all();
}

void Network::elect(NodeId id, int attempts) {
  for (int k = 0; k < attempts; ++k) {
    campaign(id);
    if (status(id).role == Role::kLeader) return;
  }
  FAIL("node " << id << " did not win an election in " << attempts << " attempts");
}

Status Network::propose(NodeId id, const std::string& data) {
  const Status s = core(id).propose(data);
  process();
  return s;
}

void Network::cut(NodeId a, NodeId b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void Network::cut_one_way(NodeId from, NodeId to) {
  cut_.insert({from, to});
}

void Network::isolate(NodeId id) {
  for (const auto& [other, n] : nodes_) {
    if (other != id) cut(id, other);
  }
}

void Network::heal() {
  cut_.clear();
}

void Network::crash(NodeId id) {
  node(id).crash();
  discard([id](const Message& m) { return m.from == id || m.to == id; });
}

void Network::restart(NodeId id) {
  node(id).start();
  process();
  check_invariants();
}

NodeId Network::leader() const {
  NodeId best = kNoNode;
  Term best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->up()) continue;
    const CoreStatus st = n->status();
    if (st.role == Role::kLeader && st.term >= best_term) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

bool Network::logs_equal(NodeId a, NodeId b) const {
  const TestNode& na = *nodes_.at(a);
  const TestNode& nb = *nodes_.at(b);
  const CoreStatus sa = na.status();
  const CoreStatus sb = nb.status();
  if (sa.last_index != sb.last_index) return false;
  const Index lo = std::max(sa.snapshot_index, sb.snapshot_index);
  for (Index i = lo; i <= sa.last_index; ++i) {
    const Result<Term> ta = na.core().term_at(i);
    const Result<Term> tb = nb.core().term_at(i);
    if (!ta.is_ok() || !tb.is_ok() || *ta != *tb) return false;
  }
  return true;
}

void Network::check_invariants() {
  std::vector<std::pair<NodeId, CoreStatus>> up;
  for (const auto& [id, n] : nodes_) {
    if (n->up()) up.emplace_back(id, n->status());
  }
  for (const auto& [id, st] : up) {
    if (st.commit > st.last_index) {
      violation("node " + std::to_string(id) + " commit " + std::to_string(st.commit) +
                " beyond its last index " + std::to_string(st.last_index));
    }
    if (st.role == Role::kLeader) {
      auto [it, fresh] = leader_of_term_.emplace(st.term, id);
      if (!fresh && it->second != id) {
        violation("Election Safety: nodes " + std::to_string(it->second) + " and " +
                  std::to_string(id) + " both led term " + std::to_string(st.term));
      }
      max_leader_term_ = std::max(max_leader_term_, st.term);
    }
  }
  // Log Matching on what both nodes have committed.
  for (std::size_t x = 0; x < up.size(); ++x) {
    for (std::size_t y = x + 1; y < up.size(); ++y) {
      const auto& [a, sa] = up[x];
      const auto& [b, sb] = up[y];
      const Index hi = std::min(sa.commit, sb.commit);
      const Index lo = std::max(sa.snapshot_index, sb.snapshot_index) + 1;
      for (Index i = lo; i <= hi; ++i) {
        const Result<Term> ta = nodes_.at(a)->core().term_at(i);
        const Result<Term> tb = nodes_.at(b)->core().term_at(i);
        if (!ta.is_ok() || !tb.is_ok() || *ta != *tb) {
          violation("committed entry " + std::to_string(i) + " differs between nodes " +
                    std::to_string(a) + " and " + std::to_string(b));
          break;
        }
      }
    }
  }
  // Leader Completeness: the newest leader holds everything applied anywhere.
  for (const auto& [id, st] : up) {
    if (st.role != Role::kLeader || st.term != max_leader_term_) continue;
    for (const auto& [index, e] : applied_anywhere_) {
      if (index <= st.snapshot_index) continue;
      const Result<Term> t = nodes_.at(id)->core().term_at(index);
      if (!t.is_ok() || *t != e.term) {
        violation("Leader Completeness: leader " + std::to_string(id) + " of term " +
                  std::to_string(st.term) + " lacks applied entry (" + std::to_string(index) +
                  ", t" + std::to_string(e.term) + ")");
        break;
      }
    }
  }
}

}  // namespace raftlock::raft::scenario
