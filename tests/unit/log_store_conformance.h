// The LogStore conformance suite: every LogStore implementation must pass it
// (STYLE.md: "a memory store and the SQLite store pass one shared test suite").
// It checks the contracts of log_store.h through the public interface only.
//
// Instantiate it once per implementation, in a .cc of the test binary:
//
//   struct MyFactory {
//     // A new, empty store. Called once per test case, on a fresh factory.
//     std::unique_ptr<raftlock::raft::LogStore> open();
//     // Closes `store` and opens the same data again, as a restarted node
//     // would. A store with nothing to reopen returns `store` itself.
//     std::unique_ptr<raftlock::raft::LogStore> reopen(
//         std::unique_ptr<raftlock::raft::LogStore> store);
//   };
//   TYPE_TO_STRING(MyFactory);  // optional: names the instantiated test cases
//   RAFTLOCK_LOG_STORE_CONFORMANCE(MyFactory);
//
// The factory is default-constructed per test case and destroyed after it, so
// it can own a temporary directory. Every test reopens the store after each
// step and checks the same state again, so durability is checked everywhere.
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

// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("log store: a new store is empty", F, raftlock_lsc_empty) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = f.open();
  REQUIRE(store != nullptr);
  check_reopen(f, store, Expected{});
  CHECK(store->term(1).code() == ErrorCode::kUnavailable);
  CHECK(store->entries(1, 2, kNoLimit).code() == ErrorCode::kUnavailable);
  CHECK(store->entries(0, 1, kNoLimit).code() == ErrorCode::kCompacted);

  // An empty write changes nothing.
  write_ok(*store, StorageWrite{});
  check_reopen(f, store, Expected{});
}

TEST_CASE_TEMPLATE_DEFINE("log store: append", F, raftlock_lsc_append) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {});

  SUBCASE("one write, then more at last_index() + 1") {
    write_ok(*store, append_write(ents(1, {1, 1, 2})));
    check_reopen(f, store, Expected{{}, ents(1, {1, 1, 2}), {}});
    write_ok(*store, append_write(ents(4, {2})));
    write_ok(*store, append_write(ents(5, {3, 3})));
    check_reopen(f, store, Expected{{}, ents(1, {1, 1, 2, 2, 3, 3}), {}});
  }
  SUBCASE("type and binary data survive") {
    std::vector<Entry> es = {
        Entry{1, 1, EntryType::kConfChange, std::string("\0conf\xff", 6)},
        Entry{1, 2, EntryType::kNoop, ""},
        Entry{1, 3, EntryType::kNormal, std::string(100000, 'x')},
    };
    write_ok(*store, append_write(es));
    check_reopen(f, store, Expected{{}, es, {}});
  }
}

TEST_CASE_TEMPLATE_DEFINE("log store: conflict truncation replaces the suffix", F,
                          raftlock_lsc_truncate) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 2, 2, 2});

  SUBCASE("shorter replacement in the middle") {
    write_ok(*store, append_write(ents(3, {3})));
    check_reopen(f, store, Expected{{}, ents(1, {1, 1, 3}), {}});
    CHECK(store->term(4).code() == ErrorCode::kUnavailable);
  }
  SUBCASE("longer replacement") {
    write_ok(*store, append_write(ents(4, {3, 3, 3, 3})));
    check_reopen(f, store, Expected{{}, ents(1, {1, 1, 2, 3, 3, 3, 3}), {}});
  }
  SUBCASE("replace the last entry") {
    write_ok(*store, append_write(ents(5, {4})));
    check_reopen(f, store, Expected{{}, ents(1, {1, 1, 2, 2, 4}), {}});
  }
  SUBCASE("replace from the first index") {
    write_ok(*store, append_write(ents(1, {5, 5})));
    check_reopen(f, store, Expected{{}, ents(1, {5, 5}), {}});
  }
  SUBCASE("replace after a snapshot") {
    StorageWrite w;
    w.compact = snap(2, 1);
    write_ok(*store, w);
    write_ok(*store, append_write(ents(3, {6, 6})));
    check_reopen(f, store, Expected{snap(2, 1), ents(3, {6, 6}), {}});
  }
}

