// Builders for LockState commands and a small harness that applies them at
// increasing log indexes, checking the invariants after every entry.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "service/lock_state.h"

namespace raftlock::service::testing {

using nlohmann::json;

// Through the binary form an entry carries (service/command.h).
inline Command make_command(const json& args) {
  Command c = command_from_json(args);
  if (c.req.empty()) c.req = "req-" + c.op;
  Result<Command> decoded = decode_command(encode_command(c));
  REQUIRE_MESSAGE(decoded.is_ok(), decoded.status().to_string());
  return std::move(decoded).value();
}

// ---- command arguments (without "now": the harness adds its clock) -------

inline json session_create(const std::string& id, std::int64_t lock_delay_ms = 0,
                           const std::string& name = "", std::int64_t ttl_ms = 10000) {
  return {{"op", "session.create"},
          {"id", id},
          {"name", name.empty() ? "n-" + id : name},
          {"ttl_ms", ttl_ms},
          {"lock_delay_ms", lock_delay_ms}};
}
inline json session_close(const std::string& id) {
  return {{"op", "session.close"}, {"id", id}};
}
inline json session_expire(std::vector<std::string> ids, raft::Term term) {
  return {{"op", "session.expire"}, {"ids", ids}, {"term", term}};
}

struct AcquireOpts {
  std::int64_t wait_ms = 0;
  std::int64_t limit = 1;
  std::string mode = "exclusive";
  std::string value;
};
inline json lock_acquire(const std::string& name, const std::string& session, AcquireOpts o = {}) {
  return {{"op", "lock.acquire"}, {"kind", "lock"},   {"name", name},         {"session", session},
          {"mode", o.mode},       {"limit", o.limit}, {"wait_ms", o.wait_ms}, {"value", o.value}};
}
inline json campaign(const std::string& name, const std::string& session, const std::string& value,
                     std::int64_t wait_ms = 0) {
  return {{"op", "lock.acquire"}, {"kind", "election"}, {"name", name},       {"session", session},
          {"mode", "exclusive"},  {"limit", 1},         {"wait_ms", wait_ms}, {"value", value}};
}
inline json lock_release(const std::string& name, const std::string& session,
                         std::int64_t fencing_token = -1) {
  json j = {{"op", "lock.release"}, {"kind", "lock"}, {"name", name}, {"session", session}};
  if (fencing_token >= 0) j["fencing_token"] = fencing_token;
  return j;
}
inline json resign(const std::string& name, const std::string& session) {
  return {{"op", "lock.release"}, {"kind", "election"}, {"name", name}, {"session", session}};
}
inline json lock_cancel(const std::string& name, const std::string& session,
                        const std::string& reason = "timeout", const std::string& kind = "lock") {
  return {{"op", "lock.cancel"},
          {"kind", kind},
          {"name", name},
          {"session", session},
          {"reason", reason}};
}
inline json proclaim(const std::string& name, const std::string& session,
                     const std::string& value) {
  return {{"op", "election.proclaim"}, {"name", name}, {"session", session}, {"value", value}};
}
inline json sweep() {
  return {{"op", "lock.sweep"}};
}

inline std::string lkey(const std::string& name) {
  return "l/" + name;
}
inline std::string ekey(const std::string& name) {
  return "e/" + name;
}

// Applies commands at index 1, 2, ... in term `term`, with the clock `now`.
struct Harness {
  explicit Harness(LockLimits limits = {}) : st(limits) {}

  LockState st;
  raft::Index index = 0;
  raft::Term term = 1;
  std::int64_t now = 1000;

  // Applies `args` at the next index; "now" defaults to the harness clock.
  CommandResult apply(json args) {
    if (!args.contains("now")) args["now"] = now;
    CommandResult r = st.apply(++index, term, make_command(std::move(args)));
    CHECK(r.index == index);
    const std::string inv = st.check_invariants();
    CHECK_MESSAGE(inv.empty(), inv);
    return r;
  }
  // Applies and requires success.
  CommandResult ok(json args) {
    const std::string op = args.value("op", std::string());
    CommandResult r = apply(std::move(args));
    REQUIRE_MESSAGE(r.ok, op << ": " << r.error_code << " " << r.error_message);
    return r;
  }
  // Applies and requires the error `code`.
  CommandResult err(json args, const std::string& code) {
    CommandResult r = apply(std::move(args));
    REQUIRE_MESSAGE(!r.ok, "expected " << code << ", got ok " << r.body.dump());
    CHECK(r.error_code == code);
    CHECK(!r.error_message.empty());
    return r;
  }

