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

std::vector<std::string> status_cells(const json& b) {
  return {cell(field(b, "role")),          cell(field(b, "term")),
          cell(field(b, "leader")),        cell(field(b, "commit_index")),
          cell(field(b, "applied_index")), cell(field(b, "last_log_index")),
          cell(field(b, "snapshot_index"))};
}

int one_node(CtlContext& ctx) {
  json b;
  if (int rc = ctl_send(ctx, "GET", "/v1/cluster/status", std::nullopt, &b); rc >= 0) return rc;
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
  if (int rc = ctl_send(ctx, "GET", "/v1/cluster/members", std::nullopt, &list); rc >= 0) {
    return rc;
  }
  // A member whose HTTP address the cluster has not learned yet (just after
  // it started) is found among the endpoints given, by its id.
  std::map<std::string, std::pair<std::string, json>> by_id;
  const json members = field(list, "members");
  const bool unknown_http = std::any_of(members.begin(), members.end(), [](const json& m) {
    const json http = field(m, "http");
    return !http.is_string() || http.get<std::string>().empty();
  });
  if (unknown_http) {
    for (const std::string& ep : ctx.client.endpoints()) {
      if (auto st = status_of(ctx, ep)) {
        const std::string id = cell(field(*st, "id"));
        by_id[id] = {ep, std::move(st).value()};
      }
    }
  }
  json out = json::array();
  bool all_answered = true;
  Table t({"ID", "HTTP", "VOTER", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST_LOG",
           "SNAPSHOT"});
  for (const json& m : members) {
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