TEST_CASE_TEMPLATE_DEFINE("log store: a rejected write applies nothing", F, raftlock_lsc_reject) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 2});
  const HardState hs{2, 1, 2};
  {
    StorageWrite w;
    w.hard_state = hs;
    write_ok(*store, w);
  }
  const Expected before{{}, ents(1, {1, 1, 2}), hs};

  auto expect_rejected = [&](const StorageWrite& w) {
    const Status s = store->write(w);
    INFO(s.to_string());
    CHECK(s.code() == ErrorCode::kInvalidArgument);
    check_reopen(f, store, before);
  };

  // Every rejected write below also carries a hard state and a compaction,
  // which must not be applied either.
  StorageWrite w;
  w.hard_state = HardState{9, 9, 3};
  w.compact = snap(2, 1);

  SUBCASE("gap after last_index() + 1") {
    w.entries = ents(5, {2, 2});
    expect_rejected(w);
  }
  SUBCASE("gap behind an installed snapshot that drops the log") {
    w.install_snapshot = snap(10, 3);
    w.compact.reset();
    w.entries = ents(12, {3});
    expect_rejected(w);
  }
  SUBCASE("entries that are not contiguous") {
    w.entries = {ent(4, 2), ent(6, 2)};
    expect_rejected(w);
  }
  SUBCASE("entries at or below the snapshot index") {
    StorageWrite c;
    c.compact = snap(2, 1);
    write_ok(*store, c);
    const Expected compacted{snap(2, 1), ents(3, {2}), hs};
    check_reopen(f, store, compacted);

    w.compact.reset();
    w.entries = ents(2, {3, 3});
    CHECK(store->write(w).code() == ErrorCode::kInvalidArgument);
    check_reopen(f, store, compacted);
  }
  SUBCASE("installing a snapshot older than the stored one") {
    StorageWrite c;
    c.compact = snap(3, 2);
    write_ok(*store, c);
    const Expected compacted{snap(3, 2), {}, hs};

    w.compact.reset();
    w.install_snapshot = snap(2, 1);
    CHECK(store->write(w).code() == ErrorCode::kInvalidArgument);
    check_reopen(f, store, compacted);
  }
  SUBCASE("compaction beyond last_index()") {
    w.compact = snap(4, 2);
    expect_rejected(w);
  }
}

TEST_CASE_TEMPLATE_DEFINE("log store: term() and entries() ranges", F, raftlock_lsc_ranges) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 2, 2, 2, 3, 3, 3});
  StorageWrite c;
  c.compact = snap(5, 2);
  write_ok(*store, c);
  check_reopen(f, store, Expected{snap(5, 2), ents(6, {3, 3, 3}), {}});

  CHECK(store->term(4).code() == ErrorCode::kCompacted);
  CHECK(*store->term(5) == 2);
  CHECK(*store->term(8) == 3);
  CHECK(store->term(9).code() == ErrorCode::kUnavailable);

  CHECK(store->entries(5, 7, kNoLimit).code() == ErrorCode::kCompacted);
  CHECK(store->entries(1, 3, kNoLimit).code() == ErrorCode::kCompacted);
  CHECK(store->entries(6, 10, kNoLimit).code() == ErrorCode::kUnavailable);
  CHECK(store->entries(9, 10, kNoLimit).code() == ErrorCode::kUnavailable);
  CHECK(*store->entries(7, 8, kNoLimit) == ents(7, {3}));
  CHECK(*store->entries(7, 9, kNoLimit) == ents(7, {3, 3}));
  CHECK(store->entries(9, 9, kNoLimit)->empty());  // hi == last_index() + 1
}

