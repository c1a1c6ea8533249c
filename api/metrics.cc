#include "api/metrics.h"

#include <cstdio>

namespace raftlock::api {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
// Bucket bounds as written in the source (0.0005, not 0.00050000000000000001).
std::string bound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

void Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    out += name + "_bucket{" + labels + "le=\"" + bound(kBounds[i]) + "\"} " +
           std::to_string(buckets_[i]) + "\n";
  }
  out += name + "_bucket{" + labels + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  std::string l = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out += name + "_sum" + l + " " + num(sum_) + "\n";
  out += name + "_count" + l + " " + std::to_string(count_) + "\n";
}

void HttpMetrics::observe(const std::string& route, unsigned status, double seconds) {
  ++requests_[{route, status}];
  latency_[route].observe(seconds);
}

void HttpMetrics::render(std::string& out) const {
  out += "# HELP raftlock_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE raftlock_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "raftlock_http_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP raftlock_http_request_seconds HTTP request latency, by route.\n";
  out += "# TYPE raftlock_http_request_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    h.render(out, "raftlock_http_request_seconds", "route=\"" + route + "\",");
  }
}

void NodeMetrics::render(std::string& out, std::uint64_t snapshots_taken,
                         std::uint64_t snapshots_installed) const {
  out +=
      "# HELP raftlock_raft_proposal_seconds From proposing a command to its entry applied on this "
      "node.\n";
  out += "# TYPE raftlock_raft_proposal_seconds histogram\n";
  proposal_seconds.render(out, "raftlock_raft_proposal_seconds", "");
  out +=
      "# HELP raftlock_storage_write_seconds One Raft log write (entries, hard state, snapshot; "
      "fsync included).\n";
  out += "# TYPE raftlock_storage_write_seconds histogram\n";
  storage_write_seconds.render(out, "raftlock_storage_write_seconds", "");
  out +=
      "# HELP raftlock_raft_snapshots_total Snapshots: taken here (compacting the log) or "
      "installed from a leader.\n";
  out += "# TYPE raftlock_raft_snapshots_total counter\n";
  out +=
      "raftlock_raft_snapshots_total{source=\"local\"} " + std::to_string(snapshots_taken) + "\n";
  out += "raftlock_raft_snapshots_total{source=\"leader\"} " + std::to_string(snapshots_installed) +
         "\n";
  metric_line(out, "raftlock_lock_grants_total", "counter",
              "Locks and elections granted by applied entries.", static_cast<double>(grants));
  metric_line(out, "raftlock_lock_releases_total", "counter",
              "Locks released and elections resigned by request (release, resign, session close).",
              static_cast<double>(releases));
  metric_line(out, "raftlock_session_expiries_total", "counter",
              "Sessions expired (applied expiry entries).", static_cast<double>(expiries));
}

void metric_line(std::string& out, const std::string& name, const std::string& type,
                 const std::string& help, double value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         num(value) + "\n";
}

}  // namespace raftlock::api
