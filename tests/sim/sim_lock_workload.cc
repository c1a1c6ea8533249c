#include "tests/sim/sim_lock_workload.h"

#include <nlohmann/json.hpp>

#include "service/command.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"

namespace raftlock::sim {

using nlohmann::json;
using raft::NodeId;

namespace {

// Answers later than this are lost to the client ("504": outcome unknown).
inline constexpr TimeMs kRequestTimeoutMs = 300;
// A leader re-proposes an expiry it has not seen applied after this long.
inline constexpr TimeMs kReexpireMs = 150;
inline constexpr TimeMs kSweepEveryMs = 50;

struct LockName {
  const char* kind;
  const char* name;
  std::int64_t limit;
  bool rw;  // shared or exclusive
};
constexpr LockName kLocks[] = {
    {"lock", "a", 1, false},    // a mutex
    {"lock", "rw", 1, true},    // a read-write lock
    {"lock", "sem", 2, false},  // a semaphore
    {"election", "lead", 1, false},
};

std::string key_of(const std::string& kind, const std::string& name) {
  return (kind == "election" ? "e/" : "l/") + name;
}

}  // namespace

void LockWorkload::start(Cluster& c) {
  started_ = true;
  const int n = static_cast<int>(c.rng().between(3, 6));
  for (int i = 0; i < n; ++i) {
    Client cl;
    cl.id = i + 1;
    clients_.push_back(cl);
  }
}

void LockWorkload::request(Cluster& c, Client& cl, const std::string& op, json args,
                           const std::string& kind, const std::string& name, bool main, NodeId at) {
  if (at == raft::kNoNode) {
    const std::vector<NodeId> up = c.up_nodes();
    if (up.empty()) return;
    at = c.rng().pick(up);
  }
  SimNode* n = c.node(at);
  if (!n || !n->up()) return;
  const std::string req = cat("c", cl.id, "-", c.next_id());
  args["now"] = static_cast<std::int64_t>(c.now());
  const TimeMs deadline = c.now() + static_cast<TimeMs>(args.value("wait_ms", std::int64_t{0}));
  const raft::Bytes data = service::encode_command(op, req, std::move(args));
  const std::uint64_t incarnation = n->incarnation();
  if (!c.propose(at, data)) {  // refused at once (no leader): nothing was proposed
    ++stats_.refused;
    return;
  }
  ++stats_.requests;
  pending_[req] =
      Pending{cl.id, at, incarnation, c.now(), op, kind, name, cl.session, main, deadline};
  if (main) cl.busy = true;
}

void LockWorkload::act(Cluster& c) {
  if (!started_) start(c);
  // Two actions of clients with no request out.
  for (int k = 0; k < 2; ++k) {
    std::vector<std::size_t> free;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (!clients_[i].busy) free.push_back(i);
    }
    if (free.empty()) return;
    client_action(c, clients_[c.rng().pick(free)]);
  }
}

void LockWorkload::end_session(Client& cl) {
  cl.phase = Phase::kNone;
  cl.session.clear();
  cl.held.clear();
  cl.waits.clear();
}

