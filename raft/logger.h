// One line per event on stderr: time, level, node id, term, message.
// A Logger is passed to the components that log; there is no global logger.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace raftlock {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error"; false if unknown.
bool parse_log_level(const std::string& s, LogLevel* out);

class Logger {
 public:
  Logger(std::uint64_t node_id, LogLevel min_level) : node_id_(node_id), min_(min_level) {}

  void set_term(std::uint64_t term) { term_ = term; }
  bool enabled(LogLevel l) const { return l >= min_; }

  void log(LogLevel level, const std::string& msg) const;
  void debug(const std::string& msg) const { log(LogLevel::kDebug, msg); }
  void info(const std::string& msg) const { log(LogLevel::kInfo, msg); }
  void warn(const std::string& msg) const { log(LogLevel::kWarn, msg); }
  void error(const std::string& msg) const { log(LogLevel::kError, msg); }

 private:
  std::uint64_t node_id_;
  LogLevel min_;
  std::atomic<std::uint64_t> term_{0};
};

}  // namespace raftlock
