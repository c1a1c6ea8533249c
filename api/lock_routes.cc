// /v1/locks (API.md "Locks"): mutexes, semaphores and read-write locks.
#include <boost/beast/http/verb.hpp>

#include "api/body.h"
#include "api/json_reply.h"
#include "api/object_routes.h"

namespace raftlock::api {

using boost::beast::http::verb;
using nlohmann::json;
using service::LockKind;
using service::LockMode;
using service::LockState;

namespace {

json free_lock_json(const std::string& name) {
  return {{"lock", name},
          {"limit", 1},
          {"holders", json::array()},
          {"waiters", json::array()},
          {"modify_index", 0}};
}

}  // namespace

void add_lock_routes(Router& r, ApiContext& ctx) {
  r.add(verb::post, "/v1/locks/{name}/acquire", "locks_acquire",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          service::AcquireRequest a;
          std::int64_t wait = 0, limit = 1;
          std::string mode;
          if (!parse_body(rc.req, &body, &err) || !get_session(body, &a.session, &err) ||
              !get_int(body, "wait_ms", 0, 300000, 0, &wait, &err) ||
              !get_int(body, "limit", 1, 1000000, 1, &limit, &err) ||
              !get_string(body, "mode", 16, std::string("exclusive"), &mode, &err)) {
            return reply(error_response(err, v));
          }
          if (mode != "exclusive" && mode != "shared") {
            return reply(error_response(400, "invalid_argument",
                                        "field 'mode' must be 'exclusive' or 'shared'",
                                        json::object(), v));
          }
          if (mode == "shared" && limit > 1) {
            return reply(error_response(400, "invalid_argument",
                                        "field 'mode' must be 'exclusive' when 'limit' > 1",
                                        json::object(), v));
          }
          a.kind = LockKind::kLock;
          a.name = name;
          a.mode = mode == "shared" ? LockMode::kShared : LockMode::kExclusive;
          a.limit = static_cast<std::uint32_t>(limit);
          a.wait_ms = wait;
          ctx.waits.acquire(a, on_result(reply, v), watch_hangup(ctx, rc.client_gone));
        });

  r.add(verb::post, "/v1/locks/{name}/release", "locks_release",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          std::string session;
          std::int64_t token = -1;
          if (!parse_body(rc.req, &body, &err) || !get_session(body, &session, &err) ||
              !get_int(body, "fencing_token", 0, INT64_MAX, -1, &token, &err)) {
            return reply(error_response(err, v));
          }
          service::Command c;
          c.op = "lock.release";
          c.kind = "lock";
          c.name = name;
          c.session = std::move(session);
          if (token >= 0) c.fencing_token = token;
          ctx.proposals.propose(std::move(c), ctx.proposal_timeout, on_result(reply, v));
        });

  r.add(verb::post, "/v1/locks/{name}/check", "locks_check",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          std::int64_t token = 0;
          if (!parse_body(rc.req, &body, &err) ||
              !get_int(body, "fencing_token", 0, INT64_MAX, std::nullopt, &token, &err)) {
            return reply(error_response(err, v));
          }
          with_read(
              ctx, rc,
              [&ctx, name, token, reply, v](bool stale) {
                const service::LockRecord* l =
                    ctx.sm.locks().find_lock(LockState::lock_key(LockKind::kLock, name));
                bool valid = false;
                json current = nullptr;
                if (l != nullptr && !l->holders.empty()) {
                  for (const service::Holder& h : l->holders)
                    valid = valid || h.token == static_cast<raft::Index>(token);
                  current = l->current_token();
                }
                json out = {{"valid", valid}, {"current_token", current}};
                if (stale) out["stale"] = true;
                reply(json_response(200, out, v));
              },
              reply);
        });

  r.add(verb::get, "/v1/locks/{name}", "locks_get", [&ctx](RequestContext& rc, Reply reply) {
    const std::string name = rc.params["name"];
    const unsigned v = rc.req.version();
    if (!valid_name(name)) return reply(invalid_name(name, v));
    const std::string key = LockState::lock_key(LockKind::kLock, name);
    blocking_read(
        ctx, rc, key,
        [&ctx, key, name, v](bool stale) {
          const service::LockRecord* l = ctx.sm.locks().find_lock(key);
          json out =
              l ? ctx.sm.locks().lock_json(*l, service::wall_clock_ms()) : free_lock_json(name);
          if (stale) out["stale"] = true;
          return json_response(200, out, v);
        },
        reply);
  });

  r.add(verb::get, "/v1/locks", "locks_list", [&ctx](RequestContext& rc, Reply reply) {
    const service::LockState& st = ctx.sm.locks();
    list_read(
        ctx, rc, "l/", "locks",
        [&st](const service::LockRecord& l, std::int64_t now) {
          return l.active() || l.delay_until_ms != 0 ? st.lock_json(l, now) : json();
        },
        reply);
  });
}

}  // namespace raftlock::api
