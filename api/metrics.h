// HTTP request metrics and the Prometheus text rendering of /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace raftlock::api {

// A Prometheus histogram with fixed buckets (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name` with `labels` ("" or "k=\"v\",").
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::uint64_t, kBounds.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class HttpMetrics {
 public:
  void observe(const std::string& route, unsigned status, double seconds);
  void render(std::string& out) const;

 private:
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// This node's Raft and lock service activity beyond the gauges /metrics reads
// at scrape time. Updated on the node's thread; observing costs a few adds.
struct NodeMetrics {
  Histogram proposal_seconds;       // propose -> applied on this node
  Histogram storage_write_seconds;  // one LogStore write, until durable (raft/node.h)
  std::uint64_t grants = 0;         // locks and elections granted (applied entries)
  std::uint64_t releases = 0;       // released locks and resigned elections, by request
  std::uint64_t expiries = 0;       // sessions expired

  void render(std::string& out, std::uint64_t snapshots_taken,
              std::uint64_t snapshots_installed) const;
};

// Appends one metric line, with HELP/TYPE headers.
void metric_line(std::string& out, const std::string& name, const std::string& type,
                 const std::string& help, double value);

}  // namespace raftlock::api
