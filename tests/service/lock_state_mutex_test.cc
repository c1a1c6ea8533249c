// Mutexes: try-lock, FIFO waits, grants on release with the granting entry's
// index as fencing token, idempotent re-acquire, limit_mismatch, not_holder,
// attaching to a wait, cancelling a wait, the sweep and lock delays.
#include <doctest/doctest.h>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

struct TwoSessions : Harness {
  TwoSessions() {
    ok(session_create("a"));
    ok(session_create("b"));
    ok(session_create("c"));
    st.take_effects();
  }
};

TEST_CASE_FIXTURE(TwoSessions, "try-lock grants a free lock with the entry's index as token") {
  CommandResult r = ok(lock_acquire("x", "a"));
  CHECK(r.body == json({{"lock", "x"},
                        {"session", "a"},
                        {"fencing_token", index},
                        {"holders", 1},
                        {"mode", "exclusive"}}));
  CHECK(token_of("x", "a") == index);
  CHECK(lock("x").modify_index == index);
  CHECK(lock("x").current_token() == index);
  CHECK(st.active_locks() == 1);
  LockEffects e = st.take_effects();
  REQUIRE(e.grants.size() == 1);
  CHECK(e.grants[0].key == "l/x");
  CHECK(e.grants[0].token == index);
  CHECK(e.changed == std::set<std::string>{"l/x", "s/a"});
}

TEST_CASE_FIXTURE(TwoSessions,
                  "try-lock on a held lock: lock_held with the holders, nothing queued") {
  ok(lock_acquire("x", "a"));
  const raft::Index t = index;
  st.take_effects();
  CommandResult r = err(lock_acquire("x", "b"), "lock_held");
  REQUIRE(r.body["holders"].size() == 1);
  CHECK(r.body["holders"][0] ==
        json({{"session", "a"}, {"name", "n-a"}, {"fencing_token", t}, {"mode", "exclusive"}}));
  CHECK_FALSE(r.body.contains("lock_delay_until_ms"));
  CHECK(waiters("x").empty());
  CHECK(lock("x").modify_index == t);
  CHECK(st.take_effects().empty());
}

TEST_CASE_FIXTURE(TwoSessions, "acquire: session_not_found and invalid_argument") {
  err(lock_acquire("x", "ghost"), "session_not_found");
  err(lock_acquire("", "a"), "invalid_argument");
  err(lock_acquire("x", "a", {.limit = 0}), "invalid_argument");
  err(lock_acquire("x", "a", {.limit = 1000001}), "invalid_argument");
  err(lock_acquire("x", "a", {.wait_ms = -1}), "invalid_argument");
  err(lock_acquire("x", "a", {.limit = 2, .mode = "shared"}), "invalid_argument");
  CHECK(st.find_lock("l/x") == nullptr);
  CHECK(st.take_effects().empty());
}

TEST_CASE_FIXTURE(TwoSessions, "waiters are served FIFO, each grant by the releasing entry") {
  ok(lock_acquire("x", "a"));
  const raft::Index t1 = index;
  CHECK(ok(lock_acquire("x", "b", {.wait_ms = 5000})).body == json({{"queued", true}}));
  CHECK(ok(lock_acquire("x", "c", {.wait_ms = 5000})).body == json({{"queued", true}}));
  CHECK(waiters("x") == std::vector<std::string>{"b", "c"});
  CHECK(lock("x").waiter("b")->since == t1 + 1);
  CHECK(lock("x").waiter("b")->deadline_ms == now + 5000);
  st.take_effects();

  ok(lock_release("x", "a"));
  const raft::Index t2 = index;
  CHECK(holders("x") == std::vector<std::string>{"b"});
  CHECK(token_of("x", "b") == t2);
  CHECK(t2 > t1);
  LockEffects e = st.take_effects();
  REQUIRE(e.grants.size() == 1);
  CHECK(e.grants[0].session == "b");
  CHECK(e.grants[0].token == t2);
  CHECK(e.changed == std::set<std::string>{"l/x", "s/a", "s/b"});

  ok({{"op", "noop"}});
  ok(lock_release("x", "b"));
  CHECK(holders("x") == std::vector<std::string>{"c"});
  CHECK(token_of("x", "c") == index);
  CHECK(index > t2);
  ok(lock_release("x", "c"));
  CHECK_FALSE(lock("x").active());
  CHECK(st.active_locks() == 0);
  CHECK(lock_json("x")["holders"] == json::array());
  CHECK(lock_json("x")["modify_index"] == index);
}

