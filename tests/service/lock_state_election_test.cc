// Elections: campaign, proclaim, resign, withdrawing a candidacy, and the
// leader after its session ends.
#include <doctest/doctest.h>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

struct Candidates : Harness {
  Candidates() {
    for (const char* s : {"a", "b", "c"})
      ok(session_create(s));
    st.take_effects();
  }
};

TEST_CASE_FIXTURE(Candidates, "the first campaign leads, with the entry's index as term") {
  CommandResult r = ok(campaign("db", "a", "10.0.0.5:5432"));
  CHECK(r.body ==
        json({{"election", "db"}, {"leader", true}, {"value", "10.0.0.5:5432"}, {"term", index}}));
  const json e = election_json("db");
  CHECK(e["leader"] == json({{"session", "a"}, {"value", "10.0.0.5:5432"}, {"term", index}}));
  CHECK(e["candidates"] == 0);
  CHECK(e["modify_index"] == index);
  CHECK(session_json("a")["leading"] == json::array({"db"}));
  CHECK(session_json("a")["held"] == json::array());
  // Elections and locks of the same name are different objects.
  ok(lock_acquire("db", "b"));
}

TEST_CASE_FIXTURE(Candidates, "a campaign against a leader: lock_held with the leader") {
  ok(campaign("db", "a", "va"));
  const raft::Index t = index;
  CommandResult r = err(campaign("db", "b", "vb"), "lock_held");
  CHECK(r.body == json({{"leader", {{"session", "a"}, {"value", "va"}, {"term", t}}}}));
  CHECK(election_json("db")["candidates"] == 0);
}

TEST_CASE_FIXTURE(Candidates, "a campaign by the leader returns its grant unchanged") {
  CommandResult first = ok(campaign("db", "a", "va"));
  st.take_effects();
  CommandResult again = ok(campaign("db", "a", "other", 5000));
  CHECK(again.body == first.body);
  CHECK(election("db").holders[0].value == "va");
  CHECK(st.take_effects().empty());
}

TEST_CASE_FIXTURE(Candidates,
                  "proclaim changes the leader's value, same term; others: not_leader") {
  ok(campaign("db", "a", "va"));
  const raft::Index t = index;
  ok(campaign("db", "b", "vb", 1000));
  st.take_effects();
  CommandResult r = ok(proclaim("db", "a", "new"));
  CHECK(r.body == json({{"election", "db"}, {"leader", true}, {"value", "new"}, {"term", t}}));
  CHECK(election_json("db")["leader"]["value"] == "new");
  CHECK(election_json("db")["modify_index"] == index);
  CHECK(st.take_effects().changed == std::set<std::string>{"e/db"});
  err(proclaim("db", "b", "x"), "not_leader");  // a candidate
  err(proclaim("db", "c", "x"), "not_leader");
  err(proclaim("none", "a", "x"), "not_leader");
  err(proclaim("db", "ghost", "x"), "session_not_found");
  CHECK(election_json("db")["leader"]["value"] == "new");
}

TEST_CASE_FIXTURE(Candidates, "resign hands leadership to the next candidate in order") {
  ok(campaign("db", "a", "va"));
  ok(campaign("db", "b", "vb", 1000));
  ok(campaign("db", "c", "vc", 1000));
  CHECK(election_json("db")["candidates"] == 2);
  CHECK(ok(resign("db", "a")).body == json({{"resigned", true}}));
  CHECK(election_json("db")["leader"] ==
        json({{"session", "b"}, {"value", "vb"}, {"term", index}}));
  CHECK(election_json("db")["candidates"] == 1);
}

TEST_CASE_FIXTURE(Candidates, "resign without leading withdraws a candidacy: resigned false") {
  ok(campaign("db", "a", "va"));
  ok(campaign("db", "b", "vb", 1000));
  ok(campaign("db", "c", "vc", 1000));
  st.take_effects();
  CHECK(ok(resign("db", "b")).body == json({{"resigned", false}}));
  CHECK(election_json("db")["candidates"] == 1);
  CHECK(election("db").waiter("b") == nullptr);
  LockEffects e = st.take_effects();
  REQUIRE(e.waits_ended.size() == 1);
  CHECK(e.waits_ended[0].reason == "cancelled");
  CHECK(e.waits_ended[0].key == "e/db");
  // Neither leading nor campaigning, or no such election: still false.
  CHECK(ok(resign("db", "b")).body == json({{"resigned", false}}));
  CHECK(ok(resign("none", "b")).body == json({{"resigned", false}}));
  CHECK(st.take_effects().empty());
  err(resign("db", "ghost"), "session_not_found");
}

TEST_CASE_FIXTURE(Candidates, "leader is null after the leader's session ends without candidates") {
  ok(campaign("db", "a", "va"));
  SUBCASE("closed") {
    ok(session_close("a"));
  }
  SUBCASE("expired") {
    ok(session_expire({"a"}, term));
  }
  CHECK(election_json("db")["leader"].is_null());
  CHECK(election_json("db")["modify_index"] == index);
  // A new campaign leads with a larger term.
  ok(campaign("db", "b", "vb"));
  CHECK(election_json("db")["leader"]["term"] == index);
}

TEST_CASE_FIXTURE(Candidates,
                  "a candidate leads when the leader's session ends; no lock delay for elections") {
  ok(session_create("d", /*lock_delay_ms=*/5000));
  ok(campaign("db", "d", "vd"));
  ok(campaign("db", "a", "va", 1000));
  ok(session_expire({"d"}, term));
  CHECK(election("db").delay_until_ms == 0);
  CHECK(election_json("db")["leader"]["session"] == "a");
  CHECK(election_json("db")["leader"]["term"] == index);
}

TEST_CASE_FIXTURE(Candidates, "attaching to a candidacy updates its value and deadline") {
  ok(campaign("db", "a", "va"));
  ok(campaign("db", "b", "old", 100));
  st.take_effects();
  now += 50;
  CHECK(ok(campaign("db", "b", "new", 1000)).body == json({{"queued", true}}));
  CHECK(election("db").waiter("b")->value == "new");
  CHECK(election("db").waiter("b")->deadline_ms == now + 1000);
  CHECK(st.take_effects().changed.count("e/db") == 1);
  ok(resign("db", "a"));
  CHECK(election_json("db")["leader"]["value"] == "new");
}

TEST_CASE_FIXTURE(
    Candidates, "a candidacy's wait ends: cancel answers lock_held with the leader, or the grant") {
  ok(campaign("db", "a", "va"));
  ok(campaign("db", "b", "vb", 100));
  CommandResult r = err(lock_cancel("db", "b", "timeout", "election"), "lock_held");
  CHECK(r.body["leader"]["session"] == "a");
  ok(campaign("db", "b", "vb", 100));
  ok(resign("db", "a"));
  r = ok(lock_cancel("db", "b", "timeout", "election"));
  CHECK(r.body["leader"] == true);
  CHECK(r.body["term"] == index - 1);
}

TEST_CASE_FIXTURE(Candidates, "resign with the wrong term is not_holder") {
  ok(campaign("db", "a", "va"));
  json j = resign("db", "a");
  j["fencing_token"] = index + 7;
  err(j, "not_holder");
  CHECK(election_json("db")["leader"]["session"] == "a");
}

}  // namespace
}  // namespace raftlock::service::testing
