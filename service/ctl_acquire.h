// The waiting loop behind `raftlockctl lock` and `elect`: POST an acquire or
// campaign request with a bounded wait_ms, again and again, until granted,
// the caller's wait is over, or the session is gone. A request is safe to
// repeat (the session's existing grant or wait is returned, API.md), so
// lost answers, 504s and endpoint failures are simply retried; the session's
// lease decides when to give up on an unreachable cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/ctl_client.h"

namespace raftlock::service {

struct AcquireResult {
  enum class Kind { kGranted, kNotWithinWait, kSessionGone, kRefused };
  Kind kind = Kind::kRefused;
  api::CtlReply reply;  // the last answer
};

// Longest wait asked of the server in one request: a dead node is noticed by
// the connection, a hung one by the request timeout (wait + kAcquireSlack).
constexpr std::chrono::milliseconds kAcquireChunk{30000};
constexpr std::chrono::milliseconds kAcquireSlack{10000};

// POSTs `body` plus "wait_ms" to `path` until it answers 200 (kGranted),
// 409 lock_held once `wait` has passed (kNotWithinWait; no `wait` means
// forever), 404 session_not_found (kSessionGone), or anything else
// (kRefused). `done` is called once, from the client's io.
void acquire_loop(api::CtlClient& client, std::string path, nlohmann::json body,
                  std::optional<std::chrono::milliseconds> wait,
                  std::function<void(AcquireResult)> done);

}  // namespace raftlock::service
