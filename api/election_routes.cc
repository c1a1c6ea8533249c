// /v1/elections (API.md "Elections"): a lock with limit 1 whose holder
// carries a value; its fencing token is the leadership term.
#include <boost/beast/http/verb.hpp>

#include "api/body.h"
#include "api/json_reply.h"
#include "api/object_routes.h"

namespace raftlock::api {

using boost::beast::http::verb;
using nlohmann::json;
using service::LockKind;
using service::LockState;

namespace {

constexpr std::size_t kMaxValueBytes = 4096;

json nobody(const std::string& name) {
  return {{"election", name}, {"leader", nullptr}, {"candidates", 0}, {"modify_index", 0}};
}

}  // namespace

void add_election_routes(Router& r, ApiContext& ctx) {
  r.add(verb::post, "/v1/elections/{name}/campaign", "elections_campaign",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          service::AcquireRequest a;
          std::int64_t wait = 0;
          if (!parse_body(rc.req, &body, &err) || !get_session(body, &a.session, &err) ||
              !get_string(body, "value", kMaxValueBytes, std::string(), &a.value, &err) ||
              !get_int(body, "wait_ms", 0, 300000, 0, &wait, &err)) {
            return reply(error_response(err, v));
          }
          a.kind = LockKind::kElection;
          a.name = name;
          a.wait_ms = wait;
          ctx.waits.acquire(a, on_result(reply, v), watch_hangup(ctx, rc.client_gone));
        });

  r.add(verb::post, "/v1/elections/{name}/proclaim", "elections_proclaim",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          std::string session, value;
          if (!parse_body(rc.req, &body, &err) || !get_session(body, &session, &err) ||
              !get_string(body, "value", kMaxValueBytes, std::nullopt, &value, &err)) {
            return reply(error_response(err, v));
          }
          service::Command c;
          c.op = "election.proclaim";
          c.name = name;
          c.session = std::move(session);
          c.value = std::move(value);
          ctx.proposals.propose(std::move(c), ctx.proposal_timeout, on_result(reply, v));
        });

  r.add(verb::post, "/v1/elections/{name}/resign", "elections_resign",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          json body;
          ApiError err;
          std::string session;
          if (!parse_body(rc.req, &body, &err) || !get_session(body, &session, &err)) {
            return reply(error_response(err, v));
          }
          service::Command c;
          c.op = "lock.release";
          c.kind = "election";
          c.name = name;
          c.session = std::move(session);
          ctx.proposals.propose(std::move(c), ctx.proposal_timeout, on_result(reply, v));
        });

  r.add(verb::get, "/v1/elections/{name}", "elections_get",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string name = rc.params["name"];
          const unsigned v = rc.req.version();
          if (!valid_name(name)) return reply(invalid_name(name, v));
          const std::string key = LockState::lock_key(LockKind::kElection, name);
          blocking_read(
              ctx, rc, key,
              [&ctx, key, name, v](bool stale) {
                const service::LockRecord* l = ctx.sm.locks().find_lock(key);
                json out = l ? ctx.sm.locks().election_json(*l) : nobody(name);
                if (stale) out["stale"] = true;
                return json_response(200, out, v);
              },
              reply);
        });

  r.add(verb::get, "/v1/elections", "elections_list", [&ctx](RequestContext& rc, Reply reply) {
    const service::LockState& st = ctx.sm.locks();
    list_read(
        ctx, rc, "e/", "elections",
        [&st](const service::LockRecord& l, std::int64_t) {
          return l.active() ? st.election_json(l) : json();
        },
        reply);
  });
}

}  // namespace raftlock::api
