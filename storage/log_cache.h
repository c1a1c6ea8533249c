// LogCache: what SqliteLogStore keeps in memory so that the reads the core
// makes all the time never touch SQLite: first/last index, the term of every
// stored entry, and the most recent entries themselves (the ones the leader
// sends to followers and the driver applies right after they are written).
//
// Terms are kept as runs (the first index of each run of equal terms). A valid
// log has non-decreasing terms, so there is one run per term present in the
// log: a handful, whatever the log's length.
//
// The cache mirrors the database; SqliteLogStore changes it only after the
// transaction that made the same change has committed.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::storage {

class LogCache {
 public:
  // Entries beyond either limit fall out of the tail, oldest first; 0 entries
  // keeps no tail at all (every entries() call reads SQLite).
  LogCache(std::size_t tail_entries_max, std::uint64_t tail_bytes_max)
      : tail_entries_max_(tail_entries_max), tail_bytes_max_(tail_bytes_max) {}

  // An empty log after `snapshot`.
  void reset(const raft::SnapshotMeta& snapshot);
  // Loading at open: the entry after last_index(), by its term.
  // REQUIRES: i == last_index() + 1.
  void push_term(raft::Index i, raft::Term t);

  const raft::SnapshotMeta& snapshot_meta() const { return snapshot_; }
  raft::Index first_index() const { return snapshot_.index + 1; }
  raft::Index last_index() const { return last_; }
  // As LogView::term: kCompacted below the snapshot index, kUnavailable past
  // the last index.
  Result<raft::Term> term(raft::Index i) const;

  // Entries [lo, hi) from the tail, at least one and then up to max_bytes
  // (LogView::entries), or nullopt when lo is not in the tail.
  // REQUIRES: first_index() <= lo < hi <= last_index() + 1.
  std::optional<std::vector<raft::Entry>> tail_entries(raft::Index lo, raft::Index hi,
                                                       std::uint64_t max_bytes) const;
  // Where loading the tail at open starts: the last tail_entries_max entries
  // (append() then trims to the byte limit).
  raft::Index tail_load_from() const;

  // The mutations of StorageWrite, in its order. Each REQUIRES what
  // SqliteLogStore validated before writing.
  // install: REQUIRES s.index >= snapshot index.
  void install(const raft::SnapshotMeta& s);
  // append (also the tail loading at open): REQUIRES first_index() <=
  // entries[0].index <= last_index() + 1, contiguous.
  void append(const std::vector<raft::Entry>& entries);
  // compact: REQUIRES snapshot index < s.index <= last_index().
  void compact(const raft::SnapshotMeta& s);

 private:
  void truncate_from(raft::Index i);  // drops entries >= i
  void drop_through(raft::Index i);   // drops entries <= i
  void trim_tail();

  std::size_t tail_entries_max_;
  std::uint64_t tail_bytes_max_;
  raft::SnapshotMeta snapshot_;
  raft::Index last_ = 0;
  // (first index, term) of each run; runs_[0].first == first_index() when
  // any entry is stored, and every run is non-empty.
  std::vector<std::pair<raft::Index, raft::Term>> runs_;
  // The newest entries, contiguous, ending at last_ (or empty).
  std::deque<raft::Entry> tail_;
  std::uint64_t tail_bytes_ = 0;
};

}  // namespace raftlock::storage
