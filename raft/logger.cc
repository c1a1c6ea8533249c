#include "raft/logger.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace raftlock {

bool parse_log_level(const std::string& s, LogLevel* out) {
  if (s == "debug")
    *out = LogLevel::kDebug;
  else if (s == "info")
    *out = LogLevel::kInfo;
  else if (s == "warn")
    *out = LogLevel::kWarn;
  else if (s == "error")
    *out = LogLevel::kError;
  else
    return false;
  return true;
}

void Logger::log(LogLevel level, const std::string& msg) const {
  if (!enabled(level)) return;
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  // Logging reads the wall clock; the Raft core never does.
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ level=%s node=%llu term=%llu %s\n", ts, ms,
               kNames[static_cast<int>(level)], static_cast<unsigned long long>(node_id_),
               static_cast<unsigned long long>(term_.load()), msg.c_str());
}

}  // namespace raftlock