TEST_CASE_FIXTURE(TwoSessions, "a release grants the first waiter, not a later one") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  ok(lock_acquire("x", "c", {.wait_ms = 100}));
  ok(lock_release("x", "a"));
  CHECK(holders("x") == std::vector<std::string>{"b"});
  CHECK(waiters("x") == std::vector<std::string>{"c"});
}

TEST_CASE_FIXTURE(TwoSessions,
                  "re-acquiring a held lock returns the same grant and changes nothing") {
  CommandResult first = ok(lock_acquire("x", "a"));
  st.take_effects();
  ok({{"op", "noop"}});
  CommandResult again = ok(lock_acquire("x", "a", {.wait_ms = 3000}));
  CHECK(again.body == first.body);
  CHECK(lock("x").modify_index == first.index);
  CHECK(st.take_effects().empty());
}

TEST_CASE_FIXTURE(TwoSessions, "limit_mismatch against the session's own grant; the grant stays") {
  ok(lock_acquire("x", "a"));
  const json before = lock_json("x");
  err(lock_acquire("x", "a", {.limit = 2}), "limit_mismatch");
  err(lock_acquire("x", "a", {.mode = "shared"}), "limit_mismatch");
  CHECK(lock_json("x") == before);
  // Another session naming another limit while the lock is held.
  err(lock_acquire("x", "b", {.wait_ms = 100, .limit = 3}), "limit_mismatch");
  CHECK(waiters("x").empty());
}

TEST_CASE_FIXTURE(TwoSessions, "limit_mismatch against the session's own wait; the wait stays") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  const raft::Index queued_at = index;
  const std::int64_t deadline = lock("x").waiter("b")->deadline_ms;
  now += 50;
  err(lock_acquire("x", "b", {.wait_ms = 1000, .limit = 2}), "limit_mismatch");
  err(lock_acquire("x", "b", {.wait_ms = 1000, .mode = "shared"}), "limit_mismatch");
  CHECK(lock("x").waiter("b")->deadline_ms == deadline);
  CHECK(lock("x").waiter("b")->since == queued_at);
}

TEST_CASE_FIXTURE(TwoSessions, "a lock's limit is fixed only while it is used") {
  ok(lock_acquire("x", "a", {.limit = 2}));
  ok(lock_release("x", "a"));
  ok(lock_acquire("x", "b", {.limit = 1}));
  CHECK(lock("x").limit == 1);
}

TEST_CASE_FIXTURE(TwoSessions,
                  "attaching to an existing wait keeps the place and moves the deadline") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  ok(lock_acquire("x", "c", {.wait_ms = 100}));
  const raft::Index since = lock("x").waiter("b")->since;
  st.take_effects();
  now += 80;
  CHECK(ok(lock_acquire("x", "b", {.wait_ms = 4000})).body == json({{"queued", true}}));
  CHECK(waiters("x") == std::vector<std::string>{"b", "c"});
  CHECK(lock("x").waiter("b")->deadline_ms == now + 4000);
  CHECK(lock("x").waiter("b")->since == since);
  // The new deadline is state that must reach storage.
  CHECK(st.take_effects().changed.count("l/x") == 1);
  // The sweep no longer treats the old deadline as passed.
  now += 100 + LockState::kWaitGraceMs;
  CHECK(ok(sweep()).body["cancelled"] == 1);  // only c
  CHECK(waiters("x") == std::vector<std::string>{"b"});
}

