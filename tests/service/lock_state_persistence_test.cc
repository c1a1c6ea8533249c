// Persistence: take_effects, the lock record codec, loading a state back
// (clear, load_session, load_lock, finish_load) and tombstone pruning.
#include <doctest/doctest.h>

#include <random>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

// A state with every kind of record: holders in both modes, waiters, a
// semaphore, an election with candidates, a lock delay and tombstones.
struct Busy : Harness {
  Busy() {
    for (const char* s : {"a", "b", "c", "d"})
      ok(session_create(s));
    ok(session_create("z", /*lock_delay_ms=*/700));
    ok(lock_acquire("mutex", "a"));
    ok(lock_acquire("mutex", "b", {.wait_ms = 3000}));
    ok(lock_acquire("rw", "c", {.mode = "shared"}));
    ok(lock_acquire("rw", "d", {.mode = "shared"}));
    ok(lock_acquire("rw", "a", {.wait_ms = 3000}));
    ok(lock_acquire("sem", "b", {.limit = 3}));
    ok(campaign("primary", "c", "10.0.0.1"));
    ok(campaign("primary", "d", "10.0.0.2", 9000));
    ok(lock_acquire("freed", "d"));
    ok(lock_release("freed", "d"));
    ok(lock_acquire("delayed", "z"));
    ok(session_expire({"z"}, term));
    ok(lock_acquire("delayed", "a", {.wait_ms = 5000}));
    st.take_effects();
  }
};

void check_same(const LockState& a, const LockState& b, std::int64_t now) {
  CHECK(b.check_invariants() == "");
  CHECK(observe(a, now) == observe(b, now));
  for (const auto& [id, s] : a.sessions()) {
    const SessionRecord* t = b.find_session(id);
    REQUIRE(t != nullptr);
    CHECK(t->held == s.held);
    CHECK(t->waiting == s.waiting);
    CHECK(t->create_index == s.create_index);
  }
}

TEST_CASE("encode_lock and decode_lock round trip every field") {
  LockRecord l;
  l.kind = LockKind::kElection;
  l.name = "pri:mary~1";
  l.limit = 1;
  l.modify_index = 123456789012ULL;
  l.delay_until_ms = 1700000000123LL;
  l.holders.push_back(Holder{"s1", 77, LockMode::kExclusive, "v\"al\\ue\n"});
  l.holders.push_back(Holder{"s2", 78, LockMode::kShared, ""});
  l.waiters.push_back(Waiter{"s3", LockMode::kShared, 555, "w", 79});
  l.waiters.push_back(Waiter{"s4", LockMode::kExclusive, -5, "", 80});
  Result<LockRecord> d = LockState::decode_lock(LockState::encode_lock(l));
  REQUIRE(d.is_ok());
  const LockRecord& r = d.value();
  CHECK(r.kind == l.kind);
  CHECK(r.name == l.name);
  CHECK(r.limit == l.limit);
  CHECK(r.modify_index == l.modify_index);
  CHECK(r.delay_until_ms == l.delay_until_ms);
  REQUIRE(r.holders.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(r.holders[i].session == l.holders[i].session);
    CHECK(r.holders[i].token == l.holders[i].token);
    CHECK(r.holders[i].mode == l.holders[i].mode);
    CHECK(r.holders[i].value == l.holders[i].value);
  }
  REQUIRE(r.waiters.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(r.waiters[i].session == l.waiters[i].session);
    CHECK(r.waiters[i].mode == l.waiters[i].mode);
    CHECK(r.waiters[i].deadline_ms == l.waiters[i].deadline_ms);
    CHECK(r.waiters[i].value == l.waiters[i].value);
    CHECK(r.waiters[i].since == l.waiters[i].since);
  }
  CHECK(LockState::encode_lock(r) == LockState::encode_lock(l));
}

// The stored form as nlohmann::json writes it: encode_lock must give the same
// text, so rows written before and after it was hand-written compare equal.
std::string dumped(const LockRecord& l) {
  nlohmann::json h = nlohmann::json::array(), w = nlohmann::json::array();
  for (const Holder& x : l.holders)
    h.push_back({x.session, x.token, x.mode == LockMode::kShared ? 1 : 0, x.value});
  for (const Waiter& x : l.waiters)
    w.push_back({x.session, x.mode == LockMode::kShared ? 1 : 0, x.deadline_ms, x.value, x.since});
  return nlohmann::json{{"k", l.kind == LockKind::kElection ? 1 : 0},
                        {"n", l.name},
                        {"l", l.limit},
                        {"m", l.modify_index},
                        {"d", l.delay_until_ms},
                        {"h", h},
                        {"w", w}}
      .dump();
}