void LockWorkload::client_action(Cluster& c, Client& cl) {
  Rng& rng = c.rng();
  if (cl.busy) return;
  switch (cl.phase) {
    case Phase::kNone: {
      cl.session = cat("s", c.next_id());
      cl.ttl_ms = static_cast<std::int64_t>(rng.between(150, 600));
      const std::int64_t delay =
          rng.chance(300) ? static_cast<std::int64_t>(rng.between(20, 150)) : 0;
      cl.phase = Phase::kCreating;
      request(c, cl, "session.create",
              {{"id", cl.session},
               {"name", cat("client-", cl.id)},
               {"ttl_ms", cl.ttl_ms},
               {"lock_delay_ms", delay}},
              "", "");
      if (!cl.busy) cl.phase = Phase::kNone;
      return;
    }
    case Phase::kCreating:
      return;
    case Phase::kSilent:
      if (c.now() >= cl.silent_since + 4 * static_cast<TimeMs>(cl.ttl_ms)) end_session(cl);
      return;
    case Phase::kLive:
      break;
  }

  enum Kind { kTry, kWait, kRelease, kCancel, kProclaim, kClose, kSilent, kMismatch };
  static constexpr int kWeights[] = {30, 22, 26, 5, 5, 4, 3, 2};
  int total = 0;
  for (int w : kWeights)
    total += w;
  int r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  int kind = 0;
  while (r >= kWeights[kind])
    r -= kWeights[kind++];

  const LockName& l = kLocks[rng.below(std::size(kLocks))];
  switch (kind) {
    case kTry:
    case kWait:
    case kMismatch: {
      std::string mode = "exclusive";
      if (l.rw && rng.chance(600)) mode = "shared";
      if (c.lock_mutations().campaign_shared && std::string(l.kind) == "election") mode = "shared";
      std::int64_t limit = l.limit;
      // Another limit than the lock's (campaigns have none: elections keep 1).
      if (kind == kMismatch && std::string(l.kind) == "lock") limit += 1;
      const std::int64_t wait = kind == kTry ? 0 : static_cast<std::int64_t>(rng.between(20, 400));
      request(c, cl, "lock.acquire",
              {{"kind", l.kind},
               {"name", l.name},
               {"session", cl.session},
               {"mode", mode},
               {"limit", limit},
               {"wait_ms", wait},
               {"value", cat("v", cl.id, "-", c.next_id())}},
              l.kind, l.name);
      return;
    }
    case kRelease: {
      std::string k = l.kind, name = l.name;
      json args = {{"session", cl.session}};
      if (!cl.held.empty() && rng.chance(800)) {
        auto it = cl.held.begin();
        std::advance(it, static_cast<long>(rng.below(cl.held.size())));
        k = it->first.starts_with("e/") ? "election" : "lock";
        name = it->first.substr(2);
        const std::uint64_t t = rng.below(10);
        if (t < 7) args["fencing_token"] = it->second;
        if (t == 9) args["fencing_token"] = it->second + 1;  // not the current grant
      }
      args["kind"] = k;
      args["name"] = name;
      request(c, cl, "lock.release", std::move(args), k, name);
      return;
    }
    case kCancel: {
      std::string k = l.kind, name = l.name;
      NodeId at = raft::kNoNode;
      if (!cl.waits.empty()) {
        const auto it = cl.waits.begin();
        k = it->second.kind;
        name = it->second.name;
        at = it->second.at;
        cl.waits.erase(it);
      }
      request(c, cl, "lock.cancel",
              {{"kind", k}, {"name", name}, {"session", cl.session}, {"reason", "gone"}}, k, name,
              true, at);
      return;
    }
    case kProclaim:
      request(c, cl, "election.proclaim",
              {{"name", "lead"}, {"session", cl.session}, {"value", cat("p", c.next_id())}},
              "election", "lead");
      return;
    case kClose:
      request(c, cl, "session.close", {{"id", cl.session}}, "", "");
      return;
    case kSilent:
      c.trace(cat("locks: client ", cl.id, " stops keepaliving session ", cl.session));
      cl.phase = Phase::kSilent;
      cl.silent_since = c.now();
      return;
  }
}

void LockWorkload::on_applied(Cluster& c, SimNode& n, const raft::Entry& e, const LockOutcome& o) {
  (void)e;
  // Grants of waits held at this node (the node answers the waiting request).
  for (const service::LockEffects::Grant& g : o.grants) {
    for (Client& cl : clients_) {
      if (cl.session != g.session) continue;
      const auto it = cl.waits.find(g.key);
      if (it == cl.waits.end() || it->second.at != n.id() ||
          it->second.incarnation != n.incarnation()) {
        continue;
      }
      cl.held[g.key] = g.token;
      cl.waits.erase(it);
    }
  }
  const auto it = pending_.find(o.req);
  if (it == pending_.end()) return;
  const Pending p = it->second;
  if (p.at != n.id() || p.incarnation != n.incarnation()) return;
  pending_.erase(it);
  for (Client& cl : clients_) {
    if (cl.id == p.client) {
      if (p.main) cl.busy = false;
      if (p.sent + kRequestTimeoutMs < c.now()) return;  // the client gave up on it
      on_result(c, cl, p, o);
      ++stats_.answered;
    }
  }
}

void LockWorkload::on_result(Cluster& c, Client& cl, const Pending& p, const LockOutcome& o) {
  if (cl.session != p.session) return;  // about a session the client has left
  const json r = json::parse(o.result);
  const json& body = r.at("body");
  const std::string code = r.at("error_code").get<std::string>();
  if (p.op == "session.create") {
    if (o.ok && cl.phase == Phase::kCreating) {
      cl.phase = Phase::kLive;
      cl.last_keepalive = 0;  // keepalive at once
      ++stats_.sessions_created;
    }
    return;
  }
  if (code == "session_not_found") {
    c.trace(cat("locks: client ", cl.id, " learns session ", cl.session, " ended"));
    end_session(cl);
    return;
  }
  const std::string key = key_of(p.kind, p.name);
  if (p.op == "session.close") {
    if (o.ok) end_session(cl);
  } else if (p.op == "lock.acquire" || p.op == "lock.cancel") {
    if (o.ok && body.contains("fencing_token")) {
      cl.held[key] = body["fencing_token"].get<raft::Index>();
    } else if (o.ok && body.contains("term")) {
      cl.held[key] = body["term"].get<raft::Index>();
    } else if (o.ok && body.value("queued", false)) {
      cl.waits[key] = Wait{p.at, p.incarnation, p.deadline, p.kind, p.name};
    } else if (p.op == "lock.cancel") {
      cl.waits.erase(key);
    }
  } else if (p.op == "lock.release") {
    if (o.ok || code == "not_holder") cl.held.erase(key);
  }
}

