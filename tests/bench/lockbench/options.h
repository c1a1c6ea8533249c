// Command-line options of lockbench, the lock-service load generator.
//
// The flags mirror /work/shared/bench/lockbench.py where both tools have them
// (same names, same units), so runs of either are directly comparable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace raftlock::bench {

// One HTTP endpoint; only loopback hosts are accepted.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct Options {
  std::string target = "etcd";  // "etcd" or "raftlock"
  std::vector<Endpoint> endpoints;
  std::string scenario = "uncontended";  // single | uncontended | contended | memory
  int clients = 16;                      // workers (= connections); single forces 1
  double duration_s = 10.0;              // measured seconds
  double warmup_s = 1.0;                 // unmeasured seconds before
  double hold_ms = 0.0;                  // time a worker holds each lock
  int lease_ttl_s = 60;                  // etcd lease TTL / raftlock session ttl (s)
  int wait_ms = 30000;                   // raftlock acquire wait_ms
  std::vector<int> server_pids;          // sampled for CPU (loop) and RSS (memory)
  int sessions = 10000;                  // memory: sessions to create
  int locks = 100000;                    // memory: locks in total over those sessions
  std::string label;
  std::string json_out;  // also append the JSON line to this file
};

struct ParseResult {
  std::optional<Options> options;  // empty on error or --help
  std::string message;             // the error, or the usage text for --help
  bool help = false;
};

// Parses argv (argv[0] is the program name). Never exits.
ParseResult parse_options(int argc, const char* const* argv);

// "127.0.0.1:23791,http://localhost:8081" -> endpoints. Empty on error, with
// the reason in *error (a non-loopback host, a missing or bad port).
std::vector<Endpoint> parse_endpoints(const std::string& csv, std::string* error);

}  // namespace raftlock::bench
