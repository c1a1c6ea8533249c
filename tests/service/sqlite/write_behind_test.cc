// SqliteStateMachine with write-behind: the rows of many batches written
// together leave exactly the tables that writing every batch leaves; what a
// crash drops is only what the log applies again; the entry count, the timer,
// a configuration entry, a snapshot and a restore each write (or drop) what
// is pending.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <random>

#include "raft/conf_change.h"
#include "tests/service/sqlite/sm_fixtures.h"
#include "tests/storage/temp_dir.h"

namespace raftlock::service {
namespace {

using nlohmann::json;
using testing::command;
using testing::open_sm;
using testing::view;
using testing::workload;

constexpr std::chrono::hours kNever{1};

// Sessions come and go, locks are taken, queued for and released, and some
// commands arrive twice (a re-proposal), over more entries than the request
// window holds, so its pruning is written too.
std::vector<raft::Entry> random_workload(std::uint32_t seed, raft::Index n) {
  std::mt19937 rng(seed);
  auto pick = [&rng](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
  std::vector<std::string> sessions;
  std::vector<raft::Entry> es;
  std::uint64_t next_session = 0;
  for (raft::Index i = 1; i <= n; ++i) {
    const int what = pick(100);
    if (sessions.size() < 4 || what < 3) {
      char id[17];
      std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(++next_session));
      sessions.emplace_back(id);
      es.push_back(command(i, "session.create", {{"id", id}, {"name", "w"}, {"ttl_ms", 60000}}));
    } else if (what < 5) {
      const std::size_t k = static_cast<std::size_t>(pick(static_cast<int>(sessions.size())));
      es.push_back(command(i, "session.close", {{"id", sessions[k]}}));
      sessions.erase(sessions.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (what < 8 && i > 10) {
      // A second copy of a recent command: applied once, remembered once.
      const raft::Index earlier = i - 1 - static_cast<raft::Index>(pick(10));
      raft::Entry e{2, i, raft::EntryType::kNormal, es[earlier - 1].data};
      es.push_back(std::move(e));
    } else {
      const std::string& s =
          sessions[static_cast<std::size_t>(pick(static_cast<int>(sessions.size())))];
      const json name = "k" + std::to_string(pick(12));
      if (what < 55) {
        json args = {{"kind", "lock"}, {"name", name}, {"session", s}};
        if (pick(3) == 0) args["wait_ms"] = 5000;
        es.push_back(command(i, "lock.acquire", std::move(args)));
      } else {
        es.push_back(
            command(i, "lock.release", {{"kind", "lock"}, {"name", name}, {"session", s}}));
      }
    }
  }
  return es;
}

TEST_CASE("write-behind leaves the tables that writing every batch leaves") {
  storage::testing::TempDir dir;
  boost::asio::io_context io;
  auto eager = open_sm(dir.file("eager.db"));
  auto lazy = open_sm(dir.file("lazy.db"));
  lazy->set_executor(io);
  lazy->set_write_behind(kNever, 1000);
  const std::vector<raft::Entry> es = random_workload(7, SqliteStateMachine::kRequestWindow + 1500);
  std::mt19937 rng(11);
  bool lagged = false;
  int compared = 0;
  for (std::size_t at = 0; at < es.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 60, es.size() - at);
    std::vector<raft::Entry> batch(es.begin() + static_cast<std::ptrdiff_t>(at),
                                   es.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    eager->apply(batch);
    lazy->apply(batch);
    REQUIRE(eager->written_index() == eager->applied_index());
    lagged = lagged || lazy->written_index() < lazy->applied_index();
    if (rng() % 150 == 0 || at == es.size()) {
      // snapshot_image() writes what is pending first, then reads the tables.
      REQUIRE(eager->snapshot_image() == lazy->snapshot_image());
      CHECK(lazy->written_index() == lazy->applied_index());
      ++compared;
    }
  }
  CHECK(lagged);
  CHECK(compared >= 5);
  CHECK(view(eager->locks()) == view(lazy->locks()));
  CHECK(!lazy->locks().locks().empty());
}

TEST_CASE("write-behind: after a crash the tables lag, and applying the log again catches up") {
  storage::testing::TempDir dir;
  boost::asio::io_context io;
  const std::string path = dir.file("node.db");
  auto sm = open_sm(path);
  sm->set_executor(io);
  sm->set_write_behind(kNever, 100000);
  const std::vector<raft::Entry> es = workload();
  sm->apply(std::vector<raft::Entry>{es.begin(), es.begin() + 6});
  sm->flush();
  sm->apply(std::vector<raft::Entry>{es.begin() + 6, es.end()});
  CHECK(sm->written_index() == 6);
  CHECK(sm->applied_index() == 11);

  // What a node restarted after kill -9 finds on disk: the tables at index 6.
  const std::string crashed = dir.file("crashed.db");
  for (const char* suffix : {"", "-wal"})
    std::filesystem::copy_file(path + suffix, crashed + suffix);
  auto restarted = open_sm(crashed);
  CHECK(restarted->applied_index() == 6);
  restarted->apply(es);  // the log from its start: 1-6 are skipped
  CHECK(restarted->applied_index() == 11);
  CHECK(view(restarted->locks()) == view(sm->locks()));
}

TEST_CASE("write-behind: the entry count and the timer write what is pending") {
  storage::testing::TempDir dir;
  boost::asio::io_context io;
  auto sm = open_sm(dir.file("node.db"));
  sm->set_executor(io);
  sm->set_write_behind(std::chrono::milliseconds(20), 4);
  const std::vector<raft::Entry> es = workload();
  sm->apply(std::vector<raft::Entry>{es.begin(), es.begin() + 3});
  CHECK(sm->written_index() == 0);
  sm->apply(std::vector<raft::Entry>{es.begin() + 3, es.begin() + 4});
  CHECK(sm->written_index() == 4);  // 4 entries pending: written at once
  sm->apply(std::vector<raft::Entry>{es.begin() + 4, es.begin() + 6});
  CHECK(sm->written_index() == 4);
  io.run_for(std::chrono::milliseconds(300));
  CHECK(sm->written_index() == 6);  // the timer wrote the rest
}

TEST_CASE("write-behind: a configuration entry is written with everything before it") {
  storage::testing::TempDir dir;
  boost::asio::io_context io;
  auto sm = open_sm(dir.file("node.db"));
  sm->set_executor(io);
  sm->set_write_behind(kNever, 100000);
  std::vector<raft::Entry> es = workload();
  raft::ConfChangeEntry cc;
  cc.change.type = raft::ConfChangeType::kAddLearner;
  cc.change.node = 4;
  cc.change.context = R"({"peer": "127.0.0.1:7004", "http": "127.0.0.1:8004"})";
  cc.result.voters = {1};
  cc.result.learners = {4};
  es.insert(es.begin() + 5,
            raft::Entry{2, 6, raft::EntryType::kConfChange, raft::encode_conf_change_entry(cc)});
  for (std::size_t k = 6; k < es.size(); ++k)
    es[k].index = k + 1;
  sm->apply(es);
  CHECK(sm->applied_index() == es.size());
  CHECK(sm->written_index() == 6);
  const std::vector<Member> members = sm->members();
  REQUIRE(members.size() == 2);
  CHECK(members[1].id == 4);
  CHECK(members[1].peer == "127.0.0.1:7004");
  CHECK(!members[1].voter);
  auto restarted = open_sm(dir.file("node.db"));
  CHECK(restarted->applied_index() == 6);
  // Entries 1-5 (db taken by a, b queued) are in the tables; the semaphore
  // taken after the configuration entry is not written yet.
  REQUIRE(restarted->locks().find_lock("l/db") != nullptr);
  CHECK(restarted->locks().find_lock("l/db")->waiters.size() == 1);
  CHECK(restarted->locks().find_lock("l/sem") == nullptr);
  CHECK(sm->locks().find_lock("l/sem") != nullptr);
}

TEST_CASE("write-behind: a restore replaces what was not written yet") {
  storage::testing::TempDir dir;
  boost::asio::io_context io;
  auto source = open_sm(dir.file("source.db"));
  const std::vector<raft::Entry> es = workload();
  source->apply(std::vector<raft::Entry>{es.begin(), es.begin() + 3});
  raft::Snapshot snap;
  snap.meta.index = 3;
  snap.meta.term = 2;
  snap.data = source->snapshot_image();

  const std::string path = dir.file("node.db");
  auto sm = open_sm(path);
  sm->set_executor(io);
  sm->set_write_behind(kNever, 100000);
  sm->apply(random_workload(3, 40));
  REQUIRE(sm->written_index() == 0);
  sm->restore(snap);
  CHECK(sm->applied_index() == 3);
  CHECK(sm->written_index() == 3);
  CHECK(view(sm->locks()) == view(source->locks()));
  // Nothing of the replaced state is written later, with the next entries.
  const std::vector<raft::Entry> rest(es.begin() + 3, es.end());
  sm->apply(rest);
  source->apply(rest);
  sm->flush();
  auto reopened = open_sm(path);
  CHECK(reopened->applied_index() == 11);
  CHECK(view(reopened->locks()) == view(source->locks()));
  CHECK(reopened->snapshot_image() == source->snapshot_image());  // the request ids too
}

}  // namespace
}  // namespace raftlock::service