TEST_CASE_FIXTURE(TwoSessions, "release: not_holder for another session or a stale token") {
  ok(lock_acquire("x", "a"));
  const raft::Index t = index;
  err(lock_release("x", "b"), "not_holder");
  err(lock_release("nope", "a"), "not_holder");
  err(lock_release("x", "a", t + 1), "not_holder");
  err(lock_release("x", "a", 0), "not_holder");
  err(lock_release("x", "ghost"), "session_not_found");
  CHECK(holders("x") == std::vector<std::string>{"a"});
  // A waiting session does not hold the lock either.
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  err(lock_release("x", "b"), "not_holder");
  CHECK(waiters("x") == std::vector<std::string>{"b"});
  CHECK(ok(lock_release("x", "a", t)).body == json({{"released", true}}));
  err(lock_release("x", "a", t), "not_holder");
}

TEST_CASE_FIXTURE(TwoSessions, "tokens strictly increase over a lock's grants") {
  raft::Index last = 0;
  const char* order[] = {"a", "b", "c", "a", "c", "b"};
  for (const char* s : order) {
    ok(lock_acquire("x", s));
    const raft::Index t = token_of("x", s);
    CHECK(t > last);
    last = t;
    ok(lock_release("x", s));
  }
}

TEST_CASE_FIXTURE(TwoSessions, "cancel of a wait: timeout or gone, then lock_held") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  ok(lock_acquire("x", "c", {.wait_ms = 100}));
  st.take_effects();
  CommandResult r = err(lock_cancel("x", "b", "timeout"), "lock_held");
  CHECK(r.body["holders"].size() == 1);
  CHECK(waiters("x") == std::vector<std::string>{"c"});
  CHECK(session_json("b")["waiting"] == json::array());
  err(lock_cancel("x", "c", "gone"), "lock_held");
  CHECK(waiters("x").empty());
  LockEffects e = st.take_effects();
  REQUIRE(e.waits_ended.size() == 2);
  CHECK(e.waits_ended[0].session == "b");
  CHECK(e.waits_ended[0].reason == "timeout");
  CHECK(e.waits_ended[1].session == "c");
  CHECK(e.waits_ended[1].reason == "cancelled");
  CHECK(e.grants.empty());
  // Nothing to cancel: still lock_held, nothing changes.
  const json before = lock_json("x");
  err(lock_cancel("x", "c"), "lock_held");
  CHECK(lock_json("x") == before);
  CHECK(err(lock_cancel("never-used", "c"), "lock_held").body["holders"] == json::array());
  err(lock_cancel("x", "ghost"), "session_not_found");
}

TEST_CASE_FIXTURE(TwoSessions, "cancel of a wait an earlier entry granted answers that grant") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  ok(lock_release("x", "a"));
  const raft::Index granted = index;
  st.take_effects();
  CommandResult r = ok(lock_cancel("x", "b", "timeout"));
  CHECK(r.body["fencing_token"] == granted);
  CHECK(r.body["session"] == "b");
  CHECK(holders("x") == std::vector<std::string>{"b"});
  CHECK(st.take_effects().empty());
}

TEST_CASE_FIXTURE(TwoSessions, "sweep cancels waits only after deadline plus grace") {
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  const std::int64_t deadline = now + 100;
  st.take_effects();
  CHECK_FALSE(st.sweep_due(deadline + LockState::kWaitGraceMs - 1));
  CHECK(st.sweep_due(deadline + LockState::kWaitGraceMs));
  now = deadline + LockState::kWaitGraceMs - 1;
  CHECK(ok(sweep()).body == json({{"cancelled", 0}}));
  CHECK(waiters("x") == std::vector<std::string>{"b"});
  CHECK(st.take_effects().empty());
  now += 1;
  CHECK(ok(sweep()).body == json({{"cancelled", 1}}));
  CHECK(waiters("x").empty());
  CHECK(st.waiter_count() == 0);
  LockEffects e = st.take_effects();
  REQUIRE(e.waits_ended.size() == 1);
  CHECK(e.waits_ended[0].reason == "timeout");
  CHECK(e.changed == std::set<std::string>{"l/x", "s/b"});
  CHECK_FALSE(st.sweep_due(now + 100000));
}

TEST_CASE_FIXTURE(TwoSessions, "cancelling the first waiter does not skip the queue rules") {
  // a holds; b and c wait. Cancelling b leaves c waiting (the lock is held).
  ok(lock_acquire("x", "a"));
  ok(lock_acquire("x", "b", {.wait_ms = 100}));
  ok(lock_acquire("x", "c", {.wait_ms = 100}));
  err(lock_cancel("x", "b"), "lock_held");
  CHECK(holders("x") == std::vector<std::string>{"a"});
  CHECK(waiters("x") == std::vector<std::string>{"c"});
}

