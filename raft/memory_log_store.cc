#include "raft/memory_log_store.h"

#include <string>
#include <utility>

#include "raft/assert.h"

namespace raftlock::raft {
namespace {

// "<what> <a> <relation> <b>", e.g. "compact: index 9 is after last 7".
std::string says(const char* what, std::uint64_t a, const char* relation, std::uint64_t b) {
  return std::string(what) + " " + std::to_string(a) + " " + relation + " " + std::to_string(b);
}

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

// The initial snapshot is committed by definition, so the hard state starts at
// its term with the commit index at its index; a restarted core then never
// sees a commit index below its first entry.
MemoryLogStore::MemoryLogStore(Snapshot initial)
    : hard_state_{initial.meta.term, kNoNode, initial.meta.index}, snapshot_(std::move(initial)) {}

InitialState MemoryLogStore::initial_state() const {
  return {hard_state_, snapshot_.meta, snapshot_.data.size()};
}

Index MemoryLogStore::first_index() const {
  return snapshot_.meta.index + 1;
}

Index MemoryLogStore::last_index() const {
  return snapshot_.meta.index + entries_.size();
}

Result<Term> MemoryLogStore::term(Index i) const {
  const Index snap = snapshot_.meta.index;
  if (i < snap) {
    return Status(ErrorCode::kCompacted, says("term: index", i, "is before snapshot", snap));
  }
  if (i > last_index()) {
    return Status(ErrorCode::kUnavailable, says("term: index", i, "is after last", last_index()));
  }
  if (i == snap) return snapshot_.meta.term;  // 0 for i == 0 and no snapshot
  return entries_[i - snap - 1].term;
}

Result<std::vector<Entry>> MemoryLogStore::entries(Index lo, Index hi,
                                                   std::uint64_t max_bytes) const {
  if (lo > hi) {
    return invalid(says("entries: lo", lo, "is after hi", hi));
  }
  if (lo < first_index()) {
    return Status(ErrorCode::kCompacted, says("entries: lo", lo, "is before first", first_index()));
  }
  if (hi > last_index() + 1) {
    return Status(ErrorCode::kUnavailable,
                  says("entries: hi", hi, "is after 1 + last", last_index()));
  }
  std::vector<Entry> out;
  std::uint64_t total_bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - first_index()];
    const std::uint64_t bytes = entry_bytes(e);
    if (!out.empty() && total_bytes + bytes > max_bytes) break;  // always at least one
    total_bytes += bytes;
    out.push_back(e);
  }
  return out;
}

Snapshot MemoryLogStore::snapshot() const {
  return snapshot_;
}

// Every part of `w` is checked against the state the earlier parts leave
// behind before anything is changed, so a rejected write applies nothing.
Status MemoryLogStore::write(const StorageWrite& w) {
  Index snap_index = snapshot_.meta.index;
  Index last = last_index();
  if (w.install_snapshot) {
    const SnapshotMeta& m = w.install_snapshot->meta;
    // Going back would forget entries that are known to be committed.
    if (m.index < snap_index) {
      return invalid(says("install_snapshot: index", m.index, "is before snapshot", snap_index));
    }
    const Result<Term> t = term(m.index);
    const bool keep = t.is_ok() && *t == m.term;
    snap_index = m.index;
    last = keep ? last : m.index;
  }
  if (!w.entries.empty()) {
    const Index first = w.entries.front().index;
    if (first <= snap_index) {
      // Entries up to the snapshot are committed and compacted; the core never
      // rewrites them (it only appends above its commit index).
      return invalid(says("entries: first index", first, "is not after snapshot", snap_index));
    }
    if (first > last + 1) {
      return invalid(says("entries: first index", first, "leaves a gap after last", last));
    }
    for (std::size_t k = 1; k < w.entries.size(); ++k) {
      if (w.entries[k].index != first + k) {
        return invalid(says("entries: index", w.entries[k].index, "follows", first + k - 1));
      }
    }
    last = w.entries.back().index;
  }
  if (w.compact && w.compact->meta.index > snap_index && w.compact->meta.index > last) {
    return invalid(says("compact: index", w.compact->meta.index, "is after last", last));
  }

  if (w.install_snapshot) install(*w.install_snapshot);
  if (!w.entries.empty()) {
    const Status s = append(w.entries);
    RAFTLOCK_ASSERT_MSG(s.is_ok(), s.to_string().c_str());  // validated above
  }
  if (w.hard_state) hard_state_ = *w.hard_state;
  if (w.compact) compact(*w.compact);
  return Status::ok();
}

void MemoryLogStore::install(const Snapshot& s) {
  const Result<Term> t = term(s.meta.index);
  if (t.is_ok() && *t == s.meta.term) {
    // The log already holds the snapshot's last entry: by the Log Matching
    // Property it holds everything before it too, and the entries after it
    // may still be valid (§7: "retain log entries following it").
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(
                                                            s.meta.index - first_index() + 1));
  } else {
    entries_.clear();  // §7: "discard the entire log"
  }
  snapshot_ = s;
}

Status MemoryLogStore::append(const std::vector<Entry>& entries) {
  const Index first = entries.front().index;
  if (first <= snapshot_.meta.index || first > last_index() + 1) {
    return invalid(says("append: first index", first, "does not follow last", last_index()));
  }
  // Replaces the suffix from `first` on (the core has decided the conflict).
  entries_.resize(first - first_index());
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  return Status::ok();
}

void MemoryLogStore::compact(const Snapshot& s) {
  if (s.meta.index <= snapshot_.meta.index) return;  // not newer: ignored
  RAFTLOCK_ASSERT(s.meta.index <= last_index());
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(s.meta.index - first_index() + 1));
  snapshot_ = s;
}

}  // namespace raftlock::raft