TEST_CASE("encode_lock writes exactly what nlohmann::json::dump writes") {
  std::mt19937_64 rng(11);
  // Every byte below 0x80, and multi-byte UTF-8 (valid, as request bodies are).
  auto text = [&rng]() {
    static const std::vector<std::string> pieces = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92"};
    std::string s;
    const std::size_t n = rng() % 12;
    for (std::size_t i = 0; i < n; ++i) {
      if (rng() % 5 == 0) {
        s += pieces[rng() % pieces.size()];
      } else {
        s.push_back(static_cast<char>(rng() % 0x80));
      }
    }
    return s;
  };
  for (int round = 0; round < 2000; ++round) {
    LockRecord l;
    l.kind = rng() % 2 ? LockKind::kElection : LockKind::kLock;
    l.name = text();
    l.limit = static_cast<std::uint32_t>(rng());
    l.modify_index = rng();
    l.delay_until_ms = static_cast<std::int64_t>(rng());
    for (std::size_t i = rng() % 3; i > 0; --i)
      l.holders.push_back(
          Holder{text(), rng(), rng() % 2 ? LockMode::kShared : LockMode::kExclusive, text()});
    for (std::size_t i = rng() % 3; i > 0; --i)
      l.waiters.push_back(Waiter{text(), rng() % 2 ? LockMode::kShared : LockMode::kExclusive,
                                 static_cast<std::int64_t>(rng()), text(), rng()});
    REQUIRE(LockState::encode_lock(l) == dumped(l));
  }
}

TEST_CASE("decode_lock of damaged data is a corruption error") {
  LockRecord l;
  l.name = "x";
  l.holders.push_back(Holder{"s1", 7, LockMode::kExclusive, ""});
  const std::string good = LockState::encode_lock(l);
  const std::vector<std::string> bad = {
      "",
      "garbage",
      "{",
      "[]",
      "42",
      "null",
      good.substr(0, good.size() / 2),
      R"({"k":0,"n":"x","l":1,"m":0,"d":0,"h":[]})",                     // no waiters
      R"({"k":"0","n":"x","l":1,"m":0,"d":0,"h":[],"w":[]})",            // mistyped kind
      R"({"k":0,"n":5,"l":1,"m":0,"d":0,"h":[],"w":[]})",                // mistyped name
      R"({"k":0,"n":"x","l":1,"m":0,"d":0,"h":[["s",1,0]],"w":[]})",     // short holder
      R"({"k":0,"n":"x","l":1,"m":0,"d":0,"h":[],"w":[["s",0,1,""]]})",  // short waiter
      R"({"k":0,"n":"x","l":1,"m":0,"d":0,"h":[[1,1,0,""]],"w":[]})",    // mistyped session
      R"({"k":0,"n":"x","l":1,"m":0,"d":0,"h":5,"w":[]})",               // holders not a list
  };
  for (const std::string& data : bad) {
    CAPTURE(data);
    Result<LockRecord> r = LockState::decode_lock(data);
    CHECK_FALSE(r.is_ok());
    CHECK(r.code() == ErrorCode::kCorruption);
  }
  CHECK(LockState::decode_lock(good).is_ok());
}

TEST_CASE_FIXTURE(Busy, "clear, load and finish_load reproduce the same state") {
  const std::string inv = st.check_invariants();
  REQUIRE(inv == "");
  LockState copy;
  Stored::of(st).load_into(copy);
  check_same(st, copy, now);
  CHECK(copy.active_locks() == 5);
  CHECK(copy.take_effects().empty());

  // Loading over a state that had other records replaces them.
  Harness other;
  other.ok(session_create("q"));
  other.ok(lock_acquire("elsewhere", "q"));
  Stored::of(st).load_into(other.st);
  check_same(st, other.st, now);

  // Both answer every next command the same way.
  const std::vector<json> next = {
      lock_release("mutex", "a"),
      lock_acquire("rw", "b", {.wait_ms = 10, .mode = "shared"}),
      lock_acquire("sem", "c", {.limit = 3}),
      proclaim("primary", "c", "moved"),
      resign("primary", "c"),
      session_close("d"),
      {{"op", "lock.sweep"}, {"now", now + 1000000}},
  };
  for (const json& j : next) {
    json args = j;
    args["now"] = args.value("now", now);
    ++index;
    CommandResult r1 = st.apply(index, term, make_command(args));
    CommandResult r2 = copy.apply(index, term, make_command(args));
    CAPTURE(args.dump());
    CHECK(r1.ok == r2.ok);
    CHECK(r1.error_code == r2.error_code);
    CHECK(r1.body == r2.body);
    check_same(st, copy, now);
    LockEffects e1 = st.take_effects(), e2 = copy.take_effects();
    CHECK(e1.changed == e2.changed);
    CHECK(e1.grants.size() == e2.grants.size());
    CHECK(e1.waits_ended.size() == e2.waits_ended.size());
  }
}

