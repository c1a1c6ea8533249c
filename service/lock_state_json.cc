// LockState's JSON shapes of API.md, shared by command results and GETs.
#include "service/lock_state.h"

namespace raftlock::service {

using nlohmann::json;
using raft::Index;

json LockState::holders_json(const LockRecord& l) const {
  json out = json::array();
  for (const Holder& h : l.holders) {
    const SessionRecord* s = find_session(h.session);
    json j = {{"session", h.session},
              {"name", s ? s->name : std::string()},
              {"fencing_token", h.token},
              {"mode", mode_name(h.mode)}};
    out.push_back(std::move(j));
  }
  return out;
}

json LockState::lock_json(const LockRecord& l, std::int64_t now_ms) const {
  json waiters = json::array();
  for (const Waiter& w : l.waiters) {
    const SessionRecord* s = find_session(w.session);
    waiters.push_back({{"session", w.session},
                       {"name", s ? s->name : std::string()},
                       {"mode", mode_name(w.mode)}});
  }
  json out = {{"lock", l.name},
              {"limit", l.limit},
              {"holders", holders_json(l)},
              {"waiters", waiters},
              {"modify_index", l.modify_index}};
  if (l.delay_until_ms != 0) {
    out["lock_delay_remaining_ms"] = std::max<std::int64_t>(0, l.delay_until_ms - now_ms);
  }
  return out;
}

json LockState::election_json(const LockRecord& l) const {
  json leader = nullptr;
  if (!l.holders.empty()) {
    const Holder& h = l.holders.front();
    leader = {{"session", h.session}, {"value", h.value}, {"term", h.token}};
  }
  return {{"election", l.name},
          {"leader", leader},
          {"candidates", l.waiters.size()},
          {"modify_index", l.modify_index}};
}

json LockState::session_json(const SessionRecord& s) const {
  json held = json::array(), waiting = json::array(), leading = json::array();
  for (const std::string& key : s.held) {
    const LockRecord& l = locks_.at(key);
    (l.kind == LockKind::kElection ? leading : held).push_back(l.name);
  }
  for (const std::string& key : s.waiting) {
    const LockRecord& l = locks_.at(key);
    if (l.kind == LockKind::kLock) waiting.push_back(l.name);
  }
  return {{"session", s.id},    {"name", s.name},
          {"ttl_ms", s.ttl_ms}, {"lock_delay_ms", s.lock_delay_ms},
          {"held", held},       {"waiting", waiting},
          {"leading", leading}, {"modify_index", s.modify_index}};
}

json LockState::grant_body(const LockRecord& l, const Holder& h) const {
  // Field by field: a brace-initialized json builds and copies a temporary
  // per element (perf: most of a grant's cost on the node that answers).
  json b = json::object();
  if (l.kind == LockKind::kElection) {
    b["election"] = l.name;
    b["leader"] = true;
    b["value"] = h.value;
    b["term"] = h.token;
    return b;
  }
  b["lock"] = l.name;
  b["session"] = h.session;
  b["fencing_token"] = h.token;
  b["holders"] = l.holders.size();
  b["mode"] = mode_name(h.mode);
  return b;
}

}  // namespace raftlock::service
