// RaftLog: the core's view of its log, the stable part (LogView, written by the
// driver) followed by an unstable tail (entries and possibly a snapshot that a
// Ready has handed out but the driver has not yet confirmed through advance()).
// Also tracks the commit index and the index handed out for applying.
#pragma once

#include <optional>
#include <vector>

#include "raft/log_store.h"
#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft {

class RaftLog {
 public:
  RaftLog(const LogView& storage, Index applied);

  Index first_index() const;
  Index last_index() const;
  Term last_term() const;
  // kCompacted / kUnavailable outside [first_index()-1, last_index()].
  Result<Term> term(Index i) const;
  // Term of i, or 0 when i is not in the log (compacted or beyond the end).
  Term term_or_zero(Index i) const;
  bool match_term(Index i, Term t) const;

  // §5.4.1: a candidate's log is at least as up-to-date as ours if its last
  // term is greater, or equal with a last index at least as large.
  bool is_up_to_date(Index last_index, Term last_term) const;

  // §5.3, receiver side of AppendEntries. If (prev_index, prev_term) matches,
  // appends `entries`, truncating only from the first real conflict, raises the
  // commit index to min(leader_commit, last new index) and returns that last
  // new index. Returns nullopt on a mismatch. `truncated_from` is set to the
  // index the log was truncated at (0 if none).
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, Index leader_commit,
                                    const std::vector<Entry>& entries, Index* truncated_from,
                                    bool skip_conflict_truncation);
  // Appends to the unstable tail; entries[0].index may overwrite a suffix.
  // REQUIRES: entries[0].index > commit index.
  void append(const std::vector<Entry>& entries);

  // The conflict-term fast backup (§5.3, "If desired, the protocol can be
  // optimized..."): the largest index <= `index` whose term <= `term`.
  Index find_conflict_by_term(Index index, Term term) const;

  // Entries [lo, last_index()], limited by max_bytes/max_count (at least one).
  Result<std::vector<Entry>> entries_from(Index lo, std::uint64_t max_bytes,
                                          std::uint64_t max_count) const;
  Result<std::vector<Entry>> slice(Index lo, Index hi, std::uint64_t max_bytes) const;

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  // Raises the commit index to `index` if entry `index` has term `term`.
  bool maybe_commit(Index index, Term term);
  void commit_to(Index index);  // REQUIRES: index <= last_index()

  // Committed entries not yet handed out for applying.
  bool has_next_committed() const;
  std::vector<Entry> next_committed(std::uint64_t max_bytes) const;
  void applied_to(Index index);

  // Replaces the whole log with a received snapshot (unstable until advanced).
  void restore(const Snapshot& s);
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  // The snapshot the leader can send: the unstable one if any, else the stored one.
  Snapshot snapshot() const;
  // The driver has made entries up to (index, term) / the snapshot durable.
  void stable_to(Index index, Term term);
  void stable_snapshot_to(Index index);

 private:
  Index unstable_offset() const;  // index of unstable_[0]

  const LogView& storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;  // entries after the stable log (or the unstable snapshot)
  Index offset_ = 0;             // index of unstable_[0] once any exists
  Index committed_ = 0;
  Index applied_ = 0;  // last index handed out in a Ready for applying
};

}  // namespace raftlock::raft
