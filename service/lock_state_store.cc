// LockState's stored form (one JSON record per lock or election), loading
// it back, and the structural invariants checked after loading and in tests.
#include <algorithm>

#include "service/json_text.h"
#include "service/lock_state.h"

namespace raftlock::service {

using nlohmann::json;
using raft::Index;

std::string LockState::encode_lock(const LockRecord& l) {
  // {"d":..,"h":[[session,token,shared,value]..],"k":..,"l":..,"m":..,"n":..,
  //  "w":[[session,shared,deadline_ms,value,since]..]}: keys in the order
  // nlohmann::json keeps them (sorted), so the text equals its dump().
  using json_text::append_int;
  using json_text::append_string;
  std::string out;
  out.reserve(96 + l.name.size() + 48 * (l.holders.size() + l.waiters.size()));
  out.append("{\"d\":");
  append_int(out, l.delay_until_ms);
  out.append(",\"h\":[");
  for (std::size_t i = 0; i < l.holders.size(); ++i) {
    const Holder& x = l.holders[i];
    if (i > 0) out.push_back(',');
    out.push_back('[');
    append_string(out, x.session);
    out.push_back(',');
    append_int(out, x.token);
    out.append(x.mode == LockMode::kShared ? ",1," : ",0,");
    append_string(out, x.value);
    out.push_back(']');
  }
  out.append("],\"k\":");
  out.push_back(l.kind == LockKind::kElection ? '1' : '0');
  out.append(",\"l\":");
  append_int(out, l.limit);
  out.append(",\"m\":");
  append_int(out, l.modify_index);
  out.append(",\"n\":");
  append_string(out, l.name);
  out.append(",\"w\":[");
  for (std::size_t i = 0; i < l.waiters.size(); ++i) {
    const Waiter& x = l.waiters[i];
    if (i > 0) out.push_back(',');
    out.push_back('[');
    append_string(out, x.session);
    out.append(x.mode == LockMode::kShared ? ",1," : ",0,");
    append_int(out, x.deadline_ms);
    out.push_back(',');
    append_string(out, x.value);
    out.push_back(',');
    append_int(out, x.since);
    out.push_back(']');
  }
  out.append("]}");
  return out;
}

Result<LockRecord> LockState::decode_lock(const std::string& data) {
  json j = json::parse(data, nullptr, false);
  try {
    LockRecord l;
    l.kind = j.at("k").get<int>() == 1 ? LockKind::kElection : LockKind::kLock;
    l.name = j.at("n").get<std::string>();
    l.limit = j.at("l").get<std::uint32_t>();
    l.modify_index = j.at("m").get<Index>();
    l.delay_until_ms = j.at("d").get<std::int64_t>();
    for (const json& x : j.at("h")) {
      l.holders.push_back(Holder{x.at(0).get<std::string>(), x.at(1).get<Index>(),
                                 x.at(2).get<int>() == 1 ? LockMode::kShared : LockMode::kExclusive,
                                 x.at(3).get<std::string>()});
    }
    for (const json& x : j.at("w")) {
      l.waiters.push_back(Waiter{x.at(0).get<std::string>(),
                                 x.at(1).get<int>() == 1 ? LockMode::kShared : LockMode::kExclusive,
                                 x.at(2).get<std::int64_t>(), x.at(3).get<std::string>(),
                                 x.at(4).get<Index>()});
    }
    return l;
  } catch (const json::exception& e) {
    return Status(ErrorCode::kCorruption, std::string("stored lock record: ") + e.what());
  }
}

void LockState::clear() {
  locks_.clear();
  sessions_.clear();
  timed_.clear();
  tombstones_.clear();
  active_ = 0;
  effects_ = LockEffects{};
}

void LockState::load_session(SessionRecord s) {
  s.held.clear();
  s.waiting.clear();
  const std::string id = s.id;
  sessions_.erase(id);
  sessions_.emplace(id, std::move(s));
}

void LockState::load_lock(LockRecord l) {
  std::string key = lock_key(l.kind, l.name);
  l.counted = false;
  locks_[key] = std::move(l);
}

void LockState::finish_load() {
  std::vector<std::pair<Index, std::string>> free;
  for (auto& [key, l] : locks_) {
    for (const Holder& h : l.holders)
      sessions_.at(h.session).held.insert(key);
    for (const Waiter& w : l.waiters)
      sessions_.at(w.session).waiting.insert(key);
    l.counted = l.active();
    if (l.counted) ++active_;
    if (!l.waiters.empty() || l.delay_until_ms != 0) timed_.insert(key);
    if (!l.active() && l.delay_until_ms == 0) free.emplace_back(l.modify_index, key);
  }
  std::sort(free.begin(), free.end());
  tombstones_.assign(free.begin(), free.end());
  effects_ = LockEffects{};
}

std::string LockState::check_invariants() const {
  std::size_t active = 0;
  for (const auto& [key, l] : locks_) {
    if (key != lock_key(l.kind, l.name)) return "lock stored under the wrong key " + key;
    std::size_t exclusive = 0;
    for (const Holder& h : l.holders) {
      if (h.mode == LockMode::kExclusive) ++exclusive;
      const SessionRecord* s = sessions_.find(h.session);
      if (s == nullptr) return key + " held by ended session " + h.session;
      if (s->held.count(key) == 0) return key + " holder index missing " + h.session;
    }
    if (l.holders.size() > l.limit && exclusive > 0)
      return key + " has " + std::to_string(l.holders.size()) + " holders over limit " +
             std::to_string(l.limit);
    if (exclusive > 0 && exclusive != l.holders.size())
      return key + " mixes shared and exclusive holders";
    if (l.limit > 1 && exclusive != l.holders.size()) return key + " semaphore with shared holder";
    if (l.kind == LockKind::kElection && (l.holders.size() > 1 || l.limit != 1))
      return key + " election with more than one leader";
    std::set<std::string> seen;
    for (const Holder& h : l.holders)
      if (!seen.insert(h.session).second) return key + " holds twice for " + h.session;
    for (const Waiter& w : l.waiters) {
      if (!seen.insert(w.session).second) return key + " holds and waits for " + w.session;
      const SessionRecord* s = sessions_.find(w.session);
      if (s == nullptr) return key + " waited on by ended session " + w.session;
      if (s->waiting.count(key) == 0) return key + " waiter index missing " + w.session;
    }
    if (l.active()) ++active;
    if (l.counted != l.active()) return key + " active count out of date";
  }
  if (active != active_) return "active lock count out of date";
  for (const auto& [id, s] : sessions_) {
    for (const std::string& key : s.held) {
      const LockRecord* l = find_lock(key);
      if (l == nullptr || l->holder(id) == nullptr) return "session " + id + " lists " + key;
    }
    for (const std::string& key : s.waiting) {
      const LockRecord* l = find_lock(key);
      if (l == nullptr || l->waiter(id) == nullptr) return "session " + id + " waits " + key;
    }
  }
  return "";
}

}  // namespace raftlock::service
