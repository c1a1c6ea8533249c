// /v1/cluster/*, /healthz, /readyz and /metrics (API.md, "Cluster administration").
#include <boost/beast/http/verb.hpp>

#include "api/api_context.h"
#include "api/body.h"
#include "api/http_client.h"
#include "api/json_reply.h"

namespace raftlock::api {

using boost::beast::http::verb;
using nlohmann::json;

void decorate(Response& res, const ApiContext& ctx) {
  const raft::CoreStatus st = ctx.cluster.status();
  res.set("X-Raft-Term", std::to_string(st.term));
  res.set("X-Raft-Leader", st.leader == raft::kNoNode ? "" : std::to_string(st.leader));
  res.set("X-Raftlock-Index", std::to_string(ctx.sm.applied_index()));
}

Response status_error(const Status& s, unsigned version) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
      return error_response(400, "invalid_argument", s.message(), json::object(), version);
    case ErrorCode::kConflict:
      return error_response(409, "conflict", s.message(), json::object(), version);
    case ErrorCode::kBusy: {
      // A membership change while another is uncommitted (or before the
      // leader's first entry commits): the same request succeeds shortly.
      Response r = error_response(409, "conflict", s.message(), json::object(), version);
      r.set("Retry-After", "1");
      return r;
    }
    case ErrorCode::kTimeout:
      return error_response(504, "timeout", s.message(), json::object(), version);
    case ErrorCode::kUnavailable:
      return error_response(404, "member_not_found", s.message(), json::object(), version);
    case ErrorCode::kNotLeader:
    case ErrorCode::kNoLeader:
    case ErrorCode::kProposalDropped: {
      Response r = error_response(503, "no_leader", s.message(), json::object(), version);
      r.set("Retry-After", "1");
      return r;
    }
    default:
      return error_response(500, "internal", s.to_string(), json::object(), version);
  }
}

Response command_error(const service::CommandResult& r, unsigned version) {
  unsigned status = 409;  // lock_held, limit_mismatch, not_holder, not_leader, conflict
  if (r.error_code == "no_leader" || r.error_code == "overloaded")
    status = 503;
  else if (r.error_code == "timeout")
    status = 504;
  else if (r.error_code == "session_not_found")
    status = 404;
  else if (r.error_code == "invalid_argument" || r.error_code == "invalid_command")
    status = 400;
  else if (r.error_code == "limit_exceeded")
    status = 429;
  json extra = r.body.is_object() ? r.body : json::object();
  if (auto it = extra.find("lock_delay_until_ms"); it != extra.end()) {
    // The entry carries the delay's end on the proposer's clock; answer what is left.
    extra["lock_delay_remaining_ms"] =
        std::max<std::int64_t>(0, it->get<std::int64_t>() - service::wall_clock_ms());
    extra.erase("lock_delay_until_ms");
  }
  Response res = error_response(status, r.error_code, r.error_message, extra, version);
  if (status == 503) res.set("Retry-After", "1");
  return res;
}

void forward_to_leader(ApiContext& ctx, const Request& req, Reply reply) {
  auto leader = ctx.cluster.leader();
  if (!leader || leader->http.empty() || leader->id == ctx.cluster.status().id) {
    Response r =
        error_response(503, "no_leader", "no leader is known", json::object(), req.version());
    r.set("Retry-After", "1");
    return reply(std::move(r));
  }
  Request fwd = req;
  fwd.set("X-Raftlock-Forwarded", "1");
  const unsigned version = req.version();
  async_http_request(ctx.io, leader->http, std::move(fwd), std::chrono::milliseconds(10000),
                     [reply, version](Result<Response> res) {
                       if (res) return reply(std::move(res).value());
                       Response r = error_response(
                           res.code() == ErrorCode::kTimeout ? 504 : 503,
                           res.code() == ErrorCode::kTimeout ? "timeout" : "no_leader",
                           "forwarding to the leader failed: " + res.status().message(),
                           json::object(), version);
                       reply(std::move(r));
                     });
}

