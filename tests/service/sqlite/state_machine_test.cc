// SqliteStateMachine: what each batch changes reaches the tables, a reopened
// database answers exactly as before, and a snapshot image restored into an
// empty node reproduces the same state.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "service/sm_image.h"
#include "service/state_machine.h"
#include "storage/schema.h"
#include "storage/sqlite_log_store.h"
#include "tests/service/sqlite/sm_fixtures.h"
#include "tests/storage/temp_dir.h"

namespace raftlock::service {
namespace {

using nlohmann::json;
using testing::command;
using testing::open_sm;
using testing::view;
using testing::workload;

TEST_CASE("state machine: a reopened database and a restored image answer as the original") {
  storage::testing::TempDir dir;
  const std::string path = dir.file("node.db");
  json before;
  raft::Bytes image;
  {
    auto sm = open_sm(path);
    sm->apply(workload());
    CHECK(sm->applied_index() == 11);
    CHECK(sm->locks().check_invariants() == "");
    CHECK(sm->locks().find_lock("l/db")->holders.at(0).session == "bbbbbbbbbbbbbbbb");
    before = view(sm->locks());
    image = sm->snapshot_image();
  }
  auto reopened = open_sm(path);
  CHECK(reopened->applied_index() == 11);
  CHECK(view(reopened->locks()) == before);
  CHECK(reopened->locks().check_invariants() == "");

  const std::string other = dir.file("other.db");
  auto fresh = open_sm(other);
  raft::Snapshot snap;
  snap.meta.index = 11;
  snap.meta.term = 2;
  snap.data = image;
  fresh->restore(snap);
  CHECK(fresh->applied_index() == 11);
  CHECK(view(fresh->locks()) == before);
  // And the restored node goes on exactly as the original would.
  std::vector<raft::Entry> next = {command(12, "session.close", {{"id", "bbbbbbbbbbbbbbbb"}})};
  fresh->apply(next);
  reopened->apply(next);
  CHECK(view(fresh->locks()) == view(reopened->locks()));
  CHECK(fresh->locks().find_lock("l/db")->holders.empty());
}

TEST_CASE("state machine image: every line is the text json::dump gives for it") {
  storage::testing::TempDir dir;
  auto sm = open_sm(dir.file("node.db"));
  std::vector<raft::Entry> es = workload();
  es.push_back(command(12, "session.create",
                       {{"id", "dddddddddddddddd"}, {"name", "q\"b\\s\n\x01 \xc3\xa9"}}));
  sm->apply(es);
  const std::string image = sm->snapshot_image();
  std::size_t lines = 0;
  std::size_t start = image.find('\n') + 1;  // after the header
  while (start < image.size()) {
    const std::size_t end = image.find('\n', start);
    REQUIRE(end != std::string::npos);
    const std::string line = image.substr(start, end - start);
    CHECK(json::parse(line).dump() == line);
    ++lines;
    start = end + 1;
  }
  CHECK(lines >= 10);  // members, sessions, locks and request ids
}

TEST_CASE("state machine: a re-proposed command takes effect once") {
  storage::testing::TempDir dir;
  auto sm = open_sm(dir.file("node.db"));
  std::vector<CommandResult> results;
  sm->on_result([&](const CommandResult& r) { results.push_back(r); });
  raft::Entry create = command(1, "session.create", {{"id", "aaaaaaaaaaaaaaaa"}});
  raft::Entry acquire = command(
      2, "lock.acquire", {{"kind", "lock"}, {"name", "db"}, {"session", "aaaaaaaaaaaaaaaa"}});
  raft::Entry again = acquire;
  again.index = 3;
  raft::Entry release = command(
      4, "lock.release", {{"kind", "lock"}, {"name", "db"}, {"session", "aaaaaaaaaaaaaaaa"}});
  raft::Entry release_again = release;
  release_again.index = 5;
  raft::Entry acquire_after = acquire;  // a stale copy of the acquire, after the release
  acquire_after.index = 6;
  sm->apply(
      std::vector<raft::Entry>{create, acquire, again, release, release_again, acquire_after});
  REQUIRE(results.size() == 6);
  CHECK(results[1].body["fencing_token"] == 2);
  CHECK(results[2].body.value("duplicate", false));
  CHECK(results[4].body.value("duplicate", false));
  CHECK(results[5].body.value("duplicate", false));
  // The stale copy did not take the lock again.
  const LockRecord* l = sm->locks().find_lock("l/db");
  CHECK((l == nullptr || l->holders.empty()));
}

TEST_CASE("state machine image: malformed images are refused") {
  storage::testing::TempDir dir;
  const std::string path = dir.file("node.db");
  auto sm = open_sm(path);
  auto db = storage::Database::open(path);
  REQUIRE(db.is_ok());
  for (const std::string& bad :
       {std::string(""), std::string("{\"format\":\"other\",\"version\":1}\n"),
        std::string("{\"format\":\"raftlock-sm\",\"version\":1}\n[\"sm_nope\",1]\n"),
        std::string("{\"format\":\"raftlock-sm\",\"version\":1}\n[\"sm_locks\",\"l/x\"]\n"),
        std::string("{\"format\":\"raftlock-sm\",\"version\":1}\nnot json\n"),
        std::string("{\"format\":\"raftlock-sm\",\"version\":1}\n[\"sm_locks\",\"l/x\",1.5]\n")}) {
    REQUIRE(db.value()->begin(storage::TransactionMode::kImmediate).is_ok());
    const Status s = restore_sm_image(*db.value(), bad);
    CHECK_MESSAGE(s.code() == ErrorCode::kCorruption, bad);
    REQUIRE(db.value()->rollback().is_ok());
  }
}

TEST_CASE("state machine: request ids are remembered across reopen and restore, then forgotten") {
  storage::testing::TempDir dir;
  const std::string path = dir.file("node.db");
  raft::Entry create = command(1, "session.create", {{"id", "aaaaaaaaaaaaaaaa"}});
  raft::Entry copy = create;  // the same command, re-proposed after a restart
  copy.index = 2;
  raft::Bytes image;
  {
    auto sm = open_sm(path);
    sm->apply(std::vector<raft::Entry>{create});
    image = sm->snapshot_image();
  }
  auto check_duplicate = [&](SqliteStateMachine& sm, raft::Index index) {
    std::vector<CommandResult> results;
    sm.on_result([&](const CommandResult& r) { results.push_back(r); });
    raft::Entry e = copy;
    e.index = index;
    sm.apply(std::vector<raft::Entry>{e});
    REQUIRE(results.size() == 1);
    CHECK(results[0].body.value("duplicate", false));
    CHECK(results[0].index == 1);  // where the first copy took effect
    sm.on_result(nullptr);
  };
  auto reopened = open_sm(path);
  check_duplicate(*reopened, 2);

  auto restored = open_sm(dir.file("restored.db"));
  raft::Snapshot snap;
  snap.meta.index = 1;
  snap.meta.term = 2;
  snap.data = image;
  restored->restore(snap);
  check_duplicate(*restored, 2);

  // Past the window, the id is forgotten on every node at the same index: a
  // copy then takes effect (here: refused, as the session exists already).
  std::vector<raft::Entry> filler;
  for (raft::Index i = 3; i <= SqliteStateMachine::kRequestWindow + 2; ++i)
    filler.push_back(command(i, "noop", json::object()));
  reopened->apply(filler);
  std::vector<CommandResult> results;
  reopened->on_result([&](const CommandResult& r) { results.push_back(r); });
  raft::Entry late = copy;
  late.index = SqliteStateMachine::kRequestWindow + 3;
  reopened->apply(std::vector<raft::Entry>{late});
  REQUIRE(results.size() == 1);
  CHECK_FALSE(results[0].body.value("duplicate", false));
  auto rows = storage::Database::open(path);
  REQUIRE(rows.is_ok());
  CHECK(rows.value()->query_int64("SELECT min(applied_index) FROM sm_requests").value() == 4);
}

TEST_CASE("state machine: migration 4 keeps the request window of an older database") {
  storage::testing::TempDir dir;
  const std::string path = dir.file("node.db");
  {
    auto db = storage::Database::open(path);
    REQUIRE(db.is_ok());
    REQUIRE(storage::migrate(*db.value(), storage::node_migrations().first(3)).is_ok());
    REQUIRE(db.value()
                ->exec("INSERT INTO sm_meta (id, applied_index) VALUES (1, 7);"
                       "INSERT INTO sm_requests (req, applied_index, result) VALUES "
                       "('n1-7', 7, ''), ('n1-5', 5, '')")
                .is_ok());
  }
  auto sm = open_sm(path);  // migrates to the latest version
  CHECK(sm->applied_index() == 7);
  std::vector<CommandResult> results;
  sm->on_result([&](const CommandResult& r) { results.push_back(r); });
  raft::Entry copy = command(8, "session.create", {{"id", "aaaaaaaaaaaaaaaa"}});
  copy.data = encode_command("session.create", "n1-5", {{"id", "aaaaaaaaaaaaaaaa"}, {"now", 1}});
  sm->apply(std::vector<raft::Entry>{copy});
  REQUIRE(results.size() == 1);
  CHECK(results[0].body.value("duplicate", false));
  CHECK(results[0].index == 5);
  CHECK(sm->locks().find_session("aaaaaaaaaaaaaaaa") == nullptr);
}

TEST_CASE("state machine: a log written with JSON commands applies as its binary twin") {
  // Entries written before commands became binary hold JSON objects.
  storage::testing::TempDir dir;
  auto binary = open_sm(dir.file("binary.db"));
  auto legacy = open_sm(dir.file("legacy.db"));
  std::vector<raft::Entry> es = workload();
  std::vector<raft::Entry> as_json = es;
  for (raft::Entry& e : as_json) {
    Result<Command> c = decode_command(e.data);
    REQUIRE(c.is_ok());
    json j = {{"op", c->op},     {"req", c->req},   {"now", *c->now},
              {"id", c->id},     {"name", c->name}, {"session", c->session},
              {"kind", c->kind}, {"mode", c->mode}, {"value", c->value}};
    if (c->ttl_ms) j["ttl_ms"] = *c->ttl_ms;
    if (c->lock_delay_ms) j["lock_delay_ms"] = *c->lock_delay_ms;
    if (c->limit) j["limit"] = *c->limit;
    if (c->wait_ms) j["wait_ms"] = *c->wait_ms;
    e.data = j.dump();
    REQUIRE(e.data.front() == '{');
  }
  binary->apply(es);
  legacy->apply(as_json);
  CHECK(view(legacy->locks()) == view(binary->locks()));
  CHECK(legacy->applied_index() == binary->applied_index());
  // A binary copy of a JSON entry's request is a duplicate, as any retry.
  std::vector<CommandResult> results;
  legacy->on_result([&](const CommandResult& r) { results.push_back(r); });
  raft::Entry retry = es.front();
  retry.index = legacy->applied_index() + 1;
  legacy->apply(std::vector<raft::Entry>{retry});
  REQUIRE(results.size() == 1);
  CHECK(results[0].body.value("duplicate", false));
}

}  // namespace
}  // namespace raftlock::service
