// GET /ui (the live status page, docs/ui.md) and GET /v1/cluster/overview,
// the read-only aggregation it polls: every member's /v1/cluster/status,
// asked by the serving node so the page needs no cross-origin requests.
#include <boost/beast/http/verb.hpp>
#include <memory>

#include "api/api_context.h"
#include "api/http_client.h"
#include "api/json_reply.h"
#include "api/ui_page.h"

namespace raftlock::api {

using boost::beast::http::verb;
using nlohmann::json;

namespace {

// How long the overview waits for one member's status before calling it down.
constexpr std::chrono::milliseconds kMemberTimeout{500};

constexpr const char* kStatusFields[] = {"role",         "term",          "leader",
                                         "commit_index", "applied_index", "last_log_index"};

json local_status(const ApiContext& ctx) {
  const raft::CoreStatus st = ctx.cluster.status();
  return {{"role", raft::role_name(st.role)},
          {"term", st.term},
          {"leader", st.leader == raft::kNoNode ? json(nullptr) : json(st.leader)},
          {"commit_index", st.commit},
          {"applied_index", st.applied},
          {"last_log_index", st.last_index}};
}

struct Overview : std::enable_shared_from_this<Overview> {
  boost::asio::io_context* io = nullptr;
  Reply reply;
  unsigned version = 11;
  json head;     // the serving node's view: node, role, term, leader
  json members;  // one object per member, filled in as answers arrive
  std::size_t pending = 0;

  void mark_up(std::size_t i, const json& status) {
    json& m = members[i];
    m["up"] = true;
    for (const char* f : kStatusFields)
      m[f] = status.contains(f) ? status[f] : json(nullptr);
  }
  void mark_down(std::size_t i, const std::string& why) {
    members[i]["up"] = false;
    members[i]["error"] = why;
  }

  // GET path on addr; `then` gets the JSON object answered with 200, or the
  // reason there is none. Counts as pending until `then` has run.
  void ask(const std::string& addr, const char* path,
           std::function<void(const json*, const std::string&)> then) {
    ++pending;
    auto self = shared_from_this();
    async_http_request(
        *io, addr, Request{verb::get, path, 11}, kMemberTimeout,
        [self, then](Result<Response> res) {
          json body;
          if (!res) {
            then(nullptr, res.status().message());
          } else if (res.value().result_int() != 200 ||
                     !(body = json::parse(res.value().body(), nullptr, false)).is_object()) {
            then(nullptr, "status answered " + std::to_string(res.value().result_int()));
          } else {
            then(&body, "");
          }
          self->done_one();
        });
  }
  void ask_status(std::size_t i) {
    auto self = shared_from_this();
    ask(members[i]["http"].get<std::string>(), "/v1/cluster/status",
        [self, i](const json* body, const std::string& why) {
          if (body)
            self->mark_up(i, *body);
          else
            self->mark_down(i, why);
        });
  }
  // Members whose HTTP address this node has not learned (a follower learns
  // it only once it has spoken to that peer): take it from the leader's list.
  void ask_leader_for_addresses(const std::string& leader_http) {
    auto self = shared_from_this();
    ask(leader_http, "/v1/cluster/members", [self](const json* body, const std::string& why) {
      for (std::size_t i = 0; i < self->members.size(); ++i) {
        json& m = self->members[i];
        if (m["http"] != "") continue;
        if (body && body->contains("members") && (*body)["members"].is_array()) {
          for (const json& lm : (*body)["members"])
            if (lm.value("id", json()) == m["id"] && lm.value("http", "") != "")
              m["http"] = lm["http"];
        }
        if (m["http"] != "")
          self->ask_status(i);
        else
          self->mark_down(i, "HTTP address not known" + (why.empty() ? "" : ": " + why));
      }
    });
  }
  void done_one() {
    if (--pending != 0) return;
    // lag: how far each member's applied index trails the highest commit
    // index any member reported (a committed index, so a fair reference).
    std::uint64_t commit = 0;
    for (const json& m : members)
      if (m["up"] == true && m["commit_index"].is_number_unsigned())
        commit = std::max(commit, m["commit_index"].get<std::uint64_t>());
    for (json& m : members) {
      const bool known = m["up"] == true && m["applied_index"].is_number_unsigned();
      const std::uint64_t a = known ? m["applied_index"].get<std::uint64_t>() : 0;
      m["lag"] = known ? json(commit > a ? commit - a : 0) : json(nullptr);
    }
    json out = head;
    out["members"] = std::move(members);
    reply(json_response(200, out, version));
  }
};

}  // namespace

void add_ui_routes(Router& r, ApiContext& ctx) {
  r.add(verb::get, "/ui", "ui", [](RequestContext& rc, Reply reply) {
    Response res{boost::beast::http::status::ok, rc.req.version()};
    res.set(boost::beast::http::field::content_type, "text/html; charset=utf-8");
    res.set(boost::beast::http::field::cache_control, "no-store");
    res.body() = std::string(ui_page_html());
    res.prepare_payload();
    reply(std::move(res));
  });

  r.add(verb::get, "/v1/cluster/overview", "cluster_overview",
        [&ctx](RequestContext& rc, Reply reply) {
          auto ov = std::make_shared<Overview>();
          ov->io = &ctx.io;
          ov->reply = std::move(reply);
          ov->version = rc.req.version();
          const json self = local_status(ctx);
          const raft::NodeId self_id = ctx.cluster.status().id;
          ov->head = {{"node", self_id},
                      {"role", self["role"]},
                      {"term", self["term"]},
                      {"leader", self["leader"]}};
          ov->members = json::array();
          bool unknown = false;
          for (const auto& m : ctx.cluster.members()) {
            ov->members.push_back(
                {{"id", m.id}, {"peer", m.peer}, {"http", m.http}, {"voter", m.voter}});
            unknown |= m.id != self_id && m.http.empty();
          }
          ov->pending = 1;  // held until every request is sent: none can finish early
          for (std::size_t i = 0; i < ov->members.size(); ++i) {
            if (ov->members[i]["id"] == self_id)
              ov->mark_up(i, self);
            else if (ov->members[i]["http"] != "")
              ov->ask_status(i);
          }
          if (unknown) {
            const auto leader = ctx.cluster.leader();
            if (leader && leader->id != self_id && !leader->http.empty()) {
              ov->ask_leader_for_addresses(leader->http);
            } else {
              for (json& m : ov->members)
                if (m["http"] == "") {
                  m["up"] = false;
                  m["error"] = "HTTP address not known";
                }
            }
          }
          ov->done_one();
        });
}

}  // namespace raftlock::api
