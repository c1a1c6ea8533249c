// RequestWindow: the request ids of the last commands applied, in memory.
//
// A command re-proposed after a leader change (or retried by its node) must
// take effect once: applying looks its request id up here, without a read
// of SQLite. The rows behind it (sm_requests, keyed by the applied index so
// a batch's inserts share the table's last page) are written by the state
// machine in the batch's transaction; this mirror is rebuilt from them on
// open and after a snapshot restore, and pruned at the same index on every
// node, so every replica decides "duplicate" alike.
//
// Layout: the ids in a deque in the order they were applied, and an
// open-addressing hash table (linear probing, at most half full) of
// (hash, position in that order) pairs: a lookup reads one or two adjacent
// slots and compares the id itself only when the 64-bit hashes are equal.
// Every command looks an id up and the window is pruned once per batch, so
// this is on every node's hot path; a node-based std::unordered_map cost a
// few cache misses per lookup and per erase (~6% of a node's CPU at 64
// clients, docs/bench.md).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raft/types.h"

namespace raftlock::service {

class RequestWindow {
 public:
  using Hash = std::uint64_t (*)(std::string_view);
  // `initial_slots` (a power of two) and `hash` are for tests that place ids
  // on chosen slots; the default hash is std::hash<std::string_view>.
  explicit RequestWindow(std::size_t initial_slots = 1024, Hash hash = nullptr);

  // The index at which `req` was applied, if it still is in the window.
  std::optional<raft::Index> find(const std::string& req) const;
  // REQUIRES: index greater than every index added before. A request id is
  // applied once (a second copy is found first); if one is added again anyway
  // it keeps its first index.
  void add(std::string req, raft::Index index);
  // Forgets every request applied at or below `index`; true if any was.
  bool prune_through(raft::Index index);
  void clear();
  std::size_t size() const { return by_order_.size(); }
  // Tests: every used slot names an id of the window with its hash, is
  // reachable from its home slot without crossing an empty one, and is the
  // slot a lookup of that id finds. "" if so, else what is wrong.
  std::string check_invariants() const;
  std::size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t order = 0;  // 1 + the id's position in the order it was added; 0: empty
  };
  std::size_t home(std::uint64_t hash) const { return hash & (slots_.size() - 1); }
  const std::string& id_at(std::uint64_t order) const;
  const Slot* find_slot(std::uint64_t hash, std::string_view req) const;
  void place(Slot s);
  void erase_slot(std::size_t i);
  void grow();

  std::deque<std::pair<raft::Index, std::string>> by_order_;  // ascending index
  std::uint64_t dropped_ = 0;  // ids pruned from the front of by_order_ so far
  std::vector<Slot> slots_;    // a power of two, at most half used
  std::size_t initial_slots_;
  Hash hash_;
};

}  // namespace raftlock::service
