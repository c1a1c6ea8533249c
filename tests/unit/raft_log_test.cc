// RaftLog, the receiver side of AppendEntries (Figure 2, steps 2-5) and the
// log view the core reads. Pitfalls 11 (truncating without a conflict),
// 12/13 (boundaries: empty log, index 1, the snapshot boundary) and 14
// (commitIndex = min(leaderCommit, index of last new entry)).
#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "raft/memory_log_store.h"
#include "raft/raft_log.h"

namespace raftlock::raft {
namespace {

Entry e(Index i, Term t) {
  return Entry{t, i, EntryType::kNormal, "d" + std::to_string(i)};
}

// A store holding entries 1..n with the given terms and commit index.
void fill(MemoryLogStore& s, const std::vector<Term>& terms, Index commit = 0) {
  StorageWrite w;
  for (std::size_t k = 0; k < terms.size(); ++k)
    w.entries.push_back(e(k + 1, terms[k]));
  Term last = terms.empty() ? 0 : terms.back();
  w.hard_state = HardState{last, kNoNode, commit};
  REQUIRE(s.write(w).is_ok());
}

std::string terms_of(const RaftLog& log) {
  std::string s;
  for (Index i = log.first_index(); i <= log.last_index(); ++i) {
    auto t = log.term(i);
    if (!s.empty()) s += " ";
    s += t.is_ok() ? std::to_string(*t) : "?";
  }
  return s;
}

std::optional<Index> append(RaftLog& log, Index prev, Term prev_term, Index commit,
                            std::vector<Entry> ents, Index* truncated = nullptr) {
  Index t = 0;
  auto r = log.maybe_append(prev, prev_term, commit, ents, &t, false);
  if (truncated) *truncated = t;
  return r;
}

TEST_CASE("empty log: sentinel (0, 0), nothing at index 1") {
  MemoryLogStore s;
  RaftLog log(s, 0);
  CHECK(log.first_index() == 1);
  CHECK(log.last_index() == 0);
  CHECK(log.last_term() == 0);
  CHECK(log.committed() == 0);
  REQUIRE(log.term(0).is_ok());
  CHECK(*log.term(0) == 0);
  CHECK(log.term(1).code() == ErrorCode::kUnavailable);
  CHECK(log.match_term(0, 0));
  CHECK_FALSE(log.match_term(1, 1));
  CHECK(log.is_up_to_date(0, 0));
  CHECK(log.is_up_to_date(1, 1));
  CHECK_FALSE(log.has_next_committed());
}

TEST_CASE("empty log: AppendEntries at prev (0,0) appends; prev 1 is a mismatch") {
  MemoryLogStore s;
  RaftLog log(s, 0);
  CHECK_FALSE(append(log, 1, 1, 0, {e(2, 1)}).has_value());  // prev beyond the end
  CHECK(log.last_index() == 0);

  auto r = append(log, 0, 0, 0, {e(1, 1), e(2, 1)});
  REQUIRE(r.has_value());
  CHECK(*r == 2);
  CHECK(log.last_index() == 2);
  CHECK(terms_of(log) == "1 1");
  CHECK(log.next_unstable_entries().size() == 2);
}

TEST_CASE("no truncation without a real conflict: AE[1..2] then a delayed AE[1]") {
  MemoryLogStore s;
  RaftLog log(s, 0);
  REQUIRE(append(log, 0, 0, 0, {e(1, 1), e(2, 1)}));
  Index truncated = 99;
  auto r = append(log, 0, 0, 0, {e(1, 1)}, &truncated);
  REQUIRE(r.has_value());
  CHECK(*r == 1);  // the last index *this request* vouches for
  CHECK(truncated == 0);
  CHECK(log.last_index() == 2);  // entry 2 remains
  CHECK(terms_of(log) == "1 1");

  // Same with the entries on stable storage.
  MemoryLogStore s2;
  fill(s2, {1, 1, 1});
  RaftLog log2(s2, 0);
  r = append(log2, 1, 1, 0, {e(2, 1)}, &truncated);
  REQUIRE(r.has_value());
  CHECK(*r == 2);
  CHECK(truncated == 0);
  CHECK(log2.last_index() == 3);
  CHECK(log2.next_unstable_entries().empty());  // nothing new to persist

  // An empty AppendEntries (a Figure 2 heartbeat) never truncates either.
  r = append(log2, 2, 1, 0, {});
  REQUIRE(r.has_value());
  CHECK(*r == 2);
  CHECK(log2.last_index() == 3);
}

TEST_CASE("a real conflict truncates from the first conflicting entry (§5.3 step 3)") {
  MemoryLogStore s;
  fill(s, {1, 1, 1, 1});
  RaftLog log(s, 0);
  Index truncated = 0;
  auto r = append(log, 1, 1, 0, {e(2, 1), e(3, 2)}, &truncated);
  REQUIRE(r.has_value());
  CHECK(*r == 3);
  CHECK(truncated == 3);
  CHECK(log.last_index() == 3);
  CHECK(terms_of(log) == "1 1 2");
  REQUIRE(log.next_unstable_entries().size() == 1);
  CHECK(log.next_unstable_entries()[0].index == 3);
}

TEST_CASE("mismatched prev term is refused and changes nothing (§5.3 step 2)") {
  MemoryLogStore s;
  fill(s, {1, 1, 2});
  RaftLog log(s, 0);
  CHECK_FALSE(append(log, 3, 3, 3, {e(4, 3)}).has_value());
  CHECK_FALSE(append(log, 3, 3, 3, {}).has_value());  // even with no entries
  CHECK_FALSE(append(log, 5, 2, 3, {}).has_value());  // beyond the end
  CHECK(log.last_index() == 3);
  CHECK(log.committed() == 0);
}

TEST_CASE("commit = min(leaderCommit, index of last new entry) (§5.3 step 5, F7-min-commit)") {
  // Follower (d) of Figure 7: 1 1 1 4 4 5 5 6 6 6 7 7.
  MemoryLogStore s;
  fill(s, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7});
  RaftLog log(s, 0);
  // The term-8 leader has committed 12 (its own entries 11, 12 of term 8) and
  // sends a heartbeat matching at 10.
  auto r = append(log, 10, 6, 12, {});
  REQUIRE(r.has_value());
  CHECK(*r == 10);
  CHECK(log.committed() == 10);  // not 12: entries 11-12 here are the divergent term-7 ones
  CHECK(log.last_index() == 12);