TEST_CASE_TEMPLATE_DEFINE("log store: entries() honours max_bytes", F, raftlock_lsc_max_bytes) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = f.open();
  std::vector<Entry> es;
  for (Index i = 1; i <= 5; ++i)
    es.push_back(Entry{1, i, EntryType::kNormal, std::string(100, 'a')});
  write_ok(*store, append_write(es));
  store = f.reopen(std::move(store));
  const std::uint64_t one = entry_bytes(es[0]);

  auto count = [&](std::uint64_t max_bytes) {
    const Result<std::vector<Entry>> r = store->entries(1, 6, max_bytes);
    REQUIRE(r.is_ok());
    for (std::size_t k = 0; k < r->size(); ++k)
      CHECK((*r)[k] == es[k]);
    return r->size();
  };
  CHECK(count(0) == 1);  // always at least one entry
  CHECK(count(1) == 1);
  CHECK(count(one) == 1);
  CHECK(count(2 * one - 1) == 1);
  CHECK(count(2 * one) == 2);
  CHECK(count(3 * one + 1) == 3);
  CHECK(count(5 * one) == 5);
  CHECK(count(kNoLimit) == 5);

  // The limit applies from lo, and an empty range stays empty.
  CHECK(store->entries(4, 6, 0)->size() == 1);
  CHECK(store->entries(4, 6, 2 * one)->size() == 2);
  CHECK(store->entries(3, 3, 0)->empty());

  // One entry larger than the limit is still returned.
  write_ok(*store, append_write({Entry{1, 6, EntryType::kNormal, std::string(1000, 'b')}}));
  CHECK(store->entries(6, 7, 10)->size() == 1);
  CHECK(store->entries(5, 7, one + 10)->size() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("log store: hard state", F, raftlock_lsc_hard_state) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = f.open();

  StorageWrite w;
  w.hard_state = HardState{1, 2, 0};
  write_ok(*store, w);
  check_reopen(f, store, Expected{{}, {}, HardState{1, 2, 0}});

  // Written with entries in one write; the log and the hard state both land.
  w.entries = ents(1, {1, 1});
  w.hard_state = HardState{1, 2, 2};
  write_ok(*store, w);
  check_reopen(f, store, Expected{{}, ents(1, {1, 1}), HardState{1, 2, 2}});

  // A write without a hard state leaves it alone; a later one overwrites it.
  write_ok(*store, append_write(ents(3, {1})));
  check_reopen(f, store, Expected{{}, ents(1, {1, 1, 1}), HardState{1, 2, 2}});
  w = StorageWrite{};
  w.hard_state = HardState{7, 0, 3};
  write_ok(*store, w);
  check_reopen(f, store, Expected{{}, ents(1, {1, 1, 1}), HardState{7, 0, 3}});
}

TEST_CASE_TEMPLATE_DEFINE("log store: compaction", F, raftlock_lsc_compact) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 1, 2, 2, 2, 3, 3, 3, 3});
  auto compact = [&](const Snapshot& s) {
    StorageWrite w;
    w.compact = s;
    write_ok(*store, w);
  };

  compact(snap(5, 2));
  check_reopen(f, store, Expected{snap(5, 2), ents(6, {2, 3, 3, 3, 3}), {}});

  SUBCASE("an older or equal snapshot is ignored") {
    compact(snap(3, 1, "older"));
    compact(snap(5, 2, "equal"));
    check_reopen(f, store, Expected{snap(5, 2), ents(6, {2, 3, 3, 3, 3}), {}});
  }
  SUBCASE("up to last_index(), then appending continues") {
    compact(snap(10, 3));
    check_reopen(f, store, Expected{snap(10, 3), {}, {}});
    write_ok(*store, append_write(ents(11, {4})));
    check_reopen(f, store, Expected{snap(10, 3), ents(11, {4}), {}});
  }
  SUBCASE("applied after the entries of the same write") {
    StorageWrite w;
    w.entries = ents(11, {4, 4});
    w.hard_state = HardState{4, 1, 12};
    w.compact = snap(12, 4);
    write_ok(*store, w);
    check_reopen(f, store, Expected{snap(12, 4), {}, HardState{4, 1, 12}});
  }
  SUBCASE("twice in a row") {
    compact(snap(7, 3));
    check_reopen(f, store, Expected{snap(7, 3), ents(8, {3, 3, 3}), {}});
    compact(snap(9, 3));
    check_reopen(f, store, Expected{snap(9, 3), ents(10, {3}), {}});
  }
}

