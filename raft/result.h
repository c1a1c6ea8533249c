// Result<T> and Status: expected failures as values, never exceptions.
//
// Bugs are not expected failures: they go through RAFTLOCK_ASSERT (assert.h).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace raftlock {

enum class ErrorCode {
  kOk = 0,
  kNotLeader,        // this node is not the leader and cannot serve the request
  kNoLeader,         // no leader is known; nothing was proposed
  kProposalDropped,  // refused before it entered the log (e.g. transfer in progress)
  kTimeout,          // the outcome is unknown
  kInvalidArgument,  // the caller passed something malformed or out of range
  kConflict,         // the request conflicts with the current state
  kBusy,             // cannot be taken now; the same request may succeed later
  kLimitExceeded,    // a configured limit would be exceeded
  kCompacted,        // the requested log index is before the first retained entry
  kUnavailable,      // the requested log index is not (yet) in the log
  kCorruption,       // stored or received data failed a check
  kIo,               // the operating system or a library reported an I/O failure
};

const char* error_code_name(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(ErrorCode code, std::string message) : v_(Status(code, std::move(message))) {}

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok()
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  // The error; an ok Status when this holds a value.
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }
  ErrorCode code() const { return is_ok() ? ErrorCode::kOk : std::get<Status>(v_).code(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace raftlock