  // With new entries the bound is the last one of them.
  auto r2 = append(log, 10, 6, 12, {e(11, 8)});
  REQUIRE(r2.has_value());
  CHECK(*r2 == 11);
  CHECK(log.committed() == 11);
  CHECK(terms_of(log) == "1 1 1 4 4 5 5 6 6 6 8");

  // The commit index never goes back.
  REQUIRE(append(log, 2, 1, 1, {}));
  CHECK(log.committed() == 11);
}

TEST_CASE("boundary at index 1: prev (0, 0) and prev (1, t)") {
  MemoryLogStore s;
  fill(s, {1});
  RaftLog log(s, 0);
  CHECK(log.first_index() == 1);
  CHECK(log.last_index() == 1);
  REQUIRE(append(log, 0, 0, 0, {e(1, 1)}));
  CHECK(log.last_index() == 1);
  CHECK_FALSE(append(log, 1, 2, 0, {}).has_value());
  REQUIRE(append(log, 1, 1, 1, {e(2, 3)}));
  CHECK(terms_of(log) == "1 3");
  CHECK(log.committed() == 1);
  // Replacing entry 1 itself: a conflict at index 1 (nothing committed yet).
  MemoryLogStore s2;
  fill(s2, {1, 1});
  RaftLog log2(s2, 0);
  Index truncated = 0;
  REQUIRE(append(log2, 0, 0, 0, {e(1, 2)}, &truncated));
  CHECK(truncated == 1);
  CHECK(terms_of(log2) == "2");
}

TEST_CASE("snapshot boundary: prev == snapshot index uses the snapshot's term") {
  Snapshot snap;
  snap.meta.index = 5;
  snap.meta.term = 3;
  snap.meta.conf.voters = {1, 2, 3};
  MemoryLogStore s(snap);
  RaftLog log(s, 5);
  CHECK(log.first_index() == 6);
  CHECK(log.last_index() == 5);
  CHECK(log.last_term() == 3);
  CHECK(log.committed() == 5);
  REQUIRE(log.term(5).is_ok());
  CHECK(*log.term(5) == 3);
  CHECK(log.term(4).code() == ErrorCode::kCompacted);
  CHECK(log.term(6).code() == ErrorCode::kUnavailable);
  CHECK_FALSE(log.has_next_committed());  // the snapshot is applied already

  CHECK_FALSE(append(log, 5, 2, 5, {e(6, 3)}).has_value());  // wrong lastIncludedTerm
  auto r = append(log, 5, 3, 6, {e(6, 3), e(7, 4)});
  REQUIRE(r.has_value());
  CHECK(*r == 7);
  CHECK(log.committed() == 6);
  CHECK(terms_of(log) == "3 4");
  CHECK(log.is_up_to_date(7, 4));
  CHECK_FALSE(log.is_up_to_date(8, 3));
}

TEST_CASE("is_up_to_date compares last term, then length (§5.4.1), Figure 7") {
  // The term-8 leader's log of Figure 7.
  MemoryLogStore s;
  fill(s, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
  RaftLog log(s, 0);
  CHECK(log.last_index() == 10);
  CHECK(log.last_term() == 6);
  CHECK(log.is_up_to_date(12, 7));        // (d)
  CHECK(log.is_up_to_date(11, 6));        // (c)
  CHECK(log.is_up_to_date(10, 6));        // equal
  CHECK_FALSE(log.is_up_to_date(9, 6));   // (a)
  CHECK_FALSE(log.is_up_to_date(7, 4));   // (e)
  CHECK_FALSE(log.is_up_to_date(4, 4));   // (b)
  CHECK_FALSE(log.is_up_to_date(11, 3));  // (f): longer, but an older last term
  CHECK(log.is_up_to_date(1, 7));         // a newer last term wins whatever the length
}

TEST_CASE("find_conflict_by_term: the largest index <= i whose term <= t") {
  MemoryLogStore s;
  fill(s, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
  RaftLog log(s, 0);
  CHECK(log.find_conflict_by_term(10, 6) == 10);
  CHECK(log.find_conflict_by_term(10, 5) == 7);
  CHECK(log.find_conflict_by_term(10, 4) == 5);
  CHECK(log.find_conflict_by_term(10, 3) == 3);  // (f)'s hint term 3 -> probe at 3
  CHECK(log.find_conflict_by_term(7, 6) == 7);
  CHECK(log.find_conflict_by_term(7, 4) == 5);  // (e)'s hint (7, 4) -> probe at 5
  CHECK(log.find_conflict_by_term(3, 1) == 3);
  CHECK(log.find_conflict_by_term(10, 0) == 0);  // down to the sentinel
  CHECK(log.find_conflict_by_term(0, 0) == 0);

  // From the follower's side: (f) = 1 1 1 2 2 2 3 3 3 3 3 rejecting prev (10, 6).
  MemoryLogStore sf;
  fill(sf, {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3});
  RaftLog f(sf, 0);
  CHECK(f.find_conflict_by_term(10, 6) == 10);
  CHECK(f.find_conflict_by_term(10, 2) == 6);

  // Above a snapshot the search stops at the snapshot boundary.
  Snapshot snap;
  snap.meta.index = 5;
  snap.meta.term = 3;
  snap.meta.conf.voters = {1};
  MemoryLogStore ss(snap);
  RaftLog sl(ss, 5);
  REQUIRE(append(sl, 5, 3, 5, {e(6, 4), e(7, 5)}));
  CHECK(sl.find_conflict_by_term(7, 4) == 6);
  CHECK(sl.find_conflict_by_term(7, 3) == 5);
}

TEST_CASE("maybe_commit only commits an index whose term matches") {
  MemoryLogStore s;
  fill(s, {1, 2, 2});
  RaftLog log(s, 0);
  CHECK_FALSE(log.maybe_commit(3, 1));
  CHECK(log.committed() == 0);
  CHECK(log.maybe_commit(3, 2));
  CHECK(log.committed() == 3);
  CHECK_FALSE(log.maybe_commit(2, 2));  // never backwards
  CHECK(log.committed() == 3);
}

TEST_CASE("committed entries are handed out from applied + 1 to commit") {
  MemoryLogStore s;
  fill(s, {1, 1, 2, 2}, /*commit=*/3);
  RaftLog log(s, 1);
  CHECK(log.committed() == 3);
  CHECK(log.applied() == 1);
  REQUIRE(log.has_next_committed());
  auto ents = log.next_committed(1 << 20);
  REQUIRE(ents.size() == 2);
  CHECK(ents[0].index == 2);
  CHECK(ents[1].index == 3);
}

TEST_CASE("entries_from honours max_count and max_bytes but returns at least one") {
  MemoryLogStore s;
  fill(s, {1, 1, 1, 1, 1});
  RaftLog log(s, 0);
  auto r = log.entries_from(2, 1 << 20, 2);
  REQUIRE(r.is_ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].index == 2);
  r = log.entries_from(2, 1, 100);  // one byte: still one entry
  REQUIRE(r.is_ok());
  CHECK(r->size() == 1);
  r = log.entries_from(6, 1 << 20, 10);  // past the end: nothing
  REQUIRE(r.is_ok());
  CHECK(r->empty());
}

TEST_CASE("restore(snapshot) replaces the log and raises commit to the snapshot index") {
  MemoryLogStore s;
  fill(s, {1, 1, 2}, 2);
  RaftLog log(s, 2);
  Snapshot snap;
  snap.meta.index = 10;
  snap.meta.term = 4;
  snap.meta.conf.voters = {1, 2, 3};
  log.restore(snap);
  CHECK(log.first_index() == 11);
  CHECK(log.last_index() == 10);
  CHECK(log.last_term() == 4);
  CHECK(log.committed() == 10);
  REQUIRE(log.next_unstable_snapshot().has_value());
  CHECK(log.next_unstable_snapshot()->meta.index == 10);
  CHECK(log.snapshot().meta.index == 10);
}

}  // namespace
}  // namespace raftlock::raft