namespace {

json member_json(const service::Member& m) {
  return {{"id", m.id}, {"peer", m.peer}, {"http", m.http}, {"voter", m.voter}};
}

json status_json(ApiContext& ctx) {
  const raft::CoreStatus st = ctx.cluster.status();
  json j = {{"id", st.id},
            {"role", raft::role_name(st.role)},
            {"term", st.term},
            {"leader", st.leader == raft::kNoNode ? json(nullptr) : json(st.leader)},
            {"commit_index", st.commit},
            {"applied_index", st.applied},
            {"last_log_index", st.last_index},
            {"snapshot_index", st.snapshot_index},
            {"voters", st.conf.voters},
            {"learners", st.conf.learners}};
  if (st.role == raft::Role::kLeader) {
    json peers = json::array();
    for (const auto& [id, p] : st.peers) {
      peers.push_back({{"id", id},
                       {"match_index", p.match},
                       {"next_index", p.next},
                       {"lag", st.last_index >= p.match ? st.last_index - p.match : 0},
                       {"voter", !p.learner},
                       {"state", p.state},
                       {"recent_active", p.recent_active}});
    }
    j["peers"] = peers;
  }
  return j;
}

bool is_forwarded(const Request& req) {
  return req.find("X-Raftlock-Forwarded") != req.end();
}

}  // namespace

