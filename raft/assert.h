// RAFTLOCK_ASSERT: an always-on check for bugs. It prints where and why, then aborts.
// It stays on in release builds: continuing after a broken invariant can lose data.
#pragma once

namespace raftlock {

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);

}  // namespace raftlock

#define RAFTLOCK_ASSERT(cond)                                            \
  do {                                                                   \
    if (!(cond)) ::raftlock::assert_fail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define RAFTLOCK_ASSERT_MSG(cond, msg)                                      \
  do {                                                                      \
    if (!(cond)) ::raftlock::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