TEST_CASE_FIXTURE(Busy, "loading step by step keeps the invariants once indexes are rebuilt") {
  Stored stored = Stored::of(st);
  LockState copy;
  copy.clear();
  CHECK(copy.check_invariants() == "");
  for (const auto& [id, s] : stored.sessions) {
    copy.load_session(s);
    CHECK(copy.check_invariants() == "");
  }
  for (const auto& [key, data] : stored.locks)
    copy.load_lock(LockState::decode_lock(data).value());
  copy.finish_load();
  CHECK(copy.check_invariants() == "");
  check_same(st, copy, now);
  // The copy's sweep at the same clock does the same thing.
  const std::int64_t later = now + 100000;
  CHECK(st.sweep_due(later) == copy.sweep_due(later));
}

TEST_CASE_FIXTURE(Busy, "take_effects hands over the changes once") {
  ok(lock_release("mutex", "a"));
  LockEffects e = st.take_effects();
  CHECK_FALSE(e.empty());
  CHECK(e.changed == std::set<std::string>{"l/mutex", "s/a", "s/b"});
  CHECK_FALSE(e.everything);
  CHECK(st.take_effects().empty());
  // A failed command changes nothing.
  err(lock_release("mutex", "a"), "not_holder");
  err(lock_acquire("mutex", "c"), "lock_held");
  CHECK(st.take_effects().empty());
}

TEST_CASE("prune forgets a free lock after kTombstoneWindow entries, not before") {
  Harness h;
  h.ok(session_create("a"));
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_release("x", "a"));
  const raft::Index freed = h.index;
  h.st.take_effects();
  h.st.prune(freed + LockState::kTombstoneWindow - 1);
  REQUIRE(h.st.find_lock("l/x") != nullptr);
  CHECK(h.lock_json("x")["modify_index"] == freed);
  CHECK(h.st.take_effects().empty());
  h.st.prune(freed + LockState::kTombstoneWindow);
  CHECK(h.st.find_lock("l/x") == nullptr);
  CHECK(h.st.check_invariants() == "");
  CHECK(h.st.take_effects().changed == std::set<std::string>{"l/x"});
  // A later use starts from modify_index of that use.
  h.index = freed + LockState::kTombstoneWindow;
  h.ok(lock_acquire("x", "a"));
  CHECK(h.lock("x").modify_index == h.index);
}

TEST_CASE("prune keeps locks used again, held, waited on or in a lock delay") {
  Harness h;
  h.ok(session_create("a"));
  h.ok(session_create("d", /*lock_delay_ms=*/100));
  h.ok(lock_acquire("reused", "a"));
  h.ok(lock_release("reused", "a"));
  h.ok(lock_acquire("reused", "a"));  // held again
  h.ok(lock_acquire("again", "a"));
  h.ok(lock_release("again", "a"));
  h.index += 50;
  h.ok(lock_acquire("again", "a"));
  h.ok(lock_release("again", "a"));  // freed later: its window starts here
  const raft::Index again_freed = h.index;
  h.ok(lock_acquire("delayed", "d"));
  h.ok(session_expire({"d"}, h.term));
  const raft::Index expired_at = h.index;
  h.st.prune(expired_at + LockState::kTombstoneWindow);
  CHECK(h.st.find_lock("l/reused") != nullptr);
  CHECK(h.st.find_lock("l/delayed") != nullptr);
  CHECK(h.st.find_lock("l/again") == nullptr);
  (void)again_freed;
  // Once the delay ends, the delayed lock becomes a tombstone of that entry.
  h.index = expired_at + LockState::kTombstoneWindow;
  h.now += 100;
  h.ok(sweep());
  const raft::Index swept = h.index;
  h.st.prune(swept + LockState::kTombstoneWindow - 1);
  CHECK(h.st.find_lock("l/delayed") != nullptr);
  h.st.prune(swept + LockState::kTombstoneWindow);
  CHECK(h.st.find_lock("l/delayed") == nullptr);
}

TEST_CASE("a loaded state prunes the same tombstones") {
  Harness h;
  h.ok(session_create("a"));
  for (int i = 0; i < 5; ++i) {
    h.ok(lock_acquire("l" + std::to_string(i), "a"));
    h.ok(lock_release("l" + std::to_string(i), "a"));
    h.index += 10;
  }
  h.st.take_effects();
  LockState copy;
  Stored::of(h.st).load_into(copy);
  for (raft::Index at = 0; at < 100; at += 7) {
    h.st.prune(LockState::kTombstoneWindow + at);
    copy.prune(LockState::kTombstoneWindow + at);
    CHECK(observe(h.st, h.now) == observe(copy, h.now));
    CHECK(h.st.take_effects().changed == copy.take_effects().changed);
  }
  CHECK(h.st.locks().empty());
}

}  // namespace
}  // namespace raftlock::service::testing
