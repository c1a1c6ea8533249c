// raftlockctl status: the Raft status of the node that answers, or with
// --cluster of every member (read from the member list, each asked at its
// own HTTP address), one row per member, so a node that is down or behind
// shows at a glance. A member that does not answer is listed as
// "unreachable" and makes the command exit with 77 (connection error).
#include <algorithm>
#include <cstdio>
#include <map>

#include "service/ctl_commands.h"
#include "service/ctl_exit.h"
#include "service/ctl_status.h"
#include "service/ctl_table.h"

namespace raftlock::service {

using nlohmann::json;

namespace {

json field(const json& o, const char* key) {
  return o.is_object() && o.contains(key) ? o[key] : json(nullptr);
}

// GET on the failover client; prints the problem and returns false on failure.
bool get(CtlContext& ctx, const std::string& target, json* out) {
  auto r = ctx.client.call_sync(api::ctl_request("GET", target, std::nullopt, ctx.timeout));
  if (!r) {
    std::fprintf(stderr, "raftlockctl: %s\n", r.status().message().c_str());
    return false;
  }
  if (r->status != 200) {
    std::fprintf(stderr, "raftlockctl: GET %s: %d %s: %s\n", target.c_str(), r->status,
                 r->error_code().c_str(), r->error_message().c_str());
    return false;
  }
  *out = std::move(r->body);
  return true;
}

std::vector<std::string> status_cells(const json& b) {
  return {cell(field(b, "role")),          cell(field(b, "term")),
          cell(field(b, "leader")),        cell(field(b, "commit_index")),
          cell(field(b, "applied_index")), cell(field(b, "last_log_index")),
          cell(field(b, "snapshot_index"))};
}

int one_node(CtlContext& ctx) {
  json b;
  if (!get(ctx, "/v1/cluster/status", &b)) return kExitRefused;
  if (ctx.json) {
    std::printf("%s\n", b.dump(2).c_str());
    return kExitOk;
  }
  Table t({"ID", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST_LOG", "SNAPSHOT", "VOTERS",
           "LEARNERS"});
  std::vector<std::string> row = {cell(field(b, "id"))};
  for (std::string& c : status_cells(b))
    row.push_back(std::move(c));
  row.push_back(cell(field(b, "voters")));
  row.push_back(cell(field(b, "learners")));
  t.add(std::move(row));
  t.print();
  const json peers = field(b, "peers");
  if (peers.is_array() && !peers.empty()) {
    Table p({"PEER", "MATCH", "NEXT", "LAG", "VOTER", "STATE", "ACTIVE"});
    for (const json& e : peers) {
      p.add({cell(field(e, "id")), cell(field(e, "match_index")), cell(field(e, "next_index")),
             cell(field(e, "lag")), cell(field(e, "voter")), cell(field(e, "state")),
             cell(field(e, "recent_active"))});
    }
    std::printf("\n");
    p.print();
  }
  return kExitOk;
}

// One attempt at one node's status: the body, or the reason it failed.
Result<json> status_of(CtlContext& ctx, const std::string& http) {
  api::CtlClient one(ctx.client.io(), {http});
  // One attempt per node: a node that is down must not hold up the rest.
  api::CtlRequest req = api::ctl_request("GET", "/v1/cluster/status", std::nullopt,
                                         std::min(ctx.timeout, std::chrono::milliseconds(3000)));
  req.attempt_timeout = std::min(ctx.timeout, std::chrono::milliseconds(2000));
  auto r = one.call_sync(std::move(req));
  if (!r) return r.status();
  if (r->status != 200) {
    return Status(ErrorCode::kUnavailable, std::to_string(r->status) + " " + r->error_code());
  }
  return std::move(r->body);
}

int every_member(CtlContext& ctx) {
  json list;
  if (!get(ctx, "/v1/cluster/members", &list)) return kExitRefused;
  // A member whose HTTP address the cluster has not learned yet (just after
  // it started) is found among the endpoints given, by its id.
  std::map<std::string, std::pair<std::string, json>> by_id;
  for (const json& m : field(list, "members")) {
    const json http = field(m, "http");
    if (http.is_string() && !http.get<std::string>().empty()) continue;
    for (const std::string& ep : ctx.client.endpoints()) {
      if (auto st = status_of(ctx, ep)) {
        const std::string id = cell(field(*st, "id"));
        by_id[id] = {ep, std::move(st).value()};
      }
    }
    break;
  }
  json out = json::array();
  bool all_answered = true;
  Table t({"ID", "HTTP", "VOTER", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST_LOG",
           "SNAPSHOT"});
  for (const json& m : field(list, "members")) {
    json http = field(m, "http");
    json entry = {{"id", field(m, "id")}, {"http", http}, {"voter", field(m, "voter")}};
    std::string problem;
    if (!http.is_string() || http.get<std::string>().empty()) {
      auto it = by_id.find(cell(entry["id"]));
      if (it == by_id.end()) {
        problem = "no HTTP address known, and not among the endpoints given";
      } else {
        http = entry["http"] = it->second.first;
        entry["status"] = it->second.second;
      }
    } else if (auto st = status_of(ctx, http.get<std::string>())) {
      entry["status"] = std::move(st).value();
    } else {
      problem = st.status().message();
    }
    std::vector<std::string> row = {cell(entry["id"]), cell(http), cell(entry["voter"])};
    if (problem.empty()) {
      for (std::string& c : status_cells(entry["status"]))
        row.push_back(std::move(c));
    } else {
      all_answered = false;
      entry["error"] = problem;
      row.push_back("unreachable");
      std::fprintf(stderr, "raftlockctl: member %s (%s): %s\n", cell(entry["id"]).c_str(),
                   cell(http).c_str(), problem.c_str());
    }
    t.add(std::move(row));
    out.push_back(std::move(entry));
  }
  if (ctx.json) {
    std::printf("%s\n", json{{"members", out}}.dump(2).c_str());
  } else {
    t.print();
  }
  return all_answered ? kExitOk : kExitUsage;
}

}  // namespace

int ctl_status(CtlContext& ctx, bool cluster) {
  return cluster ? every_member(ctx) : one_node(ctx);
}

}  // namespace raftlock::service
