#include "stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

namespace raftlock::bench {

double round_to(double x, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

nlohmann::ordered_json pct_summary(std::vector<std::int64_t>& ns) {
  nlohmann::ordered_json out;
  out["n"] = ns.size();
  if (ns.empty()) return out;
  std::sort(ns.begin(), ns.end());
  const auto n = static_cast<double>(ns.size());
  auto ms = [](std::int64_t v) { return round_to(static_cast<double>(v) / 1e6, 3); };
  auto pct = [&](double q) {
    auto k = static_cast<long long>(std::ceil(q / 100.0 * n)) - 1;  // nearest rank
    k = std::clamp<long long>(k, 0, static_cast<long long>(ns.size()) - 1);
    return ms(ns[static_cast<std::size_t>(k)]);
  };
  out["p50"] = pct(50);
  out["p90"] = pct(90);
  out["p99"] = pct(99);
  out["max"] = ms(ns.back());
  const long double sum = std::accumulate(ns.begin(), ns.end(), 0.0L);
  out["mean"] = round_to(static_cast<double>(sum / ns.size()) / 1e6, 3);
  return out;
}

std::vector<std::uint64_t> per_second(const std::vector<std::int64_t>& done_ns,
                                      std::int64_t start_ns, int seconds) {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(std::max(1, seconds)), 0);
  for (std::int64_t t : done_ns) {
    if (t < start_ns) continue;
    const std::int64_t k = (t - start_ns) / 1'000'000'000;
    if (k >= 0 && k < static_cast<std::int64_t>(out.size())) ++out[static_cast<std::size_t>(k)];
  }
  return out;
}

namespace {

std::optional<std::uint64_t> proc_cpu_ticks(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto rp = s.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 0; i < 13 && in >> field; ++i) {
    if (i == 11) utime = std::stoull(field);
    if (i == 12) stime = std::stoull(field);
  }
  if (!in) return std::nullopt;
  return utime + stime;
}

std::vector<std::uint64_t> sys_cpu() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  std::uint64_t v[8] = {};
  f >> cpu;
  for (auto& x : v)
    f >> x;  // user nice system idle iowait irq softirq steal
  const std::uint64_t total = std::accumulate(std::begin(v), std::end(v), std::uint64_t{0});
  return {total, v[3] + v[4], v[4], v[0] + v[1], v[2] + v[5] + v[6], v[7]};
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

}  // namespace

CpuSample CpuSample::take(const std::vector<int>& server_pids) {
  CpuSample s;
  s.wall_s = static_cast<double>(now_ns()) / 1e9;
  s.self_cpu_s = self_cpu_seconds();
  for (int p : server_pids)
    s.server_ticks[p] = proc_cpu_ticks(p);
  s.sys = sys_cpu();
  return s;
}

nlohmann::ordered_json cpu_diff(const CpuSample& a, const CpuSample& b) {
  nlohmann::ordered_json out;
  const double wall = b.wall_s - a.wall_s;
  if (wall <= 0) return out;
  out["client_cpu_pct_of_one_core"] = round_to(100.0 * (b.self_cpu_s - a.self_cpu_s) / wall, 1);
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  nlohmann::ordered_json srv = nlohmann::ordered_json::object();
  double srv_total = 0;
  for (const auto& [pid, t0] : a.server_ticks) {
    auto it = b.server_ticks.find(pid);
    if (!t0 || it == b.server_ticks.end() || !it->second) continue;
    const double pct = round_to(100.0 * static_cast<double>(*it->second - *t0) / tck / wall, 1);
    srv[std::to_string(pid)] = pct;
    srv_total += pct;
  }
  if (!srv.empty()) {
    out["server_cpu_pct_of_one_core"] = srv;
    out["server_cpu_pct_total"] = round_to(srv_total, 1);
  }
  if (a.sys.size() == 6 && b.sys.size() == 6 && b.sys[0] > a.sys[0]) {
    const double tot = static_cast<double>(b.sys[0] - a.sys[0]);
    auto pct = [&](std::size_t i) {
      return round_to(100.0 * static_cast<double>(b.sys[i] - a.sys[i]) / tot, 1);
    };
    out["system_busy_pct_of_all_cores"] = round_to(100.0 - pct(1), 1);
    out["system_iowait_pct"] = pct(2);
    out["system_user_pct"] = pct(3);
    out["system_kernel_pct"] = pct(4);
    out["system_steal_pct"] = pct(5);
    out["ncpu"] = sysconf(_SC_NPROCESSORS_ONLN);
  }
  return out;
}

std::optional<std::uint64_t> rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream in(line.substr(6));
      std::uint64_t kib = 0;
      if (in >> kib) return kib;
    }
  }
  return std::nullopt;
}

}  // namespace raftlock::bench
