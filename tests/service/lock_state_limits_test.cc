// LockLimits: sessions, active locks, waiters per lock and keys per session
// answer limit_exceeded and change nothing.
#include <doctest/doctest.h>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

LockLimits small_limits() {
  LockLimits l;
  l.max_sessions = 3;
  l.max_locks = 2;
  l.max_waiters_per_lock = 2;
  l.max_keys_per_session = 2;
  return l;
}

TEST_CASE("max_sessions") {
  Harness h(small_limits());
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(session_create("c"));
  h.err(session_create("d"), "limit_exceeded");
  CHECK(h.st.find_session("d") == nullptr);
  h.ok(session_close("a"));
  h.ok(session_create("d"));
}

TEST_CASE("max_locks counts held or waited-on locks and elections") {
  Harness h(small_limits());
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(session_create("c"));
  h.ok(lock_acquire("x", "a"));
  h.ok(campaign("e", "b", "v"));
  CHECK(h.st.active_locks() == 2);
  h.st.take_effects();
  h.err(lock_acquire("y", "c"), "limit_exceeded");
  h.err(campaign("f", "c", "v"), "limit_exceeded");
  CHECK(h.st.find_lock("l/y") == nullptr);
  CHECK(h.st.take_effects().empty());
  // An active lock takes more holders and waiters.
  h.ok(lock_acquire("x", "c", {.wait_ms = 100}));
  // A freed lock makes room, and its tombstone counts for nothing.
  h.ok(lock_release("x", "a"));  // c now holds x
  h.ok(lock_release("x", "c"));
  CHECK(h.st.active_locks() == 1);
  h.ok(lock_acquire("y", "c"));
  CHECK(h.st.active_locks() == 2);
}

TEST_CASE("max_waiters_per_lock") {
  Harness h2(LockLimits{
      .max_sessions = 10, .max_locks = 10, .max_waiters_per_lock = 2, .max_keys_per_session = 10});
  for (const char* s : {"a", "b", "c", "d"})
    h2.ok(session_create(s));
  h2.ok(lock_acquire("x", "a"));
  h2.ok(lock_acquire("x", "b", {.wait_ms = 100}));
  h2.ok(lock_acquire("x", "c", {.wait_ms = 100}));
  h2.err(lock_acquire("x", "d", {.wait_ms = 100}), "limit_exceeded");
  CHECK(h2.waiters("x") == std::vector<std::string>{"b", "c"});
  CHECK(h2.st.find_session("d")->waiting.empty());
  // Attaching to an existing wait is not a new waiter; try-lock is not one either.
  h2.ok(lock_acquire("x", "c", {.wait_ms = 500}));
  h2.err(lock_acquire("x", "d"), "lock_held");
}

TEST_CASE("max_keys_per_session counts held and waited-on keys") {
  Harness h(LockLimits{
      .max_sessions = 10, .max_locks = 10, .max_waiters_per_lock = 10, .max_keys_per_session = 2});
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_acquire("w", "b"));
  h.ok(lock_acquire("w", "a", {.wait_ms = 100}));
  h.err(lock_acquire("y", "a"), "limit_exceeded");
  h.err(campaign("e", "a", "v"), "limit_exceeded");
  // Re-acquiring what it holds or waits for is not a new key.
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_acquire("w", "a", {.wait_ms = 200}));
  h.ok(lock_release("x", "a"));
  h.ok(lock_acquire("y", "a"));
}

}  // namespace
}  // namespace raftlock::service::testing