// ---- lock delay ------------------------------------------------------------

struct Delayed : TwoSessions {
  Delayed() {
    ok(session_create("d", /*lock_delay_ms=*/1000));
    ok(lock_acquire("x", "d"));
    ok(session_expire({"d"}, term));
    until = now + 1000;
    st.take_effects();
  }
  std::int64_t until = 0;
};

TEST_CASE_FIXTURE(Delayed,
                  "try-lock during a lock delay: lock_held, empty holders, the delay's end") {
  CHECK(lock("x").delay_until_ms == until);
  CHECK(lock_json("x")["lock_delay_remaining_ms"] == 1000);
  now += 400;
  CHECK(lock_json("x")["lock_delay_remaining_ms"] == 600);
  CommandResult r = err(lock_acquire("x", "a"), "lock_held");
  CHECK(r.body["holders"] == json::array());
  CHECK(r.body["lock_delay_until_ms"] == until);
  CHECK(st.take_effects().empty());
  CHECK(st.active_locks() == 0);
  // At the delay's end, try-lock succeeds even without a sweep.
  now = until;
  ok(lock_acquire("x", "a"));
  CHECK(lock("x").delay_until_ms == 0);
  CHECK_FALSE(lock_json("x").contains("lock_delay_remaining_ms"));
}

TEST_CASE_FIXTURE(Delayed,
                  "waiters queued during a lock delay are granted by the sweep that ends it") {
  ok(lock_acquire("x", "a", {.wait_ms = 5000}));
  ok(lock_acquire("x", "b", {.wait_ms = 5000}));
  CHECK(holders("x").empty());
  // Releases and cancels elsewhere do not end the delay early.
  err(lock_cancel("x", "b"), "lock_held");
  ok(lock_acquire("x", "b", {.wait_ms = 5000}));
  st.take_effects();
  CHECK_FALSE(st.sweep_due(until - 1));
  CHECK(st.sweep_due(until));
  now = until - 1;
  ok(sweep());
  CHECK(holders("x").empty());
  CHECK(st.take_effects().empty());
  now = until;
  CHECK(ok(sweep()).body["cancelled"] == 0);
  CHECK(holders("x") == std::vector<std::string>{"a"});
  CHECK(token_of("x", "a") == index);
  CHECK(waiters("x") == std::vector<std::string>{"b"});
  CHECK(lock("x").delay_until_ms == 0);
  LockEffects e = st.take_effects();
  REQUIRE(e.grants.size() == 1);
  CHECK(e.grants[0].session == "a");
}

TEST_CASE_FIXTURE(Delayed, "during a lock delay waiters alone fix the limit and the queue order") {
  ok(lock_acquire("x", "a", {.wait_ms = 50000, .limit = 2}));
  err(lock_acquire("x", "b", {.wait_ms = 50000, .limit = 1}), "limit_mismatch");
  // Past the delay but before a sweep, a try-lock does not overtake the queue.
  now = until + 1;
  CHECK(err(lock_acquire("x", "b", {.limit = 2}), "lock_held").body["holders"] == json::array());
  CHECK(holders("x").empty());
  ok(lock_acquire("x", "b", {.wait_ms = 50000, .limit = 2}));
  ok(sweep());
  CHECK(holders("x") == std::vector<std::string>{"a", "b"});
  CHECK(token_of("x", "a") == index);
  CHECK(token_of("x", "b") == index);
}

TEST_CASE_FIXTURE(Delayed, "a sweep ends a lock delay nobody waits for") {
  now = until + 5;
  CHECK(st.sweep_due(now));
  ok(sweep());
  CHECK(lock("x").delay_until_ms == 0);
  CHECK(lock("x").modify_index == index);
  CHECK_FALSE(st.sweep_due(now));
  CHECK(st.take_effects().changed == std::set<std::string>{"l/x"});
}

}  // namespace
}  // namespace raftlock::service::testing
