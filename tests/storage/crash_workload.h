// The workload of the kill -9 test (crash_test.cc, crash_child.cc), shared by
// the child that writes and the parent that checks.
//
// Protocol on the child's stdout, one line per event, each flushed at once:
//   "R <state>"  the state the child found when it opened the store
//   "W <write>"  printed BEFORE write(w): w may be in flight when the kill comes
//   "A <state>"  printed AFTER write(w) returned ok: w is acknowledged
// So after a kill the store must hold exactly the last acknowledged state, or
// that state plus the last "W" that has no "A" (a write is all or nothing).
//
// Everything a write stores is derived from a few numbers (entry data from
// index and term, snapshot data from index and term), so a "W" line
// describes a whole StorageWrite and the parent can rebuild it.
#pragma once

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <random>
#include <string>

#include "raft/log_store.h"
#include "raft/types.h"

namespace raftlock::storage::crash {

using raft::Entry;
using raft::EntryType;
using raft::HardState;
using raft::Index;
using raft::LogView;
using raft::Snapshot;
using raft::StorageWrite;
using raft::Term;

inline EntryType entry_type(Index i) {
  if (i % 13 == 0) return EntryType::kNoop;
  if (i % 29 == 0) return EntryType::kConfChange;
  return EntryType::kNormal;
}

// 0 to 300 bytes, different for every (index, term).
inline std::string entry_data(Index i, Term t) {
  if (entry_type(i) == EntryType::kNoop) return std::string();
  std::string data = "i" + std::to_string(i) + "t" + std::to_string(t) + ":";
  const std::size_t n = (i * 37 + t * 11) % 280;
  for (std::size_t k = 0; k < n; ++k)
    data.push_back(static_cast<char>((i + t * 7 + k) % 251));
  return data;
}

inline Entry make_entry(Index i, Term t) {
  return Entry{t, i, entry_type(i), entry_data(i, t)};
}

inline Snapshot make_snapshot(Index i, Term t) {
  Snapshot s;
  s.meta.index = i;
  s.meta.term = t;
  s.meta.conf.voters = {1, 2, 3};
  s.meta.conf.learners = {i % 2 == 0 ? raft::NodeId{4} : raft::NodeId{5}};
  s.data = "image@" + std::to_string(i) + "/" + std::to_string(t) + std::string(i % 500, 's');
  return s;
}

// One StorageWrite, as numbers. Zero means "absent" for the optional parts.
struct WriteDesc {
  Index install_index = 0;
  Term install_term = 0;
  Index first = 0;  // entries [first, first + count), all of `term`
  std::uint64_t count = 0;
  Term term = 0;
  bool has_hard_state = false;
  HardState hard_state;
  Index compact_index = 0;
  Term compact_term = 0;
};

inline StorageWrite to_write(const WriteDesc& d) {
  StorageWrite w;
  if (d.install_index != 0) w.install_snapshot = make_snapshot(d.install_index, d.install_term);
  for (std::uint64_t k = 0; k < d.count; ++k)
    w.entries.push_back(make_entry(d.first + k, d.term));
  if (d.has_hard_state) w.hard_state = d.hard_state;
  if (d.compact_index != 0) w.compact = make_snapshot(d.compact_index, d.compact_term);
  return w;
}

inline std::string format_write(const WriteDesc& d) {
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "W install=%" PRIu64 ",%" PRIu64 " first=%" PRIu64 " count=%" PRIu64 " term=%" PRIu64
      " hs=%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64 " compact=%" PRIu64 ",%" PRIu64,
      d.install_index, d.install_term, d.first, d.count, d.term, d.has_hard_state ? 1 : 0,
      d.hard_state.term, d.hard_state.vote, d.hard_state.commit, d.compact_index, d.compact_term);
  return buf;
}

inline std::optional<WriteDesc> parse_write(const std::string& line) {
  WriteDesc d;
  int has_hs = 0;
  const int n = std::sscanf(
      line.c_str(),
      "W install=%" SCNu64 ",%" SCNu64 " first=%" SCNu64 " count=%" SCNu64 " term=%" SCNu64
      " hs=%d,%" SCNu64 ",%" SCNu64 ",%" SCNu64 " compact=%" SCNu64 ",%" SCNu64,
      &d.install_index, &d.install_term, &d.first, &d.count, &d.term, &has_hs, &d.hard_state.term,
      &d.hard_state.vote, &d.hard_state.commit, &d.compact_index, &d.compact_term);
  if (n != 11) return std::nullopt;
  d.has_hard_state = has_hs != 0;
  return d;
}

// What the child reports as acknowledged, and the parent compares.
inline std::string format_state(char tag, const LogView& store) {
  const raft::InitialState init = store.initial_state();
  const Index last = store.last_index();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%c last=%" PRIu64 " last_term=%" PRIu64 " hs=%" PRIu64 ",%" PRIu64 ",%" PRIu64
                " snap=%" PRIu64,
                tag, last, store.term(last).is_ok() ? *store.term(last) : ~Term{0},
                init.hard_state.term, init.hard_state.vote, init.hard_state.commit,
                init.snapshot.index);
  return buf;
}

// The child's next write, chosen by `rng` from the state of `store`. Mostly
// appends; sometimes a suffix overwritten with a higher term (a new leader's
// conflict), a hard-state-only write (a vote), a compaction once the log is
// long, or a snapshot installed beyond the log.
inline WriteDesc next_write(const LogView& store, std::mt19937_64& rng) {
  const raft::InitialState init = store.initial_state();
  const Index last = store.last_index();
  Index snap_index = init.snapshot.index;
  Term term = std::max<Term>({1, init.hard_state.term, *store.term(last)});
  WriteDesc d;
  d.first = last + 1;
  d.count = 1 + rng() % 16;
  const std::uint64_t roll = rng() % 100;
  if (roll < 2) {
    d.install_index = last + 1 + rng() % 5;
    d.install_term = ++term;
    snap_index = d.install_index;
    d.first = d.install_index + 1;
  } else if (roll < 14 && last > snap_index) {
    d.first = last + 1 - (1 + rng() % std::min<Index>(8, last - snap_index));
    ++term;
  } else if (roll < 20) {
    d.count = 0;
  }
  d.term = term;
  const Index new_last = d.count > 0 ? d.first + d.count - 1 : std::max(last, snap_index);
  if (rng() % 10 != 0) {
    d.has_hard_state = true;
    d.hard_state = HardState{term, 1 + term % 3, new_last - std::min<Index>(new_last, rng() % 3)};
  }
  if (new_last > snap_index + 200 && rng() % 4 == 0) {
    d.compact_index = new_last - 50 - rng() % 100;
    d.compact_term =
        d.count > 0 && d.compact_index >= d.first ? term : *store.term(d.compact_index);
  }
  return d;
}

}  // namespace raftlock::storage::crash
