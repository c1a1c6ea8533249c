#include "raft/raft_log.h"

#include <algorithm>

#include "raft/assert.h"

namespace raftlock::raft {

RaftLog::RaftLog(const LogView& storage, Index applied) : storage_(storage) {
  const InitialState init = storage_.initial_state();
  Index first = storage_.first_index();
  committed_ = std::max(init.hard_state.commit, first - 1);
  RAFTLOCK_ASSERT_MSG(committed_ <= storage_.last_index(), "stored commit index beyond the log");
  // The state machine can never be behind its snapshot, nor ahead of commit.
  applied_ = std::clamp(applied, first - 1, committed_);
  applying_ = applied_;
  entries_in_progress_ = storage_.last_index();
}

Index RaftLog::unstable_offset() const {
  if (!unstable_.empty()) return unstable_.front().index;
  return last_index() + 1;
}

Index RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_.first_index();
}

Index RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_.back().index;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_.last_index();
}

Term RaftLog::last_term() const {
  return term_or_zero(last_index());
}

Result<Term> RaftLog::term(Index i) const {
  const Index dummy = first_index() - 1;
  if (i < dummy) return Result<Term>(ErrorCode::kCompacted, "index compacted");
  if (i > last_index()) return Result<Term>(ErrorCode::kUnavailable, "index beyond the log");
  if (!unstable_.empty() && i >= unstable_.front().index) {
    return unstable_[i - unstable_.front().index].term;
  }
  if (unstable_snapshot_) {
    RAFTLOCK_ASSERT(i == unstable_snapshot_->meta.index);
    return unstable_snapshot_->meta.term;
  }
  return storage_.term(i);
}

Term RaftLog::term_or_zero(Index i) const {
  auto t = term(i);
  return t ? *t : 0;
}

bool RaftLog::match_term(Index i, Term t) const {
  auto got = term(i);
  return got && *got == t;
}

bool RaftLog::is_up_to_date(Index lasti, Term t) const {
  return t > last_term() || (t == last_term() && lasti >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term, Index leader_commit,
                                           const std::vector<Entry>& entries, Index* appended_from,
                                           bool skip_conflict_truncation) {
  *appended_from = 0;
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  // §5.3: "If an existing entry conflicts with a new one (same index but
  // different terms), delete the existing entry and all that follow it."
  // Only a real conflict truncates: a delayed, shorter AppendEntries must not
  // remove entries we already acknowledged.
  std::size_t k = 0;
  while (k < entries.size() && match_term(entries[k].index, entries[k].term))
    ++k;
  if (k < entries.size()) {
    const Index conflict = entries[k].index;
    if (conflict <= last_index()) {
      RAFTLOCK_ASSERT_MSG(conflict > committed_, "conflict with a committed entry");
      if (skip_conflict_truncation) {
        // Test-only mutation: keep the conflicting suffix, append only beyond it.
        while (k < entries.size() && entries[k].index <= last_index())
          ++k;
      }
    }
    if (k < entries.size()) {
      *appended_from = entries[k].index;
      append({entries.begin() + k, entries.end()});
    }
  }
  commit_to(std::min(leader_commit, std::min(last_new, last_index())));
  return last_new;
}

void RaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const Index after = entries.front().index;
  RAFTLOCK_ASSERT_MSG(after > committed_, "append would overwrite committed entries");
  RAFTLOCK_ASSERT_MSG(after <= last_index() + 1, "append leaves a gap");
  if (after <= entries_in_progress_) entries_in_progress_ = after - 1;
  if (unstable_.empty() || after <= unstable_.front().index) {
    unstable_ = entries;
    return;
  }
  // Keep [front, after), then the new entries.
  unstable_.resize(after - unstable_.front().index);
  unstable_.insert(unstable_.end(), entries.begin(), entries.end());
}

Index RaftLog::find_conflict_by_term(Index index, Term t) const {
  if (index > last_index()) return last_index();
  while (index > 0) {
    auto got = term(index);
    if (!got || *got <= t) break;
    --index;
  }
  return index;
}

Result<std::vector<Entry>> RaftLog::entries_from(Index lo, std::uint64_t max_bytes,
                                                 std::uint64_t max_count) const {
  const Index last = last_index();
  if (lo > last) return std::vector<Entry>{};
  return slice(lo, std::min(last + 1, lo + max_count), max_bytes);
}

