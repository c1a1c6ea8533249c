#include "storage/log_cache.h"

#include <algorithm>
#include <string>

#include "raft/assert.h"

namespace raftlock::storage {

using raft::Entry;
using raft::Index;
using raft::SnapshotMeta;
using raft::Term;

void LogCache::reset(const SnapshotMeta& snapshot) {
  snapshot_ = snapshot;
  last_ = snapshot.index;
  runs_.clear();
  tail_.clear();
  tail_bytes_ = 0;
}

void LogCache::push_term(Index i, Term t) {
  RAFTLOCK_ASSERT(i == last_ + 1);
  if (runs_.empty() || runs_.back().second != t) runs_.emplace_back(i, t);
  last_ = i;
}

Result<Term> LogCache::term(Index i) const {
  if (i < snapshot_.index) {
    return Status(ErrorCode::kCompacted, "term(" + std::to_string(i) + ") is before snapshot " +
                                             std::to_string(snapshot_.index));
  }
  if (i > last_) {
    return Status(ErrorCode::kUnavailable,
                  "term(" + std::to_string(i) + ") is after last index " + std::to_string(last_));
  }
  if (i == snapshot_.index) return snapshot_.term;  // 0 for i == 0 and no snapshot
  // The last run starting at or before i.
  const auto after = std::upper_bound(runs_.begin(), runs_.end(), i,
                                      [](Index x, const auto& run) { return x < run.first; });
  RAFTLOCK_ASSERT(after != runs_.begin());
  return std::prev(after)->second;
}

std::optional<std::vector<Entry>> LogCache::tail_entries(Index lo, Index hi,
                                                         std::uint64_t max_bytes) const {
  RAFTLOCK_ASSERT(first_index() <= lo && lo < hi && hi <= last_ + 1);
  if (tail_.empty() || lo < tail_.front().index) return std::nullopt;
  std::vector<Entry> out;
  std::uint64_t total_bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = tail_[i - tail_.front().index];
    const std::uint64_t bytes = raft::entry_bytes(e);
    if (!out.empty() && total_bytes + bytes > max_bytes) break;  // always at least one
    total_bytes += bytes;
    out.push_back(e);
  }
  return out;
}

Index LogCache::tail_load_from() const {
  const Index n = std::min<Index>(tail_entries_max_, last_ - snapshot_.index);
  return last_ - n + 1;
}

void LogCache::install(const SnapshotMeta& s) {
  RAFTLOCK_ASSERT(s.index >= snapshot_.index);
  const Result<Term> t = term(s.index);
  if (t.is_ok() && *t == s.term) {
    // §7: "retain log entries following it".
    drop_through(s.index);
    snapshot_ = s;
  } else {
    reset(s);  // §7: "discard the entire log"
  }
}

void LogCache::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const Index first = entries.front().index;
  RAFTLOCK_ASSERT(first_index() <= first && first <= last_ + 1);
  truncate_from(first);
  for (const Entry& e : entries) {
    push_term(e.index, e.term);
    // The tail stays contiguous and ends at last_: after truncate_from it ends
    // at first - 1 or is empty.
    if (tail_entries_max_ > 0) {
      tail_bytes_ += raft::entry_bytes(e);
      tail_.push_back(e);
    }
  }
  trim_tail();
}

void LogCache::compact(const SnapshotMeta& s) {
  RAFTLOCK_ASSERT(snapshot_.index < s.index && s.index <= last_);
  drop_through(s.index);
  snapshot_ = s;
}

void LogCache::truncate_from(Index i) {
  if (i > last_) return;
  while (!runs_.empty() && runs_.back().first >= i)
    runs_.pop_back();
  while (!tail_.empty() && tail_.back().index >= i) {
    tail_bytes_ -= raft::entry_bytes(tail_.back());
    tail_.pop_back();
  }
  last_ = i - 1;
}

void LogCache::drop_through(Index i) {
  if (i >= last_) {
    runs_.clear();
    tail_.clear();
    tail_bytes_ = 0;
    last_ = std::max(last_, i);
    return;
  }
  // The run holding i + 1 becomes the first one and starts there.
  const auto after = std::upper_bound(runs_.begin(), runs_.end(), i + 1,
                                      [](Index x, const auto& run) { return x < run.first; });
  RAFTLOCK_ASSERT(after != runs_.begin());
  runs_.erase(runs_.begin(), std::prev(after));
  runs_.front().first = i + 1;
  while (!tail_.empty() && tail_.front().index <= i) {
    tail_bytes_ -= raft::entry_bytes(tail_.front());
    tail_.pop_front();
  }
}

void LogCache::trim_tail() {
  while (!tail_.empty() && (tail_.size() > tail_entries_max_ || tail_bytes_ > tail_bytes_max_)) {
    tail_bytes_ -= raft::entry_bytes(tail_.front());
    tail_.pop_front();
  }
}

}  // namespace raftlock::storage
