// LockState: the command dispatch, bookkeeping of changed keys, tombstones
// and timed locks, the admission rules, and the lock and election commands
// (acquire, release, cancel, proclaim, sweep). The session commands are in
// lock_state_sessions.cc.
#include "service/lock_state.h"

#include <algorithm>

#include "service/lock_state_internal.h"

namespace raftlock::service {

using nlohmann::json;
using raft::Index;

using lock_state_detail::fail;
using lock_state_detail::kind_arg;
using lock_state_detail::mode_arg;
using lock_state_detail::ok_result;
using lock_state_detail::one_field;

const char* kind_name(LockKind k) {
  return k == LockKind::kElection ? "election" : "lock";
}

const char* mode_name(LockMode m) {
  return m == LockMode::kShared ? "shared" : "exclusive";
}

const Holder* LockRecord::holder(const std::string& session) const {
  for (const Holder& h : holders)
    if (h.session == session) return &h;
  return nullptr;
}

const Waiter* LockRecord::waiter(const std::string& session) const {
  for (const Waiter& w : waiters)
    if (w.session == session) return &w;
  return nullptr;
}

Index LockRecord::current_token() const {
  Index t = 0;
  for (const Holder& h : holders)
    t = std::max(t, h.token);
  return t;
}

std::string LockState::lock_key(LockKind kind, const std::string& name) {
  return (kind == LockKind::kElection ? "e/" : "l/") + name;
}

const LockRecord* LockState::find_lock(const std::string& key) const {
  auto it = locks_.find(key);
  return it == locks_.end() ? nullptr : &it->second;
}

const SessionRecord* LockState::find_session(const std::string& id) const {
  return sessions_.find(id);
}

std::size_t LockState::waiter_count() const {
  std::size_t n = 0;
  for (const std::string& key : timed_)
    n += locks_.at(key).waiters.size();
  return n;
}

bool LockState::sweep_due(std::int64_t now_ms) const {
  for (const std::string& key : timed_) {
    const LockRecord& l = locks_.at(key);
    if (l.delay_until_ms != 0 && l.delay_until_ms <= now_ms) return true;
    for (const Waiter& w : l.waiters)
      if (w.deadline_ms + kWaitGraceMs <= now_ms) return true;
  }
  return false;
}

// ---- bookkeeping ---------------------------------------------------------

void LockState::touch_lock(LockRecord& l, const std::string& key, Index index) {
  l.modify_index = index;
  effects_.changed.insert(key);
  if (l.active() != l.counted) {
    l.counted = l.active();
    if (l.counted)
      ++active_;
    else
      --active_;
  }
  if (!l.waiters.empty() || l.delay_until_ms != 0)
    timed_.insert(key);
  else
    timed_.erase(key);
  if (!l.active() && l.delay_until_ms == 0) tombstones_.emplace_back(index, key);
}

void LockState::touch_session(SessionRecord& s, Index index) {
  s.modify_index = index;
  effects_.changed.insert(session_key(s.id));
}

void LockState::prune(Index applied) {
  while (!tombstones_.empty() && tombstones_.front().first + kTombstoneWindow <= applied) {
    auto [at, key] = tombstones_.front();
    tombstones_.pop_front();
    auto it = locks_.find(key);
    // Only if it stayed unused since it was queued (a later use re-queues it).
    if (it != locks_.end() && it->second.modify_index == at && !it->second.active() &&
        it->second.delay_until_ms == 0) {
      locks_.erase(it);
      effects_.changed.insert(key);
    }
  }
}

LockEffects LockState::take_effects() {
  LockEffects out = std::move(effects_);
  effects_ = LockEffects{};
  return out;
}

// ---- rules ---------------------------------------------------------------

bool LockState::admits(const LockRecord& l, LockMode mode) const {
  if (mode == LockMode::kShared) {
    return std::none_of(l.holders.begin(), l.holders.end(),
                        [](const Holder& h) { return h.mode == LockMode::kExclusive; });
  }
  return l.holders.size() < l.limit;
}

void LockState::grant_waiters(LockRecord& l, const std::string& key, Index index,
                              std::int64_t now) {
  if (l.delay_until_ms != 0 && now >= l.delay_until_ms) l.delay_until_ms = 0;
  // FIFO: stop at the first waiter that cannot be admitted, so a queued
  // writer is not overtaken by later readers. Nobody is admitted during a
  // lock delay.
  while (l.delay_until_ms == 0 && !l.waiters.empty() && admits(l, l.waiters.front().mode)) {
    Waiter w = std::move(l.waiters.front());
    l.waiters.erase(l.waiters.begin());
    l.holders.push_back(Holder{w.session, index, w.mode, w.value});
    SessionRecord& s = sessions_.at(w.session);
    s.waiting.erase(key);
    s.held.insert(key);
    touch_session(s, index);
    effects_.grants.push_back({key, w.session, index});
  }
  touch_lock(l, key, index);
}

void LockState::remove_waiter(LockRecord& l, const std::string& key, const std::string& session,
                              const std::string& reason) {
  auto it = std::find_if(l.waiters.begin(), l.waiters.end(),
                         [&](const Waiter& w) { return w.session == session; });
  if (it == l.waiters.end()) return;
  l.waiters.erase(it);
  effects_.waits_ended.push_back({key, session, reason});
}

CommandResult LockState::apply(Index index, raft::Term term, const Command& c, bool answer) {
  Ctx x{index, term, c, c.now.value_or(0), answer};
  if (c.op == "session.create") return create_session(x);
  if (c.op == "session.close") return close_session(x);
  if (c.op == "session.expire") return expire_sessions(x);
  if (c.op == "lock.acquire") return acquire(x);
  if (c.op == "lock.release") return release(x);
  if (c.op == "lock.cancel") return cancel_wait(x);
  if (c.op == "election.proclaim") return proclaim(x);
  if (c.op == "lock.sweep") return sweep(x);
  if (c.op == "noop") return ok_result(index, c, json::object());
  return fail(index, c, "invalid_command", "unknown command " + c.op);
}

CommandResult LockState::granted(const Ctx& x, const LockRecord& l, const Holder& h) const {
  // The body (the lock as API.md shows it) is the costly part of a grant;
  // only a node with a waiting request needs it.
  return ok_result(x.index, x.c, x.answer ? grant_body(l, h) : json::object());
}

CommandResult LockState::held_error(Index index, const Command& c, const LockRecord* l) const {
  json extra = json::object();
  if (l != nullptr && l->kind == LockKind::kElection) {
    extra["leader"] = election_json(*l)["leader"];
    return fail(index, c, "lock_held", "election " + l->name + " has another leader",
                std::move(extra));
  }
  extra["holders"] = l ? holders_json(*l) : json::array();
  if (l != nullptr && l->delay_until_ms != 0) {
    extra["lock_delay_until_ms"] = l->delay_until_ms;
  }
  return fail(index, c, "lock_held",
              "lock " + (l ? l->name : std::string()) + " is held by another session",
              std::move(extra));
}

CommandResult LockState::acquire(Ctx& x) {
  const Command& a = x.c;
  const LockKind kind = kind_arg(a);
  const std::string& name = a.name;
  const std::string& sid = a.session;
  const LockMode mode = mode_arg(a);
  const std::int64_t limit_arg = a.limit.value_or(1);
  const std::int64_t wait_ms = a.wait_ms.value_or(0);
  if (name.empty() || limit_arg < 1 || limit_arg > 1000000 || wait_ms < 0 ||
      (mode == LockMode::kShared && limit_arg != 1) ||
      (kind == LockKind::kElection && (mode != LockMode::kExclusive || limit_arg != 1))) {
    return fail(x.index, x.c, "invalid_argument", "malformed acquire");
  }
  const auto limit = static_cast<std::uint32_t>(limit_arg);
  SessionRecord* sit = sessions_.find(sid);
  if (sit == nullptr) {
    return fail(x.index, x.c, "session_not_found", "session " + sid + " not found");
  }
  SessionRecord& s = *sit;
  const std::string key = lock_key(kind, name);
  auto lit = locks_.find(key);
  if (lit != locks_.end()) {
    LockRecord& l = lit->second;
    if (const Holder* h = l.holder(sid)) {
      if (h->mode != mode || l.limit != limit) {
        return fail(x.index, x.c, "limit_mismatch",
                    std::string("the session holds ") + kind_name(kind) + " " + name +
                        " with limit " + std::to_string(l.limit) + " in mode " +
                        mode_name(h->mode));
      }
      return granted(x, l, *h);  // the existing grant
    }
    if (l.active() && l.limit != limit) {
      return fail(x.index, x.c, "limit_mismatch",
                  std::string(kind_name(kind)) + " " + name + " is in use with limit " +
                      std::to_string(l.limit));
    }
    for (Waiter& w : l.waiters) {
      if (w.session != sid) continue;
      if (w.mode != mode) {
        return fail(x.index, x.c, "limit_mismatch",
                    std::string("the session waits for ") + kind_name(kind) + " " + name +
                        " in mode " + mode_name(w.mode));
      }
      w.deadline_ms = x.now + wait_ms;  // attach: same place, the new deadline
      if (kind == LockKind::kElection) w.value = a.value;
      effects_.changed.insert(key);  // the stored record must carry the new deadline
      return ok_result(x.index, x.c, one_field("queued", true));
    }
  }
  if (s.held.size() + s.waiting.size() >= limits_.max_keys_per_session) {
    return fail(x.index, x.c, "limit_exceeded",
                "a session may hold or wait for at most " +
                    std::to_string(limits_.max_keys_per_session) + " locks");
  }
  const bool exists_active = lit != locks_.end() && lit->second.active();
  if (!exists_active && active_ >= limits_.max_locks) {
    return fail(x.index, x.c, "limit_exceeded",
                "the cluster holds the maximum of " + std::to_string(limits_.max_locks) +
                    " locks and elections");
  }
  if (lit == locks_.end()) {
    LockRecord fresh;
    fresh.kind = kind;
    fresh.name = name;
    lit = locks_.emplace(key, std::move(fresh)).first;
  }
  LockRecord& l = lit->second;
  if (!l.active()) l.limit = limit;
  const bool delayed = l.delay_until_ms != 0 && x.now < l.delay_until_ms;
  if (!delayed && l.waiters.empty() && admits(l, mode)) {
    l.delay_until_ms = 0;
    l.holders.push_back(Holder{sid, x.index, mode, a.value});
    s.held.insert(key);
    touch_session(s, x.index);
    touch_lock(l, key, x.index);
    effects_.grants.push_back({key, sid, x.index});
    return granted(x, l, l.holders.back());
  }
  if (wait_ms == 0) return held_error(x.index, x.c, &l);
  if (l.waiters.size() >= limits_.max_waiters_per_lock) {
    return fail(x.index, x.c, "limit_exceeded",
                std::string(kind_name(kind)) + " " + name + " has the maximum of " +
                    std::to_string(limits_.max_waiters_per_lock) + " waiters");
  }
  l.waiters.push_back(Waiter{sid, mode, x.now + wait_ms, a.value, x.index});
  s.waiting.insert(key);
  touch_session(s, x.index);
  touch_lock(l, key, x.index);
  return ok_result(x.index, x.c, one_field("queued", true));
}

CommandResult LockState::release(Ctx& x) {
  const Command& a = x.c;
  const LockKind kind = kind_arg(a);
  const std::string& name = a.name;
  const std::string& sid = a.session;
  SessionRecord* sit = sessions_.find(sid);
  if (sit == nullptr) {
    return fail(x.index, x.c, "session_not_found", "session " + sid + " not found");
  }
  const std::string key = lock_key(kind, name);
  auto lit = locks_.find(key);
  LockRecord* l = lit == locks_.end() ? nullptr : &lit->second;
  const Holder* h = l ? l->holder(sid) : nullptr;
  if (kind == LockKind::kElection && h == nullptr) {
    // Resign by a session that does not lead withdraws its candidacy.
    if (l != nullptr && l->waiter(sid) != nullptr) {
      remove_waiter(*l, key, sid, "cancelled");
      sit->waiting.erase(key);
      touch_session(*sit, x.index);
      grant_waiters(*l, key, x.index, x.now);
    }
    return ok_result(x.index, x.c, one_field("resigned", false));
  }
  const std::int64_t token = a.fencing_token.value_or(-1);
  if (h == nullptr || (token >= 0 && static_cast<Index>(token) != h->token)) {
    return fail(x.index, x.c, "not_holder",
                h == nullptr ? "the session does not hold lock " + name
                             : "fencing token " + std::to_string(token) +
                                   " is not the session's current grant of lock " + name);
  }
  std::erase_if(l->holders, [&](const Holder& o) { return o.session == sid; });
  sit->held.erase(key);
  touch_session(*sit, x.index);
  grant_waiters(*l, key, x.index, x.now);
  if (kind == LockKind::kElection) return ok_result(x.index, x.c, one_field("resigned", true));
  return ok_result(x.index, x.c, one_field("released", true));
}

CommandResult LockState::cancel_wait(Ctx& x) {
  // The end of one wait: its deadline passed, or its clients went away. If
  // an earlier entry granted it, the answer is that grant.
  const Command& a = x.c;
  const LockKind kind = kind_arg(a);
  const std::string& name = a.name;
  const std::string& sid = a.session;
  SessionRecord* sit = sessions_.find(sid);
  if (sit == nullptr) {
    return fail(x.index, x.c, "session_not_found", "session " + sid + " not found");
  }
  const std::string key = lock_key(kind, name);
  auto lit = locks_.find(key);
  LockRecord* l = lit == locks_.end() ? nullptr : &lit->second;
  if (l != nullptr) {
    if (const Holder* h = l->holder(sid)) return granted(x, *l, *h);
    if (l->waiter(sid) != nullptr) {
      remove_waiter(*l, key, sid, a.reason == "gone" ? "cancelled" : "timeout");
      sit->waiting.erase(key);
      touch_session(*sit, x.index);
      grant_waiters(*l, key, x.index, x.now);  // a reader behind a cancelled writer
    }
  }
  return held_error(x.index, x.c, l);
}

CommandResult LockState::proclaim(Ctx& x) {
  const Command& a = x.c;
  const std::string& name = a.name;
  const std::string& sid = a.session;
  SessionRecord* sit = sessions_.find(sid);
  if (sit == nullptr) {
    return fail(x.index, x.c, "session_not_found", "session " + sid + " not found");
  }
  const std::string key = lock_key(LockKind::kElection, name);
  auto lit = locks_.find(key);
  if (lit == locks_.end() || lit->second.holder(sid) == nullptr) {
    return fail(x.index, x.c, "not_leader", "the session does not lead election " + name);
  }
  LockRecord& l = lit->second;
  for (Holder& h : l.holders) {
    if (h.session == sid) h.value = a.value;
  }
  touch_lock(l, key, x.index);
  return granted(x, l, *l.holder(sid));
}

CommandResult LockState::sweep(Ctx& x) {
  // Waits whose node did not cancel them (it may have died) and lock delays
  // that ended, as of the leader's clock reading in the entry.
  std::vector<std::string> keys(timed_.begin(), timed_.end());
  std::size_t cancelled = 0;
  for (const std::string& key : keys) {
    LockRecord& l = locks_.at(key);
    std::vector<std::string> late;
    for (const Waiter& w : l.waiters)
      if (w.deadline_ms + kWaitGraceMs <= x.now) late.push_back(w.session);
    for (const std::string& sid : late) {
      remove_waiter(l, key, sid, "timeout");
      SessionRecord& s = sessions_.at(sid);
      s.waiting.erase(key);
      touch_session(s, x.index);
      ++cancelled;
    }
    if (!late.empty() || (l.delay_until_ms != 0 && l.delay_until_ms <= x.now)) {
      grant_waiters(l, key, x.index, x.now);
    }
  }
  return ok_result(x.index, x.c, one_field("cancelled", cancelled));
}

}  // namespace raftlock::service
