// /v1/sessions (API.md, "Sessions").
#include <boost/beast/http/verb.hpp>

#include "api/api_context.h"
#include "api/body.h"
#include "api/json_reply.h"

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

namespace {

json session_json(const service::SessionRow& s) {
  return {{"session", s.id},
          {"name", s.name},
          {"ttl_ms", s.ttl_ms},
          {"lock_delay_ms", s.lock_delay_ms},
          {"held", json::array()},
          {"waiting", json::array()},
          {"modify_index", s.modify_index}};
}

bool valid_session_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

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
    const unsigned v = rc.req.version();
    json args = {{"id", ctx.proposals.random_id()},
                 {"ttl_ms", ttl},
                 {"lock_delay_ms", delay},
                 {"name", name}};
    ctx.proposals.propose("session.create", std::move(args), ctx.proposal_timeout,
                          [reply, v](const service::CommandResult& res) {
                            if (!res.ok) return reply(command_error(res, v));
                            reply(json_response(201, res.body, v));
                          });
  });
  r.add(verb::get, "/v1/sessions", "sessions_list", [&ctx](RequestContext& rc, Reply reply) {
    const unsigned v = rc.req.version();
    with_read(
        ctx, rc,
        [&ctx, reply, v](bool stale) {
          json list = json::array();
          for (const auto& s : ctx.sm.sessions())
            list.push_back(session_json(s));
          json out = {{"sessions", list}};
          if (stale) out["stale"] = true;
          reply(json_response(200, out, v));
        },
        reply);
  });
  r.add(verb::get, "/v1/sessions/{id}", "sessions_get", [&ctx](RequestContext& rc, Reply reply) {
    const std::string id = rc.params["id"];
    const unsigned v = rc.req.version();
    if (!valid_session_id(id)) {
      return reply(error_response(404, "session_not_found", "session " + id + " not found",
                                  json::object(), v));
    }
    with_read(
        ctx, rc,
        [&ctx, reply, v, id](bool stale) {
          auto s = ctx.sm.session(id);
          if (!s)
            return reply(error_response(404, "session_not_found", "session " + id + " not found",
                                        json::object(), v));
          json out = session_json(*s);
          if (stale) out["stale"] = true;
          reply(json_response(200, out, v));
        },
        reply);
  });
  r.add(verb::delete_, "/v1/sessions/{id}", "sessions_close",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string id = rc.params["id"];
          const unsigned v = rc.req.version();
          if (!valid_session_id(id)) {
            return reply(error_response(404, "session_not_found", "session " + id + " not found",
                                        json::object(), v));
          }
          ctx.proposals.propose("session.close", {{"id", id}}, ctx.proposal_timeout,
                                [reply, v](const service::CommandResult& res) {
                                  if (!res.ok) return reply(command_error(res, v));
                                  reply(json_response(200, res.body, v));
                                });
        });
}

}  // namespace raftlock::api
