#include "raft/result.h"

#include <cstdio>
#include <cstdlib>

#include "raft/assert.h"

namespace raftlock {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kNotLeader:
      return "not_leader";
    case ErrorCode::kNoLeader:
      return "no_leader";
    case ErrorCode::kProposalDropped:
      return "proposal_dropped";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kLimitExceeded:
      return "limit_exceeded";
    case ErrorCode::kCompacted:
      return "compacted";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kIo:
      return "io";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(error_code_name(code_)) + ": " + message_;
}

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "RAFTLOCK_ASSERT failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace raftlock