Result<std::vector<Entry>> RaftLog::slice(Index lo, Index hi, std::uint64_t max_bytes) const {
  if (lo < first_index()) return Result<std::vector<Entry>>(ErrorCode::kCompacted, "compacted");
  if (hi > last_index() + 1) {
    return Result<std::vector<Entry>>(ErrorCode::kUnavailable, "beyond the log");
  }
  std::vector<Entry> out;
  if (lo >= hi) return out;
  const Index off = unstable_offset();
  std::uint64_t bytes = 0;
  if (lo < off) {
    auto stored = storage_.entries(lo, std::min(hi, off), max_bytes);
    if (!stored) return stored.status();
    out = std::move(stored).value();
    for (const Entry& e : out)
      bytes += entry_bytes(e);
    if (out.size() < std::min(hi, off) - lo) return out;  // byte limit reached
  }
  for (Index i = std::max(lo, off); i < hi; ++i) {
    const Entry& e = unstable_[i - off];
    if (!out.empty() && bytes + entry_bytes(e) > max_bytes) break;
    bytes += entry_bytes(e);
    out.push_back(e);
  }
  return out;
}

bool RaftLog::maybe_commit(Index index, Term t) {
  if (index > committed_ && term_or_zero(index) == t) {
    commit_to(index);
    return true;
  }
  return false;
}

void RaftLog::commit_to(Index index) {
  if (index <= committed_) return;
  RAFTLOCK_ASSERT_MSG(index <= last_index(), "commit index beyond the log");
  committed_ = index;
}

bool RaftLog::has_next_committed() const {
  return committed_ > std::max(applying_, first_index() - 1);
}

std::vector<Entry> RaftLog::next_committed(std::uint64_t max_bytes) const {
  const Index lo = std::max(applying_ + 1, first_index());
  if (lo > committed_) return {};
  auto r = slice(lo, committed_ + 1, max_bytes);
  RAFTLOCK_ASSERT_MSG(r.is_ok(), "committed entries unreadable");
  return std::move(r).value();
}

void RaftLog::applying_to(Index index) {
  RAFTLOCK_ASSERT(index <= committed_);
  applying_ = std::max(applying_, index);
}

void RaftLog::applied_to(Index index) {
  RAFTLOCK_ASSERT(index <= applying_);
  applied_ = std::max(applied_, index);
}

void RaftLog::restore(const Snapshot& s) {
  unstable_snapshot_ = s;
  snapshot_in_progress_ = false;
  unstable_.clear();
  entries_in_progress_ = s.meta.index;
  committed_ = std::max(committed_, s.meta.index);
}

Snapshot RaftLog::snapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_.snapshot();
}

bool RaftLog::has_next_unstable() const {
  return (unstable_snapshot_ && !snapshot_in_progress_) ||
         (!unstable_.empty() && unstable_.back().index > entries_in_progress_);
}

std::vector<Entry> RaftLog::next_unstable_entries() const {
  if (unstable_.empty() || unstable_.back().index <= entries_in_progress_) return {};
  const Index off = unstable_.front().index;
  const Index from = std::max(off, entries_in_progress_ + 1);
  return {unstable_.begin() + (from - off), unstable_.end()};
}

std::optional<Snapshot> RaftLog::next_unstable_snapshot() const {
  if (unstable_snapshot_ && !snapshot_in_progress_) return unstable_snapshot_;
  return std::nullopt;
}

void RaftLog::accept_unstable() {
  if (unstable_snapshot_) snapshot_in_progress_ = true;
  if (!unstable_.empty())
    entries_in_progress_ = std::max(entries_in_progress_, unstable_.back().index);
}

void RaftLog::stable_to(Index index, Term t) {
  if (unstable_.empty()) return;
  const Index off = unstable_.front().index;
  if (index < off || index > unstable_.back().index) return;
  if (unstable_[index - off].term != t) return;  // overwritten since it was handed out
  unstable_.erase(unstable_.begin(), unstable_.begin() + (index - off + 1));
}

Index RaftLog::stable_last_index() const {
  if (unstable_snapshot_) return 0;
  if (!unstable_.empty()) return unstable_.front().index - 1;
  return storage_.last_index();
}

void RaftLog::stable_snapshot_to(Index index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) {
    unstable_snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

}  // namespace raftlock::raft
