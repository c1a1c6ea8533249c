// raftlockctl's exit codes (docs/cli.md). `lock` and `elect` otherwise exit
// with their command's status (128 + signal when a signal ended it).
#pragma once

namespace raftlock::service {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;       // the service answered the request with an error
constexpr int kExitNotAcquired = 75;  // lock: not acquired within --wait-ms
constexpr int kExitLost = 76;         // the session was lost: lock or leadership gone
constexpr int kExitUsage = 77;        // bad usage, or no endpoint could be reached

}  // namespace raftlock::service
