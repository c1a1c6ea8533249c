// Sessions: creation, close and expiry release everything a session holds and
// cancel its waits; expiry is term-guarded; lock delay applies on expiry only.
#include <doctest/doctest.h>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

TEST_CASE("session.create stores the session and answers its id and ttl") {
  Harness h;
  CommandResult r = h.ok(session_create("a", 0, "worker-7", 15000));
  CHECK(r.body == json({{"session", "a"}, {"ttl_ms", 15000}}));
  CHECK(r.req == "req-session.create");
  const json s = h.session_json("a");
  CHECK(s["name"] == "worker-7");
  CHECK(s["ttl_ms"] == 15000);
  CHECK(s["lock_delay_ms"] == 0);
  CHECK(s["held"] == json::array());
  CHECK(s["waiting"] == json::array());
  CHECK(s["leading"] == json::array());
  CHECK(s["modify_index"] == 1);
  CHECK(h.st.find_session("a")->create_index == 1);
}

TEST_CASE("session.create nobody waits for: the same session, no body") {
  Harness a, b;
  json args = session_create("a", 0, "worker-7", 15000);
  args["now"] = a.now;
  const CommandResult answered = a.st.apply(1, 1, make_command(args), /*answer=*/true);
  const CommandResult quiet = b.st.apply(1, 1, make_command(args), /*answer=*/false);
  REQUIRE(quiet.ok);
  CHECK(quiet.body == json::object());
  CHECK(answered.body == json({{"session", "a"}, {"ttl_ms", 15000}}));
  CHECK(quiet.req == answered.req);
  CHECK(a.session_json("a") == b.session_json("a"));
  CHECK(b.st.check_invariants().empty());
}

TEST_CASE("session.create: missing id, existing id, default ttl") {
  Harness h;
  h.err({{"op", "session.create"}}, "invalid_argument");
  h.ok(session_create("a"));
  h.err(session_create("a"), "conflict");
  h.ok({{"op", "session.create"}, {"id", "b"}});
  CHECK(h.st.find_session("b")->ttl_ms == 10000);
  CHECK(h.st.find_session("b")->lock_delay_ms == 0);
}

TEST_CASE("unknown op answers invalid_command and changes nothing; noop succeeds") {
  Harness h;
  h.ok(session_create("a"));
  h.st.take_effects();
  const json before = observe(h.st, h.now);
  h.err({{"op", "lock.explode"}}, "invalid_command");
  CHECK(h.ok({{"op", "noop"}}).body == json::object());
  CHECK(observe(h.st, h.now) == before);
  CHECK(h.st.take_effects().empty());
}

TEST_CASE("session.close releases held locks, resigns elections, cancels waits, grants waiters") {
  Harness h;
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_acquire("y", "b"));
  h.ok(lock_acquire("y", "a", {.wait_ms = 5000}));  // a waits for y
  h.ok(campaign("e", "a", "v-a"));
  h.ok(lock_acquire("x", "b", {.wait_ms = 5000}));  // b waits for x
  h.st.take_effects();
  CommandResult r = h.ok(session_close("a"));
  CHECK(r.body["closed"] == true);
  CHECK(r.body["released"] == json::array({"x"}));
  CHECK(r.body["resigned"] == json::array({"e"}));
  CHECK(h.st.find_session("a") == nullptr);
  CHECK(h.holders("x") == std::vector<std::string>{"b"});
  CHECK(h.token_of("x", "b") == h.index);  // granted by the close entry
  CHECK(h.waiters("y").empty());
  CHECK(h.election_json("e")["leader"].is_null());
  CHECK(h.lock("x").delay_until_ms == 0);  // no lock delay on a clean close

  LockEffects e = h.st.take_effects();
  REQUIRE(e.grants.size() == 1);
  CHECK(e.grants[0].key == "l/x");
  CHECK(e.grants[0].session == "b");
  CHECK(e.grants[0].token == h.index);
  REQUIRE(e.waits_ended.size() == 1);
  CHECK(e.waits_ended[0].key == "l/y");
  CHECK(e.waits_ended[0].session == "a");
  CHECK(e.waits_ended[0].reason == "session_ended");
  CHECK(e.changed == std::set<std::string>{"s/a", "s/b", "l/x", "l/y", "e/e"});
}

TEST_CASE("session.close of an unknown session: session_not_found") {
  Harness h;
  h.err(session_close("nobody"), "session_not_found");
  h.ok(session_create("a"));
  h.ok(session_close("a"));
  h.err(session_close("a"), "session_not_found");
}

