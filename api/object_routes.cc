#include "api/object_routes.h"

#include "api/json_reply.h"

namespace raftlock::api {

using nlohmann::json;

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == ':' ||
                    ch == '~';
    if (!ok) return false;
  }
  return true;
}

bool valid_session_id(const std::string& id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Response invalid_name(const std::string& name, unsigned version) {
  return error_response(
      400, "invalid_name",
      "name '" + name.substr(0, 240) + "' is not 1-200 characters of A-Z a-z 0-9 . _ - : ~",
      json::object(), version);
}

bool get_session(const json& body, std::string* out, ApiError* err) {
  if (!get_string(body, "session", 64, std::nullopt, out, err)) return false;
  if (!valid_session_id(*out)) {
    *err = ApiError{404, "session_not_found", "session " + *out + " not found"};
    return false;
  }
  return true;
}

void list_read(ApiContext& ctx, RequestContext& rc, const std::string& key_prefix,
               const char* field, RenderEntry render, Reply reply) {
  const unsigned v = rc.req.version();
  const std::string from = key_prefix + (rc.query.count("prefix") ? rc.query["prefix"] : "");
  std::string name = field;
  with_read(
      ctx, rc,
      [&ctx, from, name, render, v, reply](bool stale) {
        const service::LockState& st = ctx.sm.locks();
        const std::int64_t now = service::wall_clock_ms();
        json list = json::array();
        bool truncated = false;
        for (auto it = st.locks().lower_bound(from);
             it != st.locks().end() && it->first.compare(0, from.size(), from) == 0; ++it) {
          json entry = render(it->second, now);
          if (entry.is_null()) continue;
          if (list.size() == 1000) {
            truncated = true;
            break;
          }
          list.push_back(std::move(entry));
        }
        json out = {{name, list}};
        if (truncated) out["truncated"] = true;
        if (stale) out["stale"] = true;
        reply(json_response(200, out, v));
      },
      reply);
}

Response session_not_found(const std::string& id, unsigned version) {
  return error_response(404, "session_not_found", "session " + id.substr(0, 64) + " not found",
                        json::object(), version);
}

namespace {

raft::Index modify_index_of(const service::LockState& st, const std::string& key) {
  if (key.compare(0, 2, "s/") == 0) {
    const service::SessionRecord* s = st.find_session(key.substr(2));
    return s ? s->modify_index : 0;
  }
  const service::LockRecord* l = st.find_lock(key);
  return l ? l->modify_index : 0;
}

bool parse_u64(const std::string& s, std::uint64_t max, std::uint64_t* out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *out = std::stoull(s);
  return *out <= max;
}

}  // namespace

void blocking_read(ApiContext& ctx, RequestContext& rc, const std::string& key, Render render,
                   Reply reply) {
  const unsigned v = rc.req.version();
  std::uint64_t index = 0, wait_ms = 30000;
  const bool blocking = rc.query.count("index") != 0;
  if (blocking && !parse_u64(rc.query["index"], UINT64_MAX >> 1, &index)) {
    return reply(error_response(400, "invalid_argument",
                                "query parameter 'index' must be a non-negative integer",
                                json::object(), v));
  }
  if (rc.query.count("wait_ms") != 0 && !parse_u64(rc.query["wait_ms"], 300000, &wait_ms)) {
    return reply(error_response(400, "invalid_argument",
                                "query parameter 'wait_ms' must be an integer in [0, 300000]",
                                json::object(), v));
  }
  GoneFlag gone = rc.client_gone;
  with_read(
      ctx, rc,
      [&ctx, key, render, reply, blocking, index, wait_ms, gone](bool stale) {
        const bool ended_session =
            key.compare(0, 2, "s/") == 0 && ctx.sm.locks().find_session(key.substr(2)) == nullptr;
        if (!blocking || ended_session || modify_index_of(ctx.sm.locks(), key) > index ||
            wait_ms == 0) {
          return reply(render(stale));
        }
        const std::uint64_t id =
            ctx.watches.add(key, std::chrono::milliseconds(wait_ms),
                            [render, reply, stale]() { reply(render(stale)); });
        if (gone) {
          gone->when_gone([&ctx, id]() { ctx.watches.cancel(id); });
        }
      },
      reply);
}

service::LockWaits::Queued watch_hangup(ApiContext& ctx, const GoneFlag& gone) {
  if (!gone) return nullptr;
  return [&ctx, gone](std::uint64_t id) { gone->when_gone([&ctx, id]() { ctx.waits.gone(id); }); };
}

std::function<void(const service::CommandResult&)> on_result(Reply reply, unsigned version,
                                                             unsigned ok_status) {
  return [reply, version, ok_status](const service::CommandResult& r) {
    if (!r.ok) return reply(command_error(r, version));
    reply(json_response(ok_status, r.body, version));
  };
}

}  // namespace raftlock::api
