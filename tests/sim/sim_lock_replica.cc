#include "tests/sim/sim_lock_replica.h"

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>

#include "service/command.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using nlohmann::json;
using raft::Index;
using service::LockMode;
using service::LockState;

std::uint64_t fnv1a(const std::string& s, std::uint64_t h) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {

json session_row(const service::SessionRecord& s) {
  return json::array({s.id, s.name, s.ttl_ms, s.lock_delay_ms, s.create_index, s.modify_index});
}

std::string join(const std::set<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) {
    out += k;
    out += ',';
  }
  return out;
}

}  // namespace

void LockReplica::violate(const std::string& kind, const std::string& detail) {
  if (!violation_.empty()) return;
  violation_kind_ = kind;
  violation_ = detail;
}

std::uint64_t LockReplica::state_hash() const {
  std::uint64_t h = fnv1a("locks");
  for (const auto& [key, l] : state_.locks()) {
    h = fnv1a(key, h);
    h = fnv1a(LockState::encode_lock(l), h);
  }
  for (const auto& [id, s] : state_.sessions()) {
    h = fnv1a(session_row(s).dump(), h);
    h = fnv1a(join(s.held) + "|" + join(s.waiting), h);
  }
  return fnv1a(cat(state_.active_locks(), "/", state_.waiter_count()), h);
}

LockOutcome LockReplica::apply(const raft::Entry& e) {
  LockOutcome o;
  if (e.type != raft::EntryType::kNormal || !service::looks_like_command(e.data)) return o;
  Result<service::Command> c = service::decode_command(e.data);
  if (!c) return o;
  if (mutations_.replica_skips_entry && node_ == 2 && e.index % 8 == 0) return o;
  o.command = true;
  o.op = c->op;
  o.req = c->req;

  std::vector<std::string> before;
  for (const auto& [id, s] : state_.sessions())
    before.push_back(id);
  raft::Term term = e.term;
  if (mutations_.expiry_ignores_term && c->op == "session.expire") {
    term = static_cast<raft::Term>(c->term.value_or(0));
  }
  const service::CommandResult r = state_.apply(e.index, term, *c);
  service::LockEffects fx = state_.take_effects();
  state_.prune(e.index);
  state_.take_effects();

  o.ok = r.ok;
  o.result = json{
      {"index", r.index},
      {"req", r.req},
      {"ok", r.ok},
      {"error_code", r.error_code},
      {"error_message", r.error_message},
      {"body",
       r.body}}.dump();
  o.result_hash = fnv1a(o.result);
  o.grants = std::move(fx.grants);
  for (const std::string& id : before) {
    if (state_.find_session(id) == nullptr) o.ended.push_back(id);
  }
  o.stale_expiry =
      c->op == "session.expire" && c->term.value_or(-1) != static_cast<std::int64_t>(e.term);
  check_after(e, *c, o);
  o.state_hash = fnv1a(o.result, state_hash());
  return o;
}

void LockReplica::check_after(const raft::Entry& e, const service::Command& c, LockOutcome& o) {
  const std::string where =
      cat("node ", node_, " at (", e.index, ", t", e.term, ") ", c.op, " ", c.req, ": ");
  if (const std::string bad = state_.check_invariants(); !bad.empty()) {
    violate("lock-state-invariants", where + bad);
  }
  for (const auto& [key, l] : state_.locks()) {
    std::size_t exclusive = 0, shared = 0;
    for (const service::Holder& h : l.holders)
      (h.mode == LockMode::kExclusive ? exclusive : shared)++;
    const bool election = l.kind == service::LockKind::kElection;
    if (exclusive > l.limit || (exclusive > 0 && shared > 0) || (shared > 0 && l.limit != 1) ||
        (election && l.holders.size() > 1)) {
      violate("lock-exclusion", cat(where, key, " has ", exclusive, " exclusive and ", shared,
                                    " shared holders with limit ", l.limit));
    }
  }
  // Fencing: grants of one entry share its index; each exceeds every earlier grant.
  for (const service::LockEffects::Grant& g : o.grants) {
    if (g.token != e.index) {
      violate("fencing", cat(where, "grants ", g.key, " to ", g.session, " with token ", g.token,
                             " (want the entry's index)"));
    }
    const auto it = max_token_.find(g.key);
    if (it != max_token_.end() && g.token <= it->second) {
      violate("fencing", cat(where, "grants ", g.key, " to ", g.session, " with token ", g.token,
                             " but an earlier grant had token ", it->second));
    }
  }
  for (const service::LockEffects::Grant& g : o.grants) {
    Index& m = max_token_[g.key];
    m = std::max(m, g.token);
  }
  // Sessions end only through an entry that says so.
  if (o.stale_expiry && !o.ended.empty()) {
    violate("expiry-term-guard",
            cat(where, "names term ", c.term.value_or(-1), " but ended session ", o.ended.front(),
                " (", o.ended.size(), " in all)"));
  }
  json body;
  if (!o.ended.empty()) {
    const json r = json::parse(o.result);
    body = r.at("body");
  }
  for (const std::string& id : o.ended) {
    bool explained = false;
    if (c.op == "session.close") {
      explained = o.ok && c.id == id && body.value("closed", false);
    } else if (c.op == "session.expire" && !o.stale_expiry) {
      const auto it = body.find("expired");
      explained = it != body.end() && it->is_array() &&
                  std::find(it->begin(), it->end(), json(id)) != it->end();
    }
    if (!explained) {
      violate("session-end", cat(where, "session ", id,
                                 " ended without a close or an expiry of it"
                                 " in this entry's result: ",
                                 o.result));
    }
  }
}

std::string LockReplica::image() const {
  if (state_.locks().empty() && state_.sessions().empty()) return "";
  json sessions = json::array(), locks = json::array();
  for (const auto& [id, s] : state_.sessions())
    sessions.push_back(session_row(s));
  for (const auto& [key, l] : state_.locks())
    locks.push_back(LockState::encode_lock(l));
  return json{{"sessions", sessions}, {"locks", locks}}.dump();
}

Status LockReplica::load_and_compare(const std::string& image) {
  const std::uint64_t reapplied = state_hash();
  service::LockState loaded;
  if (!image.empty()) {
    const json j = json::parse(image, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return Status(ErrorCode::kCorruption, "lock image is not a JSON object");
    }
    try {
      for (const json& row : j.at("sessions")) {
        service::SessionRecord s;
        s.id = row.at(0).get<std::string>();
        s.name = row.at(1).get<std::string>();
        s.ttl_ms = row.at(2).get<std::int64_t>();
        s.lock_delay_ms = row.at(3).get<std::int64_t>();
        s.create_index = row.at(4).get<Index>();
        s.modify_index = row.at(5).get<Index>();
        loaded.load_session(std::move(s));
      }
      for (const json& text : j.at("locks")) {
        Result<service::LockRecord> l = LockState::decode_lock(text.get<std::string>());
        if (!l) return l.status();
        loaded.load_lock(std::move(l).value());
      }
      loaded.finish_load();
    } catch (const std::exception& ex) {
      return Status(ErrorCode::kCorruption, std::string("lock image: ") + ex.what());
    }
  }
  std::swap(state_, loaded);
  if (const std::string bad = state_.check_invariants(); !bad.empty()) {
    return Status(ErrorCode::kCorruption, "loaded lock image breaks an invariant: " + bad);
  }
  if (state_hash() != reapplied) {
    return Status(ErrorCode::kCorruption,
                  "the lock image differs from the state the image's history rebuilds");
  }
  return Status::ok();
}

}  // namespace raftlock::sim
