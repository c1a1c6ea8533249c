#include "service/options.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <sstream>

namespace raftlock::service {

namespace po = boost::program_options;

namespace {

Status invalid(const std::string& msg) {
  return Status(ErrorCode::kInvalidArgument, msg);
}

bool parse_u64(const std::string& s, std::uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<HostPort> parse_host_port(const std::string& s, bool allow_zero) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return invalid("expected host:port, got '" + s + "'");
  std::uint64_t port = 0;
  if (!parse_u64(s.substr(colon + 1), &port) || port > 65535 || (port == 0 && !allow_zero)) {
    return invalid("bad port in '" + s + "'");
  }
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return HostPort{host, static_cast<std::uint16_t>(port)};
}

Result<std::map<raft::NodeId, HostPort>> parse_initial_cluster(const std::string& s) {
  std::map<raft::NodeId, HostPort> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const std::size_t eq = item.find('=');
    std::uint64_t id = 0;
    if (eq == std::string::npos || !parse_u64(item.substr(0, eq), &id) || id == 0) {
      return invalid("--initial-cluster: expected ID=HOST:PORT with ID > 0, got '" + item + "'");
    }
    auto hp = parse_host_port(item.substr(eq + 1));
    if (!hp) return invalid("--initial-cluster: " + hp.status().message());
    if (!out.emplace(id, *hp).second)
      return invalid("--initial-cluster: node " + std::to_string(id) + " twice");
  }
  if (out.empty()) return invalid("--initial-cluster is empty");
  return out;
}

Result<DaemonOptions> parse_daemon_options(int argc, const char* const* argv, bool* help_requested,
                                           std::string* help_text) {
  *help_requested = false;
  DaemonOptions o;
  std::string http = o.listen_http.to_string(), peer = o.listen_peer.to_string();
  std::string initial, level = "info", config;
  std::string id_text = std::to_string(o.id);
  po::options_description desc("raftlockd options");
  desc.add_options()("help,h", "show this help")(
      "config", po::value(&config), "read settings from FILE (name = value lines; flags override)")(
      "id", po::value(&id_text)->default_value(id_text), "this node's id (a positive integer)")(
      "data-dir", po::value(&o.data_dir)->default_value(o.data_dir),
      "where the SQLite database lives")("listen-http", po::value(&http)->default_value(http),
                                         "client API HOST:PORT")(
      "listen-peer", po::value(&peer)->default_value(peer), "peer protocol HOST:PORT")(
      "initial-cluster", po::value(&initial),
      "ID=HOST:PORT,... founding voters (new data dir only)")(
      "join", po::bool_switch(&o.join), "start empty and wait to be added to a cluster")(
      "cluster-name", po::value(&o.cluster_name)->default_value(o.cluster_name),
      "checked in the peer handshake")(
      "election-timeout-ms",
      po::value(&o.election_timeout_ms)->default_value(o.election_timeout_ms),
      "base election timeout, randomized in [N, 2N)")(
      "heartbeat-ms", po::value(&o.heartbeat_ms)->default_value(o.heartbeat_ms),
      "leader heartbeat interval")(
      "snapshot-entries", po::value(&o.snapshot_entries)->default_value(o.snapshot_entries),
      "snapshot and compact the log every N applied entries (an image over 1 MiB: once "
      "the entries since add up to its size)")(
      "sync-threads", po::value(&o.sync_threads)->default_value(o.sync_threads),
      "threads that fsync the log while the node writes the next entries (0: every "
      "write is durable before the next one starts)")(
      "log-level", po::value(&level)->default_value(level), "debug, info, warn or error")(
      "check-config", po::bool_switch(&o.check_config),
      "check the flags and --config file, print the settings and exit")(
      "backup-to", po::value(&o.backup_to),
      "copy the database of --data-dir (the node may be running) to FILE and exit")(
      "restore-from", po::value(&o.restore_from),
      "create --data-dir from the backup FILE and exit: with --join a new member seeded "
      "from it, without a new one-node cluster of this --id holding its state")(
      "restore-index-gap", po::value(&o.restore_index_gap)->default_value(o.restore_index_gap),
      "one-node restore: the restored state's index is the backup's last index + N, so "
      "fencing tokens stay above those the lost cluster granted");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("config")) {
      std::ifstream f(vm["config"].as<std::string>());
      if (!f) return invalid("--config: cannot read " + vm["config"].as<std::string>());
      po::store(po::parse_config_file(f, desc), vm);  // stored second: flags win
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return invalid(e.what());
  }
  if (vm.count("help")) {
    *help_requested = true;
    std::ostringstream os;
    os << desc;
    *help_text = os.str();
    return o;
  }
  std::uint64_t id = 0;
  if (!parse_u64(id_text, &id) || id == 0 || id > (std::uint64_t{1} << 62)) {
    return invalid("--id must be a positive integer, got '" + id_text + "'");
  }
  o.id = id;
  auto h = parse_host_port(http, true);
  if (!h) return invalid("--listen-http: " + h.status().message());
  o.listen_http = *h;
  auto p = parse_host_port(peer, true);
  if (!p) return invalid("--listen-peer: " + p.status().message());
  o.listen_peer = *p;
  if (!initial.empty()) {
    auto ic = parse_initial_cluster(initial);
    if (!ic) return ic.status();
    if (!ic->count(o.id)) return invalid("--initial-cluster does not name this node's --id");
    o.initial_cluster = *ic;
  }
  if (o.join && !initial.empty()) return invalid("--join and --initial-cluster exclude each other");
  if (!o.backup_to.empty() + !o.restore_from.empty() + o.check_config > 1)
    return invalid("--check-config, --backup-to and --restore-from exclude each other");
  if (o.restore_index_gap < 1 || o.restore_index_gap > (std::uint64_t{1} << 60))
    return invalid("--restore-index-gap must be between 1 and 2^60");
  if (o.heartbeat_ms < 1 || o.election_timeout_ms < 2 * o.heartbeat_ms) {
    return invalid("--election-timeout-ms must be at least twice --heartbeat-ms (>= 1)");
  }
  if (o.cluster_name.empty() || o.cluster_name.size() > 64)
    return invalid("--cluster-name: 1-64 bytes");
  if (o.sync_threads < 0 || o.sync_threads > 8)
    return invalid("--sync-threads must be between 0 and 8");
  if (!parse_log_level(level, &o.log_level))
    return invalid("--log-level: debug, info, warn or error");
  // One tick divides the heartbeat interval and the election timeout.
  o.tick_ms = std::max(1, std::min(10, o.heartbeat_ms));
  return o;
}

std::string describe_options(const DaemonOptions& o) {
  std::ostringstream os;
  os << "id = " << o.id << "\n"
     << "data-dir = " << o.data_dir << "\n"
     << "listen-http = " << o.listen_http.to_string() << "\n"
     << "listen-peer = " << o.listen_peer.to_string() << "\n";
  if (!o.initial_cluster.empty()) {
    os << "initial-cluster = ";
    const char* sep = "";
    for (const auto& [id, hp] : o.initial_cluster) {
      os << sep << id << "=" << hp.to_string();
      sep = ",";
    }
    os << "\n";
  }
  if (o.join) os << "join = true\n";
  static const char* kLevels[] = {"debug", "info", "warn", "error"};
  os << "cluster-name = " << o.cluster_name << "\n"
     << "election-timeout-ms = " << o.election_timeout_ms << "\n"
     << "heartbeat-ms = " << o.heartbeat_ms << "\n"
     << "snapshot-entries = " << o.snapshot_entries << "\n"
     << "sync-threads = " << o.sync_threads << "\n"
     << "log-level = " << kLevels[static_cast<int>(o.log_level)] << "\n";
  return os.str();
}

}  // namespace raftlock::service