void add_cluster_routes(Router& r, ApiContext& ctx) {
  r.add(verb::get, "/healthz", "healthz", [](RequestContext& rc, Reply reply) {
    reply(json_response(200, {{"ok", true}}, rc.req.version()));
  });
  r.add(verb::get, "/readyz", "readyz", [&ctx](RequestContext& rc, Reply reply) {
    if (ctx.cluster.ready()) return reply(json_response(200, {{"ready", true}}, rc.req.version()));
    Response res = error_response(503, "not_ready", "no leader known or not caught up",
                                  json::object(), rc.req.version());
    res.set("Retry-After", "1");
    reply(std::move(res));
  });
  r.add(verb::get, "/v1/cluster/leader", "cluster_leader", [&ctx](RequestContext& rc, Reply reply) {
    auto l = ctx.cluster.leader();
    if (!l) {
      Response res =
          error_response(503, "no_leader", "no leader is known", json::object(), rc.req.version());
      res.set("Retry-After", "1");
      return reply(std::move(res));
    }
    reply(json_response(200, {{"id", l->id}, {"http", l->http}, {"term", l->term}},
                        rc.req.version()));
  });
  r.add(verb::get, "/v1/cluster/status", "cluster_status", [&ctx](RequestContext& rc, Reply reply) {
    reply(json_response(200, status_json(ctx), rc.req.version()));
  });
  r.add(verb::get, "/v1/cluster/members", "cluster_members",
        [&ctx](RequestContext& rc, Reply reply) {
          json ms = json::array();
          for (const auto& m : ctx.cluster.members())
            ms.push_back(member_json(m));
          reply(json_response(200, {{"members", ms}}, rc.req.version()));
        });
  r.add(verb::post, "/v1/cluster/members", "cluster_members_add",
        [&ctx](RequestContext& rc, Reply reply) {
          json body;
          ApiError err;
          std::int64_t id = 0;
          std::string peer, http;
          if (!parse_body(rc.req, &body, &err) ||
              !get_int(body, "id", 1, INT64_MAX, std::nullopt, &id, &err) ||
              !get_string(body, "peer", 255, std::nullopt, &peer, &err) ||
              !get_string(body, "http", 255, std::string(), &http, &err)) {
            return reply(error_response(err, rc.req.version()));
          }
          if (peer.find(':') == std::string::npos ||
              (!http.empty() && http.find(':') == std::string::npos)) {
            return reply(error_response(400, "invalid_argument", "'peer' and 'http' are host:port",
                                        json::object(), rc.req.version()));
          }
          if (!ctx.cluster.is_leader() && !is_forwarded(rc.req))
            return forward_to_leader(ctx, rc.req, reply);
          const unsigned v = rc.req.version();
          ctx.cluster.add_member(
              static_cast<raft::NodeId>(id), peer, http, [reply, id, peer, http, v](Status s) {
                if (!s) return reply(status_error(s, v));
                reply(json_response(
                    201, {{"id", id}, {"peer", peer}, {"http", http}, {"voter", false}}, v));
              });
        });
  r.add(verb::delete_, "/v1/cluster/members/{id}", "cluster_members_remove",
        [&ctx](RequestContext& rc, Reply reply) {
          const std::string& s = rc.params["id"];
          raft::NodeId id = 0;
          if (s.empty() || s.size() > 19 ||
              s.find_first_not_of("0123456789") != std::string::npos ||
              (id = std::stoull(s)) == 0) {
            return reply(error_response(400, "invalid_argument",
                                        "member id must be a positive integer", json::object(),
                                        rc.req.version()));
          }
          if (!ctx.cluster.is_leader() && !is_forwarded(rc.req))
            return forward_to_leader(ctx, rc.req, reply);
          const unsigned v = rc.req.version();
          ctx.cluster.remove_member(id, [reply, id, v](Status st) {
            if (!st) return reply(status_error(st, v));
            reply(json_response(200, {{"removed", id}}, v));
          });
        });
  r.add(
      verb::post, "/v1/cluster/transfer-leadership", "cluster_transfer",
      [&ctx](RequestContext& rc, Reply reply) {
        json body;
        ApiError err;
        std::int64_t to = 0;
        if (!parse_body(rc.req, &body, &err) || !get_int(body, "to", 1, INT64_MAX, 0, &to, &err)) {
          return reply(error_response(err, rc.req.version()));
        }
        if (!ctx.cluster.is_leader() && !is_forwarded(rc.req))
          return forward_to_leader(ctx, rc.req, reply);
        const unsigned v = rc.req.version();
        if (to != 0) {
          bool known = false;
          for (const auto& m : ctx.cluster.members())
            known |= m.id == static_cast<raft::NodeId>(to);
          if (!known)
            return reply(error_response(404, "member_not_found", "no member " + std::to_string(to),
                                        json::object(), v));
        }
        ctx.cluster.transfer_leadership(static_cast<raft::NodeId>(to), [&ctx, reply, v](Status st) {
          if (!st) return reply(status_error(st, v));
          reply(json_response(200, {{"leader", ctx.cluster.status().leader}}, v));
        });
      });
  r.add(verb::get, "/metrics", "metrics", [&ctx](RequestContext& rc, Reply reply) {
    const raft::CoreStatus st = ctx.cluster.status();
    std::string out;
    metric_line(out, "raftlock_raft_term", "gauge", "Current Raft term.", st.term);
    metric_line(out, "raftlock_raft_role", "gauge",
                "0 follower, 1 pre-candidate, 2 candidate, 3 leader.",
                static_cast<double>(st.role));
    metric_line(out, "raftlock_raft_is_leader", "gauge", "1 if this node leads.",
                st.role == raft::Role::kLeader ? 1 : 0);
    metric_line(out, "raftlock_raft_leader_changes_total", "counter",
                "Leader changes seen by this node.",
                static_cast<double>(ctx.cluster.leader_changes()));
    metric_line(out, "raftlock_raft_commit_index", "gauge", "Raft commit index.", st.commit);
    metric_line(out, "raftlock_raft_applied_index", "gauge",
                "Last index applied to the state machine.", st.applied);
    metric_line(out, "raftlock_state_written_index", "gauge",
                "Applied index the state machine's tables hold (written behind the applies).",
                ctx.sm.written_index());
    metric_line(out, "raftlock_raft_last_log_index", "gauge", "Last index in the log.",
                st.last_index);
    metric_line(out, "raftlock_raft_snapshot_index", "gauge", "Index of the latest snapshot.",
                st.snapshot_index);
    metric_line(out, "raftlock_proposals_pending", "gauge",
                "Proposals waiting for their commit on this node.", ctx.proposals.pending());
    const service::LockState& locks = ctx.sm.locks();
    metric_line(out, "raftlock_sessions", "gauge", "Open sessions.", locks.sessions().size());
    metric_line(out, "raftlock_locks_active", "gauge", "Locks and elections held or waited on.",
                locks.active_locks());
    metric_line(out, "raftlock_lock_waiters", "gauge", "Sessions queued on locks and elections.",
                locks.waiter_count());
    metric_line(out, "raftlock_acquire_requests_waiting", "gauge",
                "Acquire and campaign requests waiting on this node.", ctx.waits.waiting());
    metric_line(out, "raftlock_blocking_queries", "gauge", "Blocking GETs waiting on this node.",
                ctx.watches.size());
    metric_line(out, "raftlock_session_expiries_proposed_total", "counter",
                "Session expiries this node proposed as leader.",
                static_cast<double>(ctx.keeper.expiries_proposed()));
    if (ctx.node_metrics && ctx.node) {
      ctx.node_metrics->render(out, ctx.node->stats().snapshots_taken,
                               ctx.node->stats().snapshots_installed);
    }
    ctx.metrics.render(out);
    Response res{boost::beast::http::status::ok, rc.req.version()};
    res.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4");
    res.body() = std::move(out);
    res.prepare_payload();
    reply(std::move(res));
  });
}

}  // namespace raftlock::api
