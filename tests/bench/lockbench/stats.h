// Measurement helpers shared by the scenarios: latency percentiles, CPU use
// of this process, of the server processes and of the machine, and RSS.
// Field names and rounding follow lockbench.py's report.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace raftlock::bench {

// x rounded to `digits` decimals (for compact, stable JSON numbers).
double round_to(double x, int digits);

// {"n", "p50", "p90", "p99", "max", "mean"} in milliseconds (3 decimals),
// nearest-rank percentiles; {"n": 0} when empty. Sorts `ns` in place.
nlohmann::ordered_json pct_summary(std::vector<std::int64_t>& ns);

// Completions per whole second of the window [start_ns, start_ns + seconds).
std::vector<std::uint64_t> per_second(const std::vector<std::int64_t>& done_ns,
                                      std::int64_t start_ns, int seconds);

// A point-in-time sample of CPU counters; the difference of two samples is
// reported as lockbench.py's "cpu" object.
struct CpuSample {
  double wall_s = 0;
  double self_cpu_s = 0;
  std::map<int, std::optional<std::uint64_t>> server_ticks;  // utime + stime by pid
  std::vector<std::uint64_t> sys;  // total, idle+iowait, iowait, user+nice, kernel, steal

  static CpuSample take(const std::vector<int>& server_pids);
};
nlohmann::ordered_json cpu_diff(const CpuSample& a, const CpuSample& b);

// VmRSS of pid in KiB, from /proc/PID/status; empty if unreadable.
std::optional<std::uint64_t> rss_kib(int pid);

// Monotonic nanoseconds (steady clock).
std::int64_t now_ns();

}  // namespace raftlock::bench
