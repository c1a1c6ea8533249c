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
  // new index. Returns nullopt on a mismatch. `appended_from` is set to the
  // index of the first entry actually written (0 if none was): every entry of
  // the log from there on is new, whatever was there before is gone.
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, Index leader_commit,
                                    const std::vector<Entry>& entries, Index* appended_from,
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

  // Committed entries not yet handed out for applying, and the bookkeeping of
  // what a Ready handed out (applying) versus what the driver applied (applied).
  bool has_next_committed() const;
  std::vector<Entry> next_committed(std::uint64_t max_bytes) const;
  void applying_to(Index index);
  void applied_to(Index index);

  // Replaces the whole log with a received snapshot (unstable until advanced).
  void restore(const Snapshot& s);
  // Unstable parts not yet handed out in a Ready, and marking them handed out.
  bool has_next_unstable() const;
  std::vector<Entry> next_unstable_entries() const;
  std::optional<Snapshot> next_unstable_snapshot() const;
  void accept_unstable();
  // The snapshot the leader can send: the unstable one if any, else the stored one.
  Snapshot snapshot() const;
  // The driver has made entries up to (index, term) / the snapshot durable.
  void stable_to(Index index, Term term);
  // The last index of this log that the driver has made durable (the stable
  // prefix that the unstable tail does not replace); 0 while a received
  // snapshot is not yet durable.
  Index stable_last_index() const;
  void stable_snapshot_to(Index index);

 private:
  Index unstable_offset() const;  // index of unstable_[0], or last_index()+1

  const LogView& storage_;
  std::optional<Snapshot> unstable_snapshot_;
  bool snapshot_in_progress_ = false;
  std::vector<Entry> unstable_;    // entries after the stable log, possibly replacing its suffix
  Index entries_in_progress_ = 0;  // unstable entries up to here were handed out
  Index committed_ = 0;
  Index applying_ = 0;  // last index handed out in a Ready for applying
  Index applied_ = 0;   // last index the driver reported applied
};

}  // namespace raftlock::raft
