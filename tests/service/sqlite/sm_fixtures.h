// Shared by the SqliteStateMachine tests: commands as the leader encodes
// them, a state machine over a migrated database, and what clients can read.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "service/state_machine.h"
#include "storage/sqlite_log_store.h"

namespace raftlock::service::testing {

using nlohmann::json;

inline raft::Entry command(raft::Index index, const std::string& op, json args) {
  raft::Entry e;
  e.index = index;
  e.term = 2;
  e.type = raft::EntryType::kNormal;
  args["now"] = 1000000 + static_cast<std::int64_t>(index);
  e.data = encode_command(op, "n1-" + std::to_string(index), std::move(args));
  return e;
}

inline std::unique_ptr<SqliteStateMachine> open_sm(const std::string& path) {
  auto store = storage::SqliteLogStore::open(path);  // migrates the schema
  REQUIRE(store.is_ok());
  auto sm = SqliteStateMachine::open(path);
  REQUIRE(sm.is_ok());
  return std::move(sm).value();
}

// Everything a client could read, as one JSON document.
inline nlohmann::json view(const LockState& st) {
  json out = json::object();
  for (const auto& [key, l] : st.locks())
    out[key] = l.kind == LockKind::kElection ? st.election_json(l) : st.lock_json(l, 0);
  for (const auto& [id, s] : st.sessions())
    out["s/" + id] = st.session_json(s);
  return out;
}

inline std::vector<raft::Entry> workload() {
  const std::string a = "aaaaaaaaaaaaaaaa", b = "bbbbbbbbbbbbbbbb", c = "cccccccccccccccc";
  std::vector<raft::Entry> es;
  raft::Index i = 0;
  es.push_back(command(++i, "session.create", {{"id", a}, {"name", "w-a"}, {"ttl_ms", 5000}}));
  es.push_back(command(++i, "session.create",
                       {{"id", b}, {"name", "w-b"}, {"ttl_ms", 5000}, {"lock_delay_ms", 100}}));
  es.push_back(command(++i, "session.create", {{"id", c}, {"name", "w-c"}, {"ttl_ms", 5000}}));
  es.push_back(command(++i, "lock.acquire", {{"kind", "lock"}, {"name", "db"}, {"session", a}}));
  es.push_back(command(++i, "lock.acquire",
                       {{"kind", "lock"}, {"name", "db"}, {"session", b}, {"wait_ms", 9000}}));
  es.push_back(command(++i, "lock.acquire",
                       {{"kind", "lock"}, {"name", "sem"}, {"session", c}, {"limit", 3}}));
  es.push_back(command(++i, "lock.acquire",
                       {{"kind", "election"}, {"name", "pri"}, {"session", c}, {"value", "x:1"}}));
  es.push_back(command(++i, "lock.acquire",
                       {{"kind", "lock"}, {"name", "rw"}, {"session", a}, {"mode", "shared"}}));
  es.push_back(command(++i, "lock.release", {{"kind", "lock"}, {"name", "db"}, {"session", a}}));
  es.push_back(command(++i, "lock.acquire", {{"kind", "lock"}, {"name", "tmp"}, {"session", a}}));
  es.push_back(command(++i, "lock.release", {{"kind", "lock"}, {"name", "tmp"}, {"session", a}}));
  return es;
}

}  // namespace raftlock::service::testing
