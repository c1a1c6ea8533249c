// LockState's session commands: session.create, session.close and
// session.expire, and ending a session (its holds released, its waits
// withdrawn, its locks delayed when it expired).
#include <algorithm>
#include <set>
#include <string>

#include "service/lock_state.h"
#include "service/lock_state_internal.h"

namespace raftlock::service {

using lock_state_detail::fail;
using lock_state_detail::ok_result;
using lock_state_detail::one_field;
using nlohmann::json;

CommandResult LockState::create_session(Ctx& x) {
  const std::string& id = x.c.id;
  if (id.empty()) return fail(x.index, x.c, "invalid_argument", "session id missing");
  if (sessions_.count(id) != 0) {
    return fail(x.index, x.c, "conflict", "session " + id + " exists");
  }
  if (sessions_.size() >= limits_.max_sessions) {
    return fail(
        x.index, x.c, "limit_exceeded",
        "the cluster holds the maximum of " + std::to_string(limits_.max_sessions) + " sessions");
  }
  SessionRecord s;
  s.id = id;
  s.name = x.c.name;
  s.ttl_ms = x.c.ttl_ms.value_or(10000);
  s.lock_delay_ms = x.c.lock_delay_ms.value_or(0);
  s.create_index = x.index;
  SessionRecord& stored = *sessions_.emplace(id, std::move(s)).first;
  touch_session(stored, x.index);
  // Only the node whose client waits reads the body (like a grant's).
  json body = json::object();
  if (x.answer) {
    body["session"] = id;
    body["ttl_ms"] = stored.ttl_ms;
  }
  return ok_result(x.index, x.c, std::move(body));
}

json LockState::end_session(Ctx& x, const std::string& id, bool expired,
                            std::set<std::string>* defer_grants) {
  json released = json::array(), resigned = json::array();
  SessionRecord* sit = sessions_.find(id);
  if (sit == nullptr) return {{"released", released}, {"resigned", resigned}};
  // The record is erased below: its indexes are moved out, not copied.
  std::set<std::string> held = std::move(sit->held);
  const std::set<std::string> waiting = std::move(sit->waiting);
  const std::int64_t delay = sit->lock_delay_ms;
  for (const std::string& key : waiting) {
    LockRecord& l = locks_.at(key);
    remove_waiter(l, key, id, "session_ended");
  }
  for (const std::string& key : held) {
    LockRecord& l = locks_.at(key);
    std::erase_if(l.holders, [&](const Holder& h) { return h.session == id; });
    (l.kind == LockKind::kElection ? resigned : released).push_back(l.name);
    if (expired && delay > 0 && l.kind == LockKind::kLock) {
      l.delay_until_ms = std::max(l.delay_until_ms, x.now + delay);
    }
  }
  effects_.changed.insert(session_key(id));
  sessions_.erase(id);
  // Waiters are granted only once the ended session is gone from every lock.
  std::set<std::string> touched = std::move(held);  // its last use
  touched.insert(waiting.begin(), waiting.end());
  if (defer_grants != nullptr) {
    defer_grants->insert(touched.begin(), touched.end());
  } else {
    for (const std::string& key : touched)
      grant_waiters(locks_.at(key), key, x.index, x.now);
  }
  return {{"released", released}, {"resigned", resigned}};
}

CommandResult LockState::close_session(Ctx& x) {
  const std::string& id = x.c.id;
  if (sessions_.count(id) == 0) {
    return fail(x.index, x.c, "session_not_found", "session " + id + " not found");
  }
  json body = end_session(x, id, /*expired=*/false);
  body["closed"] = true;
  return ok_result(x.index, x.c, std::move(body));
}

CommandResult LockState::expire_sessions(Ctx& x) {
  // Term guard: only the leader that saw the keepalives stop may expire, and
  // only in the term it decided in. An entry that a deposed leader proposed
  // (and a later leader appended for it) expires nothing.
  const raft::Term decided = static_cast<raft::Term>(x.c.term.value_or(-1));
  json expired = json::array();
  if (decided != x.term) return ok_result(x.index, x.c, {{"expired", expired}, {"stale", true}});
  // Every named session leaves every lock before anyone is granted, so the
  // entry grants nothing to a session it expires too.
  std::set<std::string> to_grant;
  for (const std::string& id : x.c.ids) {
    if (sessions_.count(id) == 0) continue;
    end_session(x, id, /*expired=*/true, &to_grant);
    expired.push_back(id);
  }
  for (const std::string& key : to_grant)
    grant_waiters(locks_.at(key), key, x.index, x.now);
  return ok_result(x.index, x.c, one_field("expired", std::move(expired)));
}

}  // namespace raftlock::service
