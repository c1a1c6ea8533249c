// Semaphores (limit > 1) and read-write locks (shared and exclusive modes on
// a lock with limit 1).
#include <doctest/doctest.h>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

struct Five : Harness {
  Five() {
    for (const char* s : {"a", "b", "c", "d", "e"})
      ok(session_create(s));
    st.take_effects();
  }
};

TEST_CASE_FIXTURE(Five, "a semaphore admits up to limit holders, then queues FIFO") {
  CHECK(ok(lock_acquire("s", "a", {.limit = 3})).body["holders"] == 1);
  CHECK(ok(lock_acquire("s", "b", {.limit = 3})).body["holders"] == 2);
  CHECK(ok(lock_acquire("s", "c", {.limit = 3})).body["holders"] == 3);
  err(lock_acquire("s", "d", {.limit = 3}), "lock_held");
  ok(lock_acquire("s", "d", {.wait_ms = 100, .limit = 3}));
  ok(lock_acquire("s", "e", {.wait_ms = 100, .limit = 3}));
  err(lock_acquire("s", "e", {.limit = 2}), "limit_mismatch");
  CHECK(lock("s").limit == 3);
  CHECK(lock_json("s")["limit"] == 3);
  ok(lock_release("s", "b"));
  CHECK(holders("s") == std::vector<std::string>{"a", "c", "d"});
  CHECK(token_of("s", "d") == index);
  CHECK(waiters("s") == std::vector<std::string>{"e"});
  CHECK(lock("s").current_token() == index);
}

TEST_CASE_FIXTURE(Five,
                  "holders freed by one entry are refilled by that entry, sharing its token") {
  ok(session_create("f"));
  ok(lock_acquire("s", "a", {.limit = 2}));
  ok(lock_acquire("s", "b", {.limit = 2}));
  ok(lock_acquire("s", "c", {.wait_ms = 100, .limit = 2}));
  ok(lock_acquire("s", "d", {.wait_ms = 100, .limit = 2}));
  ok(lock_acquire("f", "a"));  // a also holds f
  st.take_effects();
  ok(session_expire({"a", "b"}, term));
  CHECK(holders("s") == std::vector<std::string>{"c", "d"});
  CHECK(token_of("s", "c") == index);
  CHECK(token_of("s", "d") == index);
  CHECK(st.take_effects().grants.size() == 2);
}

TEST_CASE_FIXTURE(Five, "shared holders hold together; exclusive excludes them") {
  CHECK(ok(lock_acquire("rw", "a", {.mode = "shared"})).body["mode"] == "shared");
  ok(lock_acquire("rw", "b", {.mode = "shared"}));
  CHECK(holders("rw") == std::vector<std::string>{"a", "b"});
  CHECK(lock_json("rw")["holders"][1]["mode"] == "shared");
  err(lock_acquire("rw", "c"), "lock_held");
  ok(lock_release("rw", "a"));
  ok(lock_release("rw", "b"));
  ok(lock_acquire("rw", "c"));
  err(lock_acquire("rw", "d", {.mode = "shared"}), "lock_held");
}

TEST_CASE_FIXTURE(Five, "a queued writer is not starved by later readers") {
  ok(lock_acquire("rw", "a", {.mode = "shared"}));
  ok(lock_acquire("rw", "b", {.wait_ms = 1000}));  // writer queues
  // A later reader could share with a, but queues behind the writer.
  err(lock_acquire("rw", "c", {.mode = "shared"}), "lock_held");
  ok(lock_acquire("rw", "c", {.wait_ms = 1000, .mode = "shared"}));
  ok(lock_acquire("rw", "d", {.wait_ms = 1000, .mode = "shared"}));
  CHECK(holders("rw") == std::vector<std::string>{"a"});
  ok(lock_release("rw", "a"));
  CHECK(holders("rw") == std::vector<std::string>{"b"});
  CHECK(waiters("rw") == std::vector<std::string>{"c", "d"});
}

TEST_CASE_FIXTURE(Five,
                  "readers admitted together by a writer's release share that entry's token") {
  ok(lock_acquire("rw", "a"));
  ok(lock_acquire("rw", "b", {.wait_ms = 1000, .mode = "shared"}));
  ok(lock_acquire("rw", "c", {.wait_ms = 1000, .mode = "shared"}));
  ok(lock_acquire("rw", "d", {.wait_ms = 1000}));  // a writer behind them
  ok(lock_acquire("rw", "e", {.wait_ms = 1000, .mode = "shared"}));
  st.take_effects();
  ok(lock_release("rw", "a"));
  const raft::Index t = index;
  CHECK(holders("rw") == std::vector<std::string>{"b", "c"});
  CHECK(token_of("rw", "b") == t);
  CHECK(token_of("rw", "c") == t);
  CHECK(waiters("rw") == std::vector<std::string>{"d", "e"});
  LockEffects e = st.take_effects();
  REQUIRE(e.grants.size() == 2);
  CHECK(e.grants[0].token == t);
  CHECK(e.grants[1].token == t);
  // Both readers leave: the writer alone, then the last reader.
  ok(lock_release("rw", "b"));
  CHECK(holders("rw") == std::vector<std::string>{"c"});
  ok(lock_release("rw", "c"));
  CHECK(holders("rw") == std::vector<std::string>{"d"});
  CHECK(token_of("rw", "d") > t);
  ok(lock_release("rw", "d"));
  CHECK(holders("rw") == std::vector<std::string>{"e"});
}

TEST_CASE_FIXTURE(Five, "cancelling a queued writer admits the readers behind it") {
  ok(lock_acquire("rw", "a", {.mode = "shared"}));
  ok(lock_acquire("rw", "b", {.wait_ms = 1000}));
  ok(lock_acquire("rw", "c", {.wait_ms = 1000, .mode = "shared"}));
  err(lock_cancel("rw", "b", "gone"), "lock_held");
  CHECK(holders("rw") == std::vector<std::string>{"a", "c"});
  CHECK(token_of("rw", "c") == index);
}

TEST_CASE_FIXTURE(Five, "the sweep timing out a queued writer admits the readers behind it") {
  ok(lock_acquire("rw", "a", {.mode = "shared"}));
  ok(lock_acquire("rw", "b", {.wait_ms = 10}));
  now += 5;
  ok(lock_acquire("rw", "c", {.wait_ms = 100000, .mode = "shared"}));
  now += 10 + LockState::kWaitGraceMs;
  CHECK(ok(sweep()).body["cancelled"] == 1);
  CHECK(holders("rw") == std::vector<std::string>{"a", "c"});
}

TEST_CASE_FIXTURE(Five, "a session's re-acquire in another mode is limit_mismatch") {
  ok(lock_acquire("rw", "a", {.mode = "shared"}));
  err(lock_acquire("rw", "a"), "limit_mismatch");
  const raft::Index granted = index - 1;
  CommandResult again = ok(lock_acquire("rw", "a", {.mode = "shared"}));
  CHECK(again.body["fencing_token"] == granted);
}

}  // namespace
}  // namespace raftlock::service::testing
