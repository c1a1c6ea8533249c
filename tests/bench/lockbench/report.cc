#include "report.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace raftlock::bench {

std::vector<std::string> error_samples(std::vector<std::string> errors, std::size_t max) {
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  if (errors.size() > max) errors.resize(max);
  return errors;
}

nlohmann::ordered_json endpoints_json(const std::vector<Endpoint>& endpoints) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Endpoint& e : endpoints)
    out.push_back(e.text());
  return out;
}

void finish_report(nlohmann::ordered_json& result, const Options& opts,
                   const nlohmann::json& server) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S%z", &tm);
  result["label"] = opts.label;
  result["server"] = server;
  result["client"] = {{"tool", "lockbench"}, {"impl", "c++/boost.beast"}, {"ts", ts}};
}

bool emit_report(const nlohmann::ordered_json& result, const Options& opts) {
  const std::string line = result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (opts.json_out.empty()) return true;
  std::ofstream f(opts.json_out, std::ios::app);
  f << line << '\n';
  return static_cast<bool>(f);
}

}  // namespace raftlock::bench