  const LockRecord& lock(const std::string& name) const {
    const LockRecord* l = st.find_lock(lkey(name));
    REQUIRE(l != nullptr);
    return *l;
  }
  const LockRecord& election(const std::string& name) const {
    const LockRecord* l = st.find_lock(ekey(name));
    REQUIRE(l != nullptr);
    return *l;
  }
  json lock_json(const std::string& name) const { return st.lock_json(lock(name), now); }
  json election_json(const std::string& name) const { return st.election_json(election(name)); }
  json session_json(const std::string& id) const {
    const SessionRecord* s = st.find_session(id);
    REQUIRE(s != nullptr);
    return st.session_json(*s);
  }
  std::vector<std::string> holders(const std::string& name) const {
    std::vector<std::string> out;
    for (const Holder& h : lock(name).holders)
      out.push_back(h.session);
    return out;
  }
  std::vector<std::string> waiters(const std::string& name) const {
    std::vector<std::string> out;
    for (const Waiter& w : lock(name).waiters)
      out.push_back(w.session);
    return out;
  }
  raft::Index token_of(const std::string& name, const std::string& session) const {
    const Holder* h = lock(name).holder(session);
    REQUIRE(h != nullptr);
    return h->token;
  }
};

// ---- persistence ----------------------------------------------------------

// Everything a client or the node could observe of a state, as one value.
inline json observe(const LockState& st, std::int64_t now) {
  json locks = json::object(), sessions = json::object();
  for (const auto& [key, l] : st.locks()) {
    json j = l.kind == LockKind::kElection ? st.election_json(l) : st.lock_json(l, now);
    j["record"] = LockState::encode_lock(l);
    locks[key] = std::move(j);
  }
  for (const auto& [id, s] : st.sessions()) {
    json j = st.session_json(s);
    j["create_index"] = s.create_index;
    sessions[id] = std::move(j);
  }
  return {{"locks", locks},
          {"sessions", sessions},
          {"active_locks", st.active_locks()},
          {"waiter_count", st.waiter_count()},
          {"sweep_due", st.sweep_due(now)}};
}

// A store of the records as SqliteStateMachine keeps them: lock records
// encoded, session records as plain values.
struct Stored {
  std::map<std::string, std::string> locks;
  std::map<std::string, SessionRecord> sessions;

  static Stored of(const LockState& st) {
    Stored out;
    for (const auto& [key, l] : st.locks())
      out.locks[key] = LockState::encode_lock(l);
    for (const auto& [id, s] : st.sessions())
      out.sessions[id] = s;
    return out;
  }
  // Writes what `changed` names, as persistence after each entry does.
  void write(const LockState& st, const std::set<std::string>& changed) {
    for (const std::string& key : changed) {
      if (key.rfind("s/", 0) == 0) {
        const std::string id = key.substr(2);
        if (const SessionRecord* s = st.find_session(id))
          sessions[id] = *s;
        else
          sessions.erase(id);
      } else if (const LockRecord* l = st.find_lock(key)) {
        locks[key] = LockState::encode_lock(*l);
      } else {
        locks.erase(key);
      }
    }
  }
  // Loads this store into `st` (clear, load every record, finish_load).
  void load_into(LockState& st) const {
    st.clear();
    REQUIRE(st.check_invariants() == "");
    for (const auto& [id, s] : sessions)
      st.load_session(s);
    for (const auto& [key, data] : locks) {
      Result<LockRecord> l = LockState::decode_lock(data);
      REQUIRE_MESSAGE(l.is_ok(), l.status().to_string());
      st.load_lock(std::move(l).value());
    }
    st.finish_load();
  }
};

}  // namespace raftlock::service::testing
