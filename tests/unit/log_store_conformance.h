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
//
// The test cases are in this file and in log_store_conformance_snapshots.h;
// the builders and checks (namespace log_store_conformance) in
// log_store_conformance_helpers.h.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "raft/log_store.h"
#include "raft/result.h"
#include "raft/types.h"
#include "tests/unit/log_store_conformance_helpers.h"
#include "tests/unit/log_store_conformance_snapshots.h"

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
