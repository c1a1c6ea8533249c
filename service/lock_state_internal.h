// Helpers shared by LockState's command files (lock_state.cc,
// lock_state_sessions.cc): building command results and reading command
// arguments. Not part of LockState's interface.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "raft/types.h"
#include "service/command.h"
#include "service/lock_state.h"

namespace raftlock::service::lock_state_detail {

using nlohmann::json;
using raft::Index;

inline CommandResult ok_result(Index index, const Command& c, json body) {
  CommandResult r;
  r.index = index;
  r.req = c.req;
  r.body = std::move(body);
  return r;
}

// {key: value}, built without a brace-initialized temporary.
template <typename T>
json one_field(const char* key, T&& value) {
  json b = json::object();
  b[key] = std::forward<T>(value);
  return b;
}

inline CommandResult fail(Index index, const Command& c, std::string code, std::string message,
                          json extra = json::object()) {
  CommandResult r;
  r.index = index;
  r.req = c.req;
  r.ok = false;
  r.error_code = std::move(code);
  r.error_message = std::move(message);
  r.body = std::move(extra);
  return r;
}

inline LockKind kind_arg(const Command& c) {
  return c.kind == "election" ? LockKind::kElection : LockKind::kLock;
}

inline LockMode mode_arg(const Command& c) {
  return c.mode == "shared" ? LockMode::kShared : LockMode::kExclusive;
}

}  // namespace raftlock::service::lock_state_detail
