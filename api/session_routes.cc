// /v1/sessions (API.md, "Sessions").
#include <boost/beast/http/verb.hpp>

#include "api/api_context.h"
#include "api/body.h"
#include "api/json_reply.h"
#include "api/object_routes.h"

namespace raftlock::api {

using boost::beast::http::verb;
using nlohmann::json;

void with_read(ApiContext& ctx, RequestContext& rc, std::function<void(bool)> then, Reply reply) {
  auto it = rc.query.find("consistency");
  if (it != rc.query.end() && it->second == "stale") return then(true);
  if (it != rc.query.end() && it->second != "linearizable" && it->second != "default") {
    return reply(error_response(400, "invalid_argument",
                                "consistency must be 'stale' or 'linearizable'", json::object(),
                                rc.req.version()));
  }
  const unsigned v = rc.req.version();
  ctx.reads.linearizable(ctx.proposal_timeout, [then, reply, v](Status s) {
    if (s) return then(false);
    reply(status_error(s, v));
  });
}

void add_session_routes(Router& r, ApiContext& ctx) {
  r.add(verb::post, "/v1/sessions", "sessions_create", [&ctx](RequestContext& rc, Reply reply) {
    json body;
    ApiError err;
    std::int64_t ttl = 0, delay = 0;
    std::string name;
    if (!parse_body(rc.req, &body, &err) ||
        !get_int(body, "ttl_ms", 1000, 86400000, 10000, &ttl, &err) ||
        !get_int(body, "lock_delay_ms", 0, 60000, 0, &delay, &err) ||
        !get_string(body, "name", 200, std::string(), &name, &err)) {
      return reply(error_response(err, rc.req.version()));
    }
    service::Command c;
    c.op = "session.create";
    c.id = ctx.proposals.random_id();
    c.ttl_ms = ttl;
    c.lock_delay_ms = delay;
    c.name = std::move(name);
    ctx.proposals.propose(std::move(c), ctx.proposal_timeout,
                          on_result(reply, rc.req.version(), 201));
  });

  r.add(verb::post, "/v1/sessions/{id}/keepalive", "sessions_keepalive",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string id = rc.params["id"];
          const unsigned v = rc.req.version();
          if (!valid_session_id(id)) return reply(session_not_found(id, v));
          // Keepalives are kept by the leader only (not replicated).
          if (ctx.cluster.status().role != raft::Role::kLeader) {
            if (rc.req.count("X-Raftlock-Forwarded") != 0) {
              Response res =
                  error_response(503, "no_leader", "this node no longer leads", json::object(), v);
              res.set("Retry-After", "1");
              return reply(std::move(res));
            }
            return forward_to_leader(ctx, rc.req, reply);
          }
          const auto received = service::SessionKeeper::Clock::now();
          // The ReadIndex round proves this node still led after the keepalive
          // arrived, so no later leader's grace can end before received + ttl.
          ctx.reads.linearizable(ctx.proposal_timeout, [&ctx, id, v, received, reply](Status s) {
            if (!s) return reply(status_error(s, v));
            if (ctx.cluster.status().role != raft::Role::kLeader) {
              return reply(status_error(Status(ErrorCode::kNoLeader, "leadership moved"), v));
            }
            auto left = ctx.keeper.keepalive(id, received);
            if (!left) return reply(session_not_found(id, v));
            const service::SessionRecord* rec = ctx.sm.locks().find_session(id);
            reply(json_response(
                200, {{"session", id}, {"ttl_ms", rec->ttl_ms}, {"remaining_ms", *left}}, v));
          });
        });

  r.add(verb::get, "/v1/sessions", "sessions_list", [&ctx](RequestContext& rc, Reply reply) {
    const unsigned v = rc.req.version();
    with_read(
        ctx, rc,
        [&ctx, reply, v](bool stale) {
          json list = json::array();
          for (const auto& [id, s] : ctx.sm.locks().sessions())
            list.push_back(ctx.sm.locks().session_json(s));
          json out = {{"sessions", list}};
          if (stale) out["stale"] = true;
          reply(json_response(200, out, v));
        },
        reply);
  });

  r.add(verb::get, "/v1/sessions/{id}", "sessions_get", [&ctx](RequestContext& rc, Reply reply) {
    const std::string id = rc.params["id"];
    const unsigned v = rc.req.version();
    if (!valid_session_id(id)) return reply(session_not_found(id, v));
    blocking_read(
        ctx, rc, service::LockState::session_key(id),
        [&ctx, id, v](bool stale) {
          const service::SessionRecord* s = ctx.sm.locks().find_session(id);
          if (s == nullptr) return session_not_found(id, v);
          json out = ctx.sm.locks().session_json(*s);
          if (stale) out["stale"] = true;
          return json_response(200, out, v);
        },
        reply);
  });

  r.add(verb::delete_, "/v1/sessions/{id}", "sessions_close",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string id = rc.params["id"];
          const unsigned v = rc.req.version();
          if (!valid_session_id(id)) return reply(session_not_found(id, v));
          service::Command c;
          c.op = "session.close";
          c.id = id;
          ctx.proposals.propose(std::move(c), ctx.proposal_timeout, on_result(reply, v));
        });
}

}  // namespace raftlock::api