TEST_CASE("session.expire ends the named sessions in the entry's term only") {
  Harness h;
  h.term = 3;
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(lock_acquire("x", "a"));
  h.st.take_effects();

  SUBCASE("a stale term expires nothing") {
    for (raft::Term t : {raft::Term{2}, raft::Term{4}}) {
      CommandResult r = h.ok(session_expire({"a"}, t));
      CHECK(r.body["expired"] == json::array());
      CHECK(r.body["stale"] == true);
      CHECK(h.st.find_session("a") != nullptr);
      CHECK(h.holders("x") == std::vector<std::string>{"a"});
      CHECK(h.st.take_effects().empty());
    }
    // Missing term: never the entry's term.
    CHECK(h.ok({{"op", "session.expire"}, {"ids", {"a"}}}).body["stale"] == true);
    CHECK(h.st.find_session("a") != nullptr);
  }
  SUBCASE("the entry's term expires; unknown ids are skipped") {
    CommandResult r = h.ok(session_expire({"a", "ghost", "b"}, 3));
    CHECK(r.body["expired"] == json::array({"a", "b"}));
    CHECK_FALSE(r.body.contains("stale"));
    CHECK(h.st.sessions().empty());
    CHECK(h.lock("x").holders.empty());
  }
}

TEST_CASE("lock delay applies when a session expires, not when it closes or releases") {
  Harness h;
  h.ok(session_create("a", /*lock_delay_ms=*/500));
  h.ok(session_create("b", /*lock_delay_ms=*/500));
  h.ok(session_create("c"));
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_acquire("y", "b"));
  h.ok(lock_acquire("z", "c"));
  h.ok(lock_release("x", "a"));
  CHECK(h.lock("x").delay_until_ms == 0);
  h.ok(session_close("b"));
  CHECK(h.lock("y").delay_until_ms == 0);
  h.ok(lock_acquire("x", "a"));
  h.ok(session_expire({"a"}, h.term));
  CHECK(h.lock("x").delay_until_ms == h.now + 500);
  // c has no lock delay: its expiry frees z at once.
  h.ok(session_expire({"c"}, h.term));
  CHECK(h.lock("z").delay_until_ms == 0);
}

TEST_CASE("an expiry releases a session's grant and ends its waits, granting the next waiter") {
  Harness h;
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(session_create("c"));
  h.ok(lock_acquire("x", "a"));
  h.ok(lock_acquire("x", "b", {.wait_ms = 1000}));
  h.ok(lock_acquire("x", "c", {.wait_ms = 1000}));
  h.st.take_effects();
  h.ok(session_expire({"b", "a"}, h.term));
  CHECK(h.holders("x") == std::vector<std::string>{"c"});
  CHECK(h.token_of("x", "c") == h.index);
  LockEffects e = h.st.take_effects();
  REQUIRE(e.grants.size() == 1);
  CHECK(e.grants[0].session == "c");
  REQUIRE(e.waits_ended.size() == 1);
  CHECK(e.waits_ended[0].session == "b");
  CHECK(e.waits_ended[0].reason == "session_ended");
}

TEST_CASE("one expiry entry never grants to a session it also expires") {
  // a holds x, b waits for it, c waits behind b. Expiring a and b in one
  // entry must not hand b a grant that ends in the same entry: c gets the
  // lock, and it is the only grant the entry makes.
  for (const std::vector<std::string>& order :
       {std::vector<std::string>{"a", "b"}, std::vector<std::string>{"b", "a"}}) {
    Harness h;
    h.ok(session_create("a"));
    h.ok(session_create("b"));
    h.ok(session_create("c"));
    h.ok(lock_acquire("x", "a"));
    h.ok(lock_acquire("x", "b", {.wait_ms = 1000}));
    h.ok(lock_acquire("x", "c", {.wait_ms = 1000}));
    h.st.take_effects();
    h.ok(session_expire(order, h.term));
    CHECK(h.holders("x") == std::vector<std::string>{"c"});
    LockEffects e = h.st.take_effects();
    REQUIRE(e.grants.size() == 1);
    CHECK(e.grants[0].session == "c");
    REQUIRE(e.waits_ended.size() == 1);
    CHECK(e.waits_ended[0].session == "b");
    CHECK(e.waits_ended[0].reason == "session_ended");
  }
}

TEST_CASE("session modify_index follows holds and waits") {
  Harness h;
  h.ok(session_create("a"));
  h.ok(session_create("b"));
  h.ok(lock_acquire("x", "a"));
  CHECK(h.session_json("a")["modify_index"] == h.index);
  h.ok(lock_acquire("x", "b", {.wait_ms = 100}));
  CHECK(h.session_json("b")["modify_index"] == h.index);
  CHECK(h.session_json("b")["waiting"] == json::array({"x"}));
  h.ok(lock_release("x", "a"));
  CHECK(h.session_json("a")["modify_index"] == h.index);
  CHECK(h.session_json("b")["modify_index"] == h.index);  // granted
  CHECK(h.session_json("b")["held"] == json::array({"x"}));
  CHECK(h.session_json("b")["waiting"] == json::array());
}

}  // namespace
}  // namespace raftlock::service::testing
