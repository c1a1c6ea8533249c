// raftlockctl's read and administration commands: leader, members,
// transfer-leadership, locks, elections, sessions (status: ctl_status.cc). Each sends one request
// (with endpoint failover) and prints the answer as an aligned table, or as
// the API's JSON with --json.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "service/ctl_commands.h"
#include "service/ctl_exit.h"
#include "service/ctl_status.h"
#include "service/ctl_table.h"

namespace raftlock::service {

namespace po = boost::program_options;
using nlohmann::json;

namespace {
constexpr std::chrono::milliseconds kRetryPause{200};
}  // namespace

int ctl_send(CtlContext& ctx, const std::string& method, const std::string& target,
             std::optional<json> body, json* out) {
  const auto deadline = std::chrono::steady_clock::now() + ctx.timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto r = ctx.client.call_sync(
        api::ctl_request(method, target, body, std::max(left, std::chrono::milliseconds(1))));
    if (!r) {
      std::fprintf(stderr, "raftlockctl: %s\n", r.status().message().c_str());
      return kExitUsage;
    }
    // A refusal that says "later" (a membership change while another one is
    // still uncommitted) is asked again until --timeout-ms.
    if (r->status == 409 && r->retry_after &&
        std::chrono::steady_clock::now() + kRetryPause < deadline) {
      std::this_thread::sleep_for(kRetryPause);
      continue;
    }
    if (r->status < 200 || r->status >= 300) {
      if (ctx.json && !r->body.is_null()) std::printf("%s\n", r->body.dump(2).c_str());
      std::fprintf(stderr, "raftlockctl: %s %s: %d %s: %s\n", method.c_str(), target.c_str(),
                   r->status, r->error_code().c_str(), r->error_message().c_str());
      return kExitRefused;
    }
    *out = std::move(r->body);
    return -1;
  }
}