LockWorkload::Duty& LockWorkload::duty_of(SimNode& n, raft::Term term) {
  Duty& d = duties_[n.id()];
  if (d.incarnation != n.incarnation() || d.term != term) {
    d = Duty{};
    d.incarnation = n.incarnation();
    d.term = term;
  }
  return d;
}

void LockWorkload::duties(Cluster& c) {
  if (!started_) start(c);
  const TimeMs now = c.now();
  // Deferred proposals of the leader duty: proposed wherever their node now stands.
  std::vector<Deferred> later;
  for (Deferred& d : deferred_) {
    if (d.at > now) {
      later.push_back(std::move(d));
      continue;
    }
    SimNode* n = c.node(d.node);
    if (n && n->up() && n->incarnation() == d.incarnation) c.propose(d.node, d.data);
  }
  deferred_ = std::move(later);
  // Requests nobody answered in time.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.sent + kRequestTimeoutMs < now) {
      for (Client& cl : clients_) {
        if (cl.id != it->second.client || !it->second.main) continue;
        cl.busy = false;
        if (it->second.op == "session.create" && cl.phase == Phase::kCreating) {
          end_session(cl);  // maybe created: its keepalives never start, so it expires
        }
      }
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  // Keepalives to the current leader; waits past their deadline.
  const std::optional<NodeId> leader = c.leader();
  for (Client& cl : clients_) {
    if (cl.phase == Phase::kLive && now >= cl.last_keepalive + static_cast<TimeMs>(cl.ttl_ms) / 3) {
      cl.last_keepalive = now;
      if (leader && !c.network().drop(c.rng())) {
        SimNode* n = c.node(*leader);
        duty_of(*n, n->core().status().term).heard[cl.session] = now;
        ++stats_.keepalives;
      }
    }
    for (auto it = cl.waits.begin(); it != cl.waits.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      // The node holding the wait cancels it, unless it died (the sweep does).
      SimNode* n = c.node(it->second.at);
      if (n && n->up() && n->incarnation() == it->second.incarnation && !c.rng().chance(200)) {
        request(c, cl, "lock.cancel",
                {{"kind", it->second.kind},
                 {"name", it->second.name},
                 {"session", cl.session},
                 {"reason", "timeout"}},
                it->second.kind, it->second.name, /*main=*/false, it->second.at);
      }
      it = cl.waits.erase(it);
    }
  }
  for (NodeId id : c.up_nodes()) {
    SimNode* n = c.node(id);
    if (n->core().status().role == raft::Role::kLeader) leader_duty(c, *n);
  }
}

void LockWorkload::leader_duty(Cluster& c, SimNode& n) {
  const TimeMs now = c.now();
  const raft::Term term = n.core().status().term;
  Duty& d = duty_of(n, term);
  const service::LockState& state = n.sm().locks().state();
  if (!d.ready) {
    const auto& entries = n.sm().entries();
    if (entries.empty() || entries.back().term != term) return;
    d.ready = true;  // the term's first entry is applied: every session gets a full TTL
    for (const auto& [id, s] : state.sessions())
      d.heard[id] = now;
  }
  json ids = json::array();
  for (const auto& [id, s] : state.sessions()) {
    const auto [h, fresh] = d.heard.emplace(id, now);  // first seen: counts from now
    if (fresh || h->second + static_cast<TimeMs>(s.ttl_ms) >= now) continue;
    const auto p = d.proposed.find(id);
    if (p != d.proposed.end() && p->second + kReexpireMs > now) continue;
    d.proposed[id] = now;
    ids.push_back(id);
  }
  if (!ids.empty()) {
    const raft::Bytes data = service::encode_command(
        "session.expire", cat("n", n.id(), "-", c.next_id()),
        {{"ids", ids}, {"term", term}, {"now", static_cast<std::int64_t>(now)}});
    ++stats_.expiry_proposals;
    c.trace(cat("locks: leader ", n.id(), " of term ", term, " expires ", ids.dump()));
    if (c.rng().chance(400)) {
      c.propose(n.id(), data);
    } else {
      deferred_.push_back(Deferred{now + c.rng().between(1, 150), n.id(), n.incarnation(), data});
    }
  }
  if (now >= d.last_sweep + kSweepEveryMs && state.sweep_due(static_cast<std::int64_t>(now))) {
    d.last_sweep = now;
    ++stats_.sweep_proposals;
    c.propose(n.id(), service::encode_command("lock.sweep", cat("n", n.id(), "-", c.next_id()),
                                              {{"now", static_cast<std::int64_t>(now)}}));
  }
}

}  // namespace raftlock::sim