TEST_CASE_TEMPLATE_DEFINE("log store: installing a snapshot", F, raftlock_lsc_install) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 1, 2, 2, 2, 3, 3, 3, 3});
  const HardState hs{3, 2, 6};
  StorageWrite h;
  h.hard_state = hs;
  write_ok(*store, h);

  auto install = [&](const Snapshot& s) {
    StorageWrite w;
    w.install_snapshot = s;
    write_ok(*store, w);
  };

  // §7: "If existing log entry has same index and term as snapshot's last
  // included entry, retain log entries following it and reply".
  SUBCASE("matching entry: the entries after it are kept") {
    install(snap(7, 3));
    check_reopen(f, store, Expected{snap(7, 3), ents(8, {3, 3, 3}), hs});
  }
  SUBCASE("matching the last entry: no entries remain") {
    install(snap(10, 3));
    check_reopen(f, store, Expected{snap(10, 3), {}, hs});
  }
  // §7: "Discard the entire log".
  SUBCASE("entry with another term: the whole log is dropped") {
    install(snap(7, 4));
    check_reopen(f, store, Expected{snap(7, 4), {}, hs});
  }
  SUBCASE("beyond last_index(): the whole log is dropped") {
    install(snap(15, 4));
    check_reopen(f, store, Expected{snap(15, 4), {}, hs});
    write_ok(*store, append_write(ents(16, {4})));
    check_reopen(f, store, Expected{snap(15, 4), ents(16, {4}), hs});
  }
  SUBCASE("over a compacted log") {
    StorageWrite c;
    c.compact = snap(5, 2);
    write_ok(*store, c);
    install(snap(8, 3));
    check_reopen(f, store, Expected{snap(8, 3), ents(9, {3, 3}), hs});
    install(snap(9, 5));
    check_reopen(f, store, Expected{snap(9, 5), {}, hs});
  }
  SUBCASE("the same snapshot again is harmless") {
    install(snap(7, 3));
    install(snap(7, 3));
    check_reopen(f, store, Expected{snap(7, 3), ents(8, {3, 3, 3}), hs});
  }
}

// log_store.h: "Applied in this order: install_snapshot, entries, hard_state, compact."
TEST_CASE_TEMPLATE_DEFINE("log store: the parts of one write apply in order", F,
                          raftlock_lsc_order) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = open_with(f, {1, 1, 1});

  StorageWrite w;
  w.install_snapshot = snap(5, 2);    // drops 1..3
  w.entries = ents(6, {2, 3, 3, 3});  // valid only after the install
  w.hard_state = HardState{3, 1, 8};
  w.compact = snap(8, 3);  // valid only after the entries
  write_ok(*store, w);
  check_reopen(f, store, Expected{snap(8, 3), ents(9, {3}), HardState{3, 1, 8}});

  // Entries that replace a suffix kept by the install.
  StorageWrite w2;
  w2.install_snapshot = snap(8, 3);
  w2.entries = ents(9, {4, 4});
  write_ok(*store, w2);
  check_reopen(f, store, Expected{snap(8, 3), ents(9, {4, 4}), HardState{3, 1, 8}});
}

TEST_CASE_TEMPLATE_DEFINE("log store: a long history survives reopening", F, raftlock_lsc_reopen) {
  using namespace raftlock;
  using namespace raftlock::raft;
  using namespace raftlock::raft::log_store_conformance;
  F f;
  std::unique_ptr<LogStore> store = f.open();
  Expected want;
  Term term = 1;
  // Append in batches, truncate now and then, compact every few batches.
  for (int round = 1; round <= 30; ++round) {
    const Index last = want.snapshot.meta.index + want.entries.size();
    Index first = last + 1;
    if (round % 4 == 0 && want.entries.size() >= 2) {
      first = last - 1;  // conflict: replace the last two entries with a newer term
      ++term;
      want.entries.resize(want.entries.size() - 2);
    }
    StorageWrite w;
    for (Index i = first; i < first + 3; ++i) {
      w.entries.push_back(ent(i, term));
      want.entries.push_back(ent(i, term));
    }
    w.hard_state = HardState{term, static_cast<NodeId>(round % 3), first};
    want.hard_state = *w.hard_state;
    if (round % 5 == 0) {
      const Index at = first;  // compact up to the first new entry
      w.compact = snap(at, term);
      want.snapshot = *w.compact;
      const std::size_t drop = at - (want.entries.front().index) + 1;
      want.entries.erase(want.entries.begin(),
                         want.entries.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    write_ok(*store, w);
    INFO("round " << round);
    check_reopen(f, store, want);
  }
}

// Instantiates the whole suite for `Factory` (see the top of this file).
#define RAFTLOCK_LOG_STORE_CONFORMANCE(Factory)                \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_empty, Factory);      \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_append, Factory);     \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_truncate, Factory);   \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_reject, Factory);     \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_ranges, Factory);     \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_max_bytes, Factory);  \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_hard_state, Factory); \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_compact, Factory);    \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_install, Factory);    \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_order, Factory);      \
  TEST_CASE_TEMPLATE_INVOKE(raftlock_lsc_reopen, Factory)
