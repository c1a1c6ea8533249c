// The LogStore conformance suite, part two (see log_store_conformance.h):
// compaction, installing a snapshot, the order in which the parts of one
// write apply, and a long history of appends, truncations and compactions
// that survives reopening.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "raft/log_store.h"
#include "raft/types.h"
#include "tests/unit/log_store_conformance_helpers.h"

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
