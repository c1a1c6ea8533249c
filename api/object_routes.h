// What the session, lock and election routes share: name and id checks,
// blocking reads (API.md "Blocking queries", "Consistency") and answering a
// proposal's result.
#pragma once

#include <functional>
#include <string>

#include "api/api_context.h"
#include "api/body.h"

namespace raftlock::api {

// 1-200 characters of A-Z a-z 0-9 . _ - : ~, not "." or "..".
bool valid_name(const std::string& name);
// 16 lowercase hex digits (the form the service assigns).
bool valid_session_id(const std::string& id);

Response invalid_name(const std::string& name, unsigned version);

// The required "session" field of a request body: a malformed id cannot name
// a session, so it is 404 session_not_found, as an unknown one is.
bool get_session(const nlohmann::json& body, std::string* out, ApiError* err);

// GET of a list of locks or elections (keys starting with `key_prefix`,
// "l/" or "e/") whose names start with ?prefix=: at most 1000, then
// "truncated": true. `render` gives an entry's JSON, or null to leave it out.
using RenderEntry = std::function<nlohmann::json(const service::LockRecord&, std::int64_t now)>;
void list_read(ApiContext& ctx, RequestContext& rc, const std::string& key_prefix,
               const char* field, RenderEntry render, Reply reply);
Response session_not_found(const std::string& id, unsigned version);

// A GET of one object (`key`, a LockState key): reads after ReadIndex (or at
// once with ?consistency=stale), and with ?index=N waits (wait_ms, default
// 30000, max 300000) until the object's modify_index exceeds N. `render`
// builds the answer from the local state when it is time (stale: add
// "stale": true).
using Render = std::function<Response(bool stale)>;
void blocking_read(ApiContext& ctx, RequestContext& rc, const std::string& key, Render render,
                   Reply reply);

// For LockWaits::acquire: once the request waits in the queue, its client
// hanging up gives the wait up (the connection is watched only from then on).
service::LockWaits::Queued watch_hangup(ApiContext& ctx, const GoneFlag& gone);

// Answers a proposal: ok_status with the result's body, or the mapped error.
std::function<void(const service::CommandResult&)> on_result(Reply reply, unsigned version,
                                                             unsigned ok_status = 200);

}  // namespace raftlock::api
