// raftlockd's settings: the flags of API.md ("Running raftlockd"), optionally
// read from a config file of the same names (flags override the file).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "raft/logger.h"
#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::service {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

struct DaemonOptions {
  raft::NodeId id = 1;
  std::string data_dir = "./raftlock-data";
  HostPort listen_http{"127.0.0.1", 8080};
  HostPort listen_peer{"127.0.0.1", 7080};
  std::map<raft::NodeId, HostPort> initial_cluster;  // empty: this node alone
  bool join = false;
  std::string cluster_name = "raftlock";
  int election_timeout_ms = 300;
  int heartbeat_ms = 50;
  int tick_ms = 10;                        // Raft's unit of time; divides both timeouts
  std::uint64_t snapshot_entries = 10000;  // compact the log after this many entries
  int sync_threads = 2;  // threads that fsync pipelined log writes; 0 = none (raft/node.h)
  LogLevel log_level = LogLevel::kInfo;

  // One-shot modes (docs/operations.md): do this and exit instead of serving.
  bool check_config = false;  // --check-config: print the settings
  std::string backup_to;      // --backup-to FILE: copy the data dir's database
  std::string restore_from;   // --restore-from FILE: build the data dir from a backup
  std::uint64_t restore_index_gap = 1000000;  // --restore-index-gap (whole-cluster restore)
};

// The settings as `name = value` lines, in the format --config reads.
std::string describe_options(const DaemonOptions& o);

// "host:port" with a numeric port in 1..65535 (0 allowed when allow_zero).
Result<HostPort> parse_host_port(const std::string& s, bool allow_zero = false);
// "1=127.0.0.1:7081,2=127.0.0.1:7082"
Result<std::map<raft::NodeId, HostPort>> parse_initial_cluster(const std::string& s);

// Parses argv (and --config FILE). kInvalidArgument with a message naming the
// flag on bad input. `help_text` receives the usage text when --help is given
// (then the Result holds nullopt-like: check *help_requested).
Result<DaemonOptions> parse_daemon_options(int argc, const char* const* argv, bool* help_requested,
                                           std::string* help_text);

}  // namespace raftlock::service