namespace {

const std::set<std::string> kAdminCommands = {
    "leader", "status", "members", "transfer-leadership", "locks", "elections", "sessions"};

// --json: print the answer as it came; returns true when it did.
bool print_json(const CtlContext& ctx, const json& body) {
  if (!ctx.json) return false;
  std::printf("%s\n", body.dump(2).c_str());
  return true;
}

void note_truncated(const json& body) {
  if (field(body, "truncated") == json(true)) std::fprintf(stderr, "(list truncated)\n");
}

bool usage(const char* text) {
  std::fprintf(stderr, "usage: raftlockctl %s\n", text);
  return false;
}

int leader(CtlContext& ctx) {
  json b;
  if (int rc = ctl_send(ctx, "GET", "/v1/cluster/leader", std::nullopt, &b); rc >= 0) return rc;
  if (print_json(ctx, b)) return kExitOk;
  Table t({"ID", "HTTP", "TERM"});
  t.add({cell(field(b, "id")), cell(field(b, "http")), cell(field(b, "term"))});
  t.print();
  return kExitOk;
}

int members(CtlContext& ctx, const Words& ops) {
  json b;
  const std::string sub = ops.empty() ? "list" : ops[0];
  if (sub == "list" && ops.size() <= 1) {
    if (int rc = ctl_send(ctx, "GET", "/v1/cluster/members", std::nullopt, &b); rc >= 0) return rc;
    if (print_json(ctx, b)) return kExitOk;
    Table t({"ID", "PEER", "HTTP", "VOTER"});
    for (const json& m : field(b, "members")) {
      t.add({cell(field(m, "id")), cell(field(m, "peer")), cell(field(m, "http")),
             cell(field(m, "voter"))});
    }
    t.print();
    return kExitOk;
  }
  if (sub == "add" && ops.size() == 4) {
    std::int64_t id = 0;
    try {
      id = std::stoll(ops[1]);
    } catch (const std::exception&) {
      usage("members add ID PEER_HOST:PORT HTTP_HOST:PORT");
      return kExitUsage;
    }
    json body = {{"id", id}, {"peer", ops[2]}, {"http", ops[3]}};
    if (int rc = ctl_send(ctx, "POST", "/v1/cluster/members", body, &b); rc >= 0) return rc;
    if (print_json(ctx, b)) return kExitOk;
    std::printf("added member %s (peer %s, http %s) as a learner\n", cell(field(b, "id")).c_str(),
                cell(field(b, "peer")).c_str(), cell(field(b, "http")).c_str());
    return kExitOk;
  }
  if (sub == "remove" && ops.size() == 2) {
    if (int rc = ctl_send(ctx, "DELETE", "/v1/cluster/members/" + ops[1], std::nullopt, &b);
        rc >= 0)
      return rc;
    if (print_json(ctx, b)) return kExitOk;
    std::printf("removed member %s\n", cell(field(b, "removed")).c_str());
    return kExitOk;
  }
  usage("members [list | add ID PEER_HOST:PORT HTTP_HOST:PORT | remove ID]");
  return kExitUsage;
}

int transfer(CtlContext& ctx, const Words& ops) {
  json body = json::object();
  if (ops.size() > 1) {
    usage("transfer-leadership [ID]");
    return kExitUsage;
  }
  if (ops.size() == 1) {
    try {
      body["to"] = std::stoll(ops[0]);
    } catch (const std::exception&) {
      usage("transfer-leadership [ID]");
      return kExitUsage;
    }
  }
  json b;
  if (int rc = ctl_send(ctx, "POST", "/v1/cluster/transfer-leadership", body, &b); rc >= 0)
    return rc;
  if (print_json(ctx, b)) return kExitOk;
  std::printf("leader: %s\n", cell(field(b, "leader")).c_str());
  return kExitOk;
}

int locks(CtlContext& ctx, const std::string& prefix) {
  json b;
  const std::string target = prefix.empty() ? "/v1/locks" : "/v1/locks?prefix=" + prefix;
  if (int rc = ctl_send(ctx, "GET", target, std::nullopt, &b); rc >= 0) return rc;
  if (print_json(ctx, b)) return kExitOk;
  Table t({"LOCK", "LIMIT", "HOLDERS", "TOKENS", "MODES", "WAITERS"});
  for (const json& l : field(b, "locks")) {
    json sessions = json::array(), tokens = json::array(), modes = json::array();
    for (const json& h : field(l, "holders")) {
      sessions.push_back(field(h, "session"));
      tokens.push_back(field(h, "fencing_token"));
      modes.push_back(field(h, "mode"));
    }
    const json waiters = field(l, "waiters");
    t.add({cell(field(l, "lock")), cell(field(l, "limit")), cell(sessions), cell(tokens),
           cell(modes), std::to_string(waiters.is_array() ? waiters.size() : 0)});
  }
  t.print();
  note_truncated(b);
  return kExitOk;
}

int elections(CtlContext& ctx) {
  json b;
  if (int rc = ctl_send(ctx, "GET", "/v1/elections", std::nullopt, &b); rc >= 0) return rc;
  if (print_json(ctx, b)) return kExitOk;
  Table t({"ELECTION", "LEADER", "VALUE", "TERM", "CANDIDATES"});
  for (const json& e : field(b, "elections")) {
    const json l = field(e, "leader");
    t.add({cell(field(e, "election")), cell(field(l, "session")), cell(field(l, "value")),
           cell(field(l, "term")), cell(field(e, "candidates"))});
  }
  t.print();
  note_truncated(b);
  return kExitOk;
}

int sessions(CtlContext& ctx) {
  json b;
  if (int rc = ctl_send(ctx, "GET", "/v1/sessions", std::nullopt, &b); rc >= 0) return rc;
  if (print_json(ctx, b)) return kExitOk;
  Table t({"SESSION", "NAME", "TTL_MS", "HELD", "WAITING", "LEADING"});
  for (const json& s : field(b, "sessions")) {
    t.add({cell(field(s, "session")), cell(field(s, "name")), cell(field(s, "ttl_ms")),
           cell(field(s, "held")), cell(field(s, "waiting")), cell(field(s, "leading"))});
  }
  t.print();
  return kExitOk;
}

}  // namespace

bool is_admin_command(const std::string& name) {
  return kAdminCommands.count(name) > 0;
}

int ctl_admin(CtlContext& ctx, const std::string& name, const Words& args) {
  po::options_description desc(name + " options");
  std::string prefix;
  if (name == "locks") {
    desc.add_options()("prefix", po::value(&prefix), "only locks whose name starts with this");
  }
  if (name == "status") {
    desc.add_options()("cluster", po::bool_switch(), "every member's status, one row each");
  }
  po::variables_map vm;
  if (!parse_command_args(name, desc, args, &vm)) return kExitUsage;
  const Words ops = operands(vm);
  if (name == "members") return members(ctx, ops);
  if (name == "transfer-leadership") return transfer(ctx, ops);
  if (!ops.empty()) {
    std::fprintf(stderr, "raftlockctl %s: unexpected operand %s\n", name.c_str(), ops[0].c_str());
    return kExitUsage;
  }
  if (name == "leader") return leader(ctx);
  if (name == "status")
    return ctl_status(ctx, vm.count("cluster") != 0 && vm["cluster"].as<bool>());
  if (name == "locks") return locks(ctx, prefix);
  if (name == "elections") return elections(ctx);
  return sessions(ctx);
}

}  // namespace raftlock::service
