#include "service/daemon.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/http_server.h"
#include "raft/conf_change.h"
#include "raft/node.h"
#include "raft/tcp_transport.h"
#include "service/cluster.h"
#include "service/data_dir_lock.h"
#include "service/lock_waits.h"
#include "service/proposals.h"
#include "service/reads.h"
#include "service/session_keeper.h"
#include "service/state_machine.h"
#include "service/watches.h"
#include "storage/sqlite_log_store.h"
#include "storage/wal_prealloc.h"

namespace raftlock::service {

namespace {
constexpr std::chrono::milliseconds kStateWriteInterval{50};
constexpr std::size_t kStateWriteEntries = 4096;
// The WAL is preallocated to this size (a checkpoint comes every 8192 pages,
// ~34 MB of WAL): its commits then overwrite allocated blocks (wal_prealloc.h).
constexpr std::uint64_t kWalPreallocBytes = 64ull << 20;
}  // namespace

struct Daemon::Parts {
  explicit Parts(const DaemonOptions& o) : log(o.id, o.log_level) {}
  std::unique_ptr<DataDirLock> lock;  // first in, last out: held while anything runs
  Logger log;
  std::unique_ptr<storage::SqliteLogStore> store;
  std::unique_ptr<SqliteStateMachine> sm;
  std::unique_ptr<raft::TcpTransport> transport;
  std::unique_ptr<raft::Node> node;
  std::unique_ptr<Proposals> proposals;
  std::unique_ptr<Reads> reads;
  std::unique_ptr<ClusterService> cluster;
  std::unique_ptr<LockWaits> waits;
  std::unique_ptr<Watches> watches;
  std::unique_ptr<SessionKeeper> keeper;
  api::HttpMetrics metrics;
  api::NodeMetrics node_metrics;
  api::Router router;
  std::unique_ptr<api::ApiContext> api;
  std::unique_ptr<api::HttpServer> http;
  std::uint64_t members_seen = 0;
};

Result<std::unique_ptr<Daemon>> Daemon::create(boost::asio::io_context& io,
                                               const DaemonOptions& opts) {
  std::unique_ptr<Daemon> d(new Daemon(io, opts));
  Status s = d->open();
  if (!s) return s;
  return d;
}

Daemon::Daemon(boost::asio::io_context& io, const DaemonOptions& opts)
    : io_(io), opts_(opts), p_(std::make_unique<Parts>(opts)) {}

Daemon::~Daemon() {
  stop();
}

Status Daemon::open() {
  std::error_code ec;
  std::filesystem::create_directories(opts_.data_dir, ec);
  if (ec)
    return Status(ErrorCode::kIo,
                  "cannot create --data-dir " + opts_.data_dir + ": " + ec.message());
  auto lock = DataDirLock::acquire(opts_.data_dir);
  if (!lock) return lock.status();
  p_->lock = std::move(lock).value();
  const std::string path = (std::filesystem::path(opts_.data_dir) / "raftlock.db").string();
  auto store = storage::SqliteLogStore::open(path);
  if (!store) return store.status();
  p_->store = std::move(store).value();
  Status s = bootstrap_if_new();
  if (!s) return s;
  // Nothing else writes the database yet (the node is not started).
  Status pre = storage::preallocate_wal(p_->store->database().wal_path(), kWalPreallocBytes);
  if (pre) pre = storage::keep_wal_on_close(p_->store->database());
  if (!pre)
    p_->log.warn("WAL not preallocated (the node runs, with slower fsyncs): " + pre.to_string());
  // One connection for the log and the state machine: one page cache.
  auto sm = SqliteStateMachine::open_shared(p_->store->database());
  if (!sm) return sm.status();
  p_->sm = std::move(sm).value();
  p_->sm->set_executor(io_);
  // Rows written behind the applies (state_machine.h): each changed row once
  // per interval instead of once per batch. A crash re-applies at most this
  // much of the log on restart.
  p_->sm->set_write_behind(kStateWriteInterval, kStateWriteEntries);

  p_->transport = std::make_unique<raft::TcpTransport>(io_, opts_.id, opts_.cluster_name,
                                                       opts_.listen_peer.to_string(),
                                                       opts_.listen_http.to_string(), p_->log);

  raft::Config cfg;
  cfg.id = opts_.id;
  cfg.heartbeat_ticks = std::max(1, opts_.heartbeat_ms / opts_.tick_ms);
  cfg.election_ticks = std::max(cfg.heartbeat_ticks + 1, opts_.election_timeout_ms / opts_.tick_ms);
  cfg.seed = std::random_device{}() ^ (opts_.id << 32);
  raft::NodeOptions nopts;
  nopts.tick = std::chrono::milliseconds(opts_.tick_ms);
  nopts.snapshot_entries = opts_.snapshot_entries;
  nopts.sync_threads = opts_.sync_threads;
  p_->node = std::make_unique<raft::Node>(io_, cfg, nopts, *p_->store, *p_->sm, *p_->transport);
  p_->proposals = std::make_unique<Proposals>(io_, *p_->node);
  p_->reads = std::make_unique<Reads>(io_, *p_->node);
  raft::TcpTransport* transport = p_->transport.get();
  p_->cluster = std::make_unique<ClusterService>(
      io_, *p_->node, *p_->sm, opts_.listen_http.to_string(),
      [transport](raft::NodeId id) { return transport->peer_http(id); }, p_->log,
      std::chrono::milliseconds(opts_.election_timeout_ms));

  const auto proposal_timeout =
      std::chrono::milliseconds(std::max(2000, 4 * opts_.election_timeout_ms));
  SqliteStateMachine* smp = p_->sm.get();
  p_->waits = std::make_unique<LockWaits>(
      io_, *p_->proposals, [smp]() -> const LockState& { return smp->locks(); }, proposal_timeout);
  p_->watches = std::make_unique<Watches>(io_);
  p_->keeper =
      std::make_unique<SessionKeeper>(io_, *p_->node, *p_->proposals, *p_->reads, *smp, p_->log);

  p_->sm->on_wanted([this](const std::string& req) { return p_->proposals->waiting(req); });
  p_->sm->on_result([this](const CommandResult& r) {
    count_result(r);
    p_->proposals->on_result(r);
  });
  p_->proposals->on_applied_latency(
      [this](double secs) { p_->node_metrics.proposal_seconds.observe(secs); });
  p_->node->on_storage_write(
      [this](double secs) { p_->node_metrics.storage_write_seconds.observe(secs); });
  p_->node->set_logger(&p_->log);
  p_->sm->on_effects([this](const LockEffects& e) {
    p_->node_metrics.grants += e.grants.size();
    p_->keeper->on_effects(e);
    p_->waits->on_effects(e);
    p_->watches->on_effects(e);
  });
  p_->node->on_read_state([this](const raft::ReadState& rs) { p_->reads->on_read_state(rs); });
  p_->node->on_applied([this](raft::Index i) {
    p_->reads->on_applied(i);
    refresh_peers();
  });
  p_->node->on_soft_state([this](const raft::SoftState& ss, raft::Term term) {
    p_->log.set_term(term);
    if (ss.leader != raft::kNoNode) {
      p_->proposals->on_leader_change();
      p_->reads->on_leader_change();
    }
    p_->log.info(std::string("role ") + raft::role_name(ss.role) + ", leader " +
                 (ss.leader ? std::to_string(ss.leader) : std::string("unknown")));
  });

  p_->api = std::make_unique<api::ApiContext>(api::ApiContext{
      io_, *p_->cluster, *p_->proposals, *p_->reads, *p_->sm, *p_->waits, *p_->watches, *p_->keeper,
      p_->metrics, proposal_timeout, &p_->node_metrics, p_->node.get()});
  api::add_cluster_routes(p_->router, *p_->api);
  api::add_session_routes(p_->router, *p_->api);
  api::add_lock_routes(p_->router, *p_->api);
  api::add_election_routes(p_->router, *p_->api);
  api::add_ui_routes(p_->router, *p_->api);
  p_->http = std::make_unique<api::HttpServer>(io_, p_->router);
  p_->http->set_decorator([this](api::Response& res) { api::decorate(res, *p_->api); });
  p_->http->set_observer([this](const std::string& route, unsigned status, double secs) {
    p_->metrics.observe(route, status, secs);
  });
  return Status::ok();
}

void Daemon::count_result(const CommandResult& r) {
  // What an applied command released or expired, from its result body
  // (API.md): {"released": true} or [locks], {"resigned": true} or
  // [elections], {"expired": [sessions]}.
  if (!r.ok || !r.body.is_object()) return;
  auto count = [&r](const char* field) -> std::uint64_t {
    auto it = r.body.find(field);
    if (it == r.body.end()) return 0;
    if (it->is_boolean()) return it->get<bool>() ? 1 : 0;
    return it->is_array() ? it->size() : 0;
  };
  p_->node_metrics.releases += count("released") + count("resigned");
  if (!r.body.contains("stale")) p_->node_metrics.expiries += count("expired");
}

Status Daemon::bootstrap_if_new() {
  raft::LogStore& store = *p_->store;
  const raft::InitialState init = store.initial_state();
  if (store.last_index() != 0 || init.hard_state.term != 0 || init.snapshot.index != 0) {
    return Status::ok();  // an existing data dir: --initial-cluster is ignored
  }
  if (opts_.join) {
    p_->log.info("empty data dir and --join: waiting to be added to a cluster");
    return Status::ok();
  }
  std::map<raft::NodeId, HostPort> founders = opts_.initial_cluster;
  if (founders.empty()) founders[opts_.id] = opts_.listen_peer;
  raft::ConfState conf;
  nlohmann::json members = nlohmann::json::array();
  for (const auto& [id, hp] : founders) {
    conf.voters.insert(id);
    // Only what every founder knows identically: entry 1 must be the same everywhere.
    members.push_back({{"id", id}, {"peer", hp.to_string()}, {"http", ""}});
  }
  p_->log.info("new data dir: founding a cluster of " + std::to_string(conf.voters.size()) +
               " voter(s)");
  return store.write(raft::bootstrap_write(conf, nlohmann::json{{"members", members}}.dump()));
}

void Daemon::refresh_peers() {
  // Called after every applied batch: re-read the members only when they changed.
  if (p_->sm->members_version() == p_->members_seen) return;
  p_->members_seen = p_->sm->members_version();
  // Peer addresses: the founders named on the command line (hints, also on
  // restart), then what the replicated member list says.
  for (const auto& [id, hp] : opts_.initial_cluster) {
    if (id != opts_.id) p_->transport->set_peer(id, hp.to_string());
  }
  for (const Member& m : p_->sm->members()) {
    if (m.id != opts_.id && !m.peer.empty()) p_->transport->set_peer(m.id, m.peer);
  }
}

Status Daemon::start() {
  Status s = p_->transport->listen(opts_.listen_peer.host, opts_.listen_peer.port);
  if (!s) return s;
  s = p_->http->listen(opts_.listen_http.host, opts_.listen_http.port);
  if (!s) return s;
  refresh_peers();
  p_->node->start();
  p_->cluster->start();
  p_->keeper->start();
  p_->log.info("serving HTTP on " + opts_.listen_http.host + ":" + std::to_string(http_port()) +
               ", peers on " + opts_.listen_peer.host + ":" + std::to_string(peer_port()));
  p_->log.info(p_->node->pipelined()
                   ? "log writes pipelined: " + std::to_string(opts_.sync_threads) + " sync threads"
                   : std::string("log writes not pipelined (--sync-threads 0)"));
  return Status::ok();
}

void Daemon::stop() {
  if (!p_) return;
  if (p_->http) p_->http->stop();
  if (p_->cluster) p_->cluster->stop();
  if (p_->keeper) p_->keeper->stop();
  if (p_->node) p_->node->stop();
  if (p_->transport) p_->transport->stop();
}

void Daemon::shutdown(const std::string& why) {
  p_->log.info(why);
  stop();
}

std::uint16_t Daemon::http_port() const {
  return p_->http->port();
}
std::uint16_t Daemon::peer_port() const {
  return p_->transport->port();
}

}  // namespace raftlock::service
