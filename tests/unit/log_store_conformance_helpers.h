// Builders and checks shared by the LogStore conformance suite
// (log_store_conformance.h, log_store_conformance_snapshots.h) and the tests
// of each store: entries and snapshots that name their index and term, the
// expected contents of a store, and checks of every accessor before and after
// a reopen.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "raft/log_store.h"
#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft::log_store_conformance {

inline constexpr std::uint64_t kNoLimit = UINT64_MAX;

// An entry whose data names its index and term, so a misplaced entry shows.
inline Entry ent(Index index, Term term) {
  // Appended piecewise: GCC 12 -O3 reports a false -Wrestrict for "i" + to_string().
  std::string data = "i";
  data += std::to_string(index);
  data += 't';
  data += std::to_string(term);
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

// Entries first, first+1, ... with the given terms.
inline std::vector<Entry> ents(Index first, const std::vector<Term>& terms) {
  std::vector<Entry> out;
  for (std::size_t k = 0; k < terms.size(); ++k)
    out.push_back(ent(first + k, terms[k]));
  return out;
}

inline Snapshot snap(Index index, Term term, const std::string& data = "image") {
  Snapshot s;
  s.meta.index = index;
  s.meta.term = term;
  s.meta.conf.voters = {1, 2, 3};
  s.meta.conf.learners = {4};
  s.data = data + "@" + std::to_string(index);
  return s;
}

inline StorageWrite append_write(std::vector<Entry> entries) {
  StorageWrite w;
  w.entries = std::move(entries);
  return w;
}

inline void write_ok(LogStore& store, const StorageWrite& w) {
  const Status s = store.write(w);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
}

// The expected contents of a store: a snapshot, the entries after it, and the
// hard state.
struct Expected {
  // A constructor rather than aggregate initialization: GCC 12 reports a false
  // -Wmaybe-uninitialized for `Expected{{}, ...}` (the std::set in ConfState).
  Expected() = default;
  Expected(Snapshot s, std::vector<Entry> e, HardState h)
      : snapshot(std::move(s)), entries(std::move(e)), hard_state(h) {}

  Snapshot snapshot;
  std::vector<Entry> entries;
  HardState hard_state;
};

// Checks every accessor of `view` against `want`, including the error codes
// just outside the stored range.
inline void check_contents(const LogView& view, const Expected& want) {
  const Index snap_index = want.snapshot.meta.index;
  const Index first = snap_index + 1;
  const Index last = snap_index + want.entries.size();

  CHECK(view.first_index() == first);
  CHECK(view.last_index() == last);
  const InitialState init = view.initial_state();
  CHECK(init.hard_state == want.hard_state);
  CHECK(init.snapshot == want.snapshot.meta);
  CHECK(init.snapshot_bytes == want.snapshot.data.size());
  CHECK(view.snapshot() == want.snapshot);

  // term(): the snapshot's term at its index, kCompacted below, kUnavailable above.
  const Result<Term> at_snap = view.term(snap_index);
  REQUIRE(at_snap.is_ok());
  CHECK(*at_snap == want.snapshot.meta.term);
  if (snap_index > 0) {
    CHECK(view.term(snap_index - 1).code() == ErrorCode::kCompacted);
    CHECK(view.term(0).code() == ErrorCode::kCompacted);
  } else {
    CHECK(*view.term(0) == 0);
  }
  for (const Entry& e : want.entries) {
    const Result<Term> t = view.term(e.index);
    REQUIRE(t.is_ok());
    CHECK(*t == e.term);
  }
  CHECK(view.term(last + 1).code() == ErrorCode::kUnavailable);
  CHECK(view.term(last + 100).code() == ErrorCode::kUnavailable);

  // entries(): the whole stored range, and the error codes just outside it.
  const Result<std::vector<Entry>> all = view.entries(first, last + 1, kNoLimit);
  REQUIRE(all.is_ok());
  CHECK(*all == want.entries);
  CHECK(view.entries(first - 1, last + 1, kNoLimit).code() == ErrorCode::kCompacted);
  CHECK(view.entries(first, last + 2, kNoLimit).code() == ErrorCode::kUnavailable);
  const Result<std::vector<Entry>> none = view.entries(first, first, kNoLimit);
  REQUIRE(none.is_ok());
  CHECK(none->empty());
}

// Checks `want`, reopens the store, and checks `want` again.
template <typename Factory>
void check_reopen(Factory& f, std::unique_ptr<LogStore>& store, const Expected& want) {
  {
    INFO("before reopen");
    check_contents(*store, want);
  }
  store = f.reopen(std::move(store));
  REQUIRE(store != nullptr);
  {
    INFO("after reopen");
    check_contents(*store, want);
  }
}

// A store holding entries 1..terms.size() with the given terms.
template <typename Factory>
std::unique_ptr<LogStore> open_with(Factory& f, const std::vector<Term>& terms) {
  std::unique_ptr<LogStore> store = f.open();
  REQUIRE(store != nullptr);
  if (!terms.empty()) write_ok(*store, append_write(ents(1, terms)));
  return store;
}

}  // namespace raftlock::raft::log_store_conformance
