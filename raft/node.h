// raft::Node: the driver that runs a Core for real. It turns a steady timer
// into ticks, and for every Ready sends what may leave before the write (the
// leader's appends and heartbeats, forwarded requests), persists (one
// LogStore write, one fsync), sends the rest, applies, then advances (ready.h). Single-threaded:
// every call and callback runs on the io_context the Node was given.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "raft/core.h"
#include "raft/log_store.h"
#include "raft/logger.h"
#include "raft/state_machine.h"
#include "raft/transport.h"

namespace raftlock::raft {

struct NodeOptions {
  std::chrono::milliseconds tick{50};  // one Core tick; the heartbeat interval
  // Take a snapshot and compact the log once this many entries were applied
  // since the last snapshot.
  Index snapshot_entries = 10000;
};

class Node {
 public:
  using ReadHandler = std::function<void(const ReadState&)>;
  using SoftStateHandler = std::function<void(const SoftState&, Term)>;
  using AppliedHandler = std::function<void(Index)>;
  // Seconds one LogStore write took (its fsync included).
  using WriteObserver = std::function<void(double seconds)>;
  struct Stats {
    std::uint64_t snapshots_taken = 0;      // local snapshots that compacted the log
    std::uint64_t snapshots_installed = 0;  // snapshots received from a leader
  };

  // REQUIRES: store, sm and transport outlive the Node.
  Node(boost::asio::io_context& io, const Config& cfg, const NodeOptions& opts, LogStore& store,
       StateMachine& sm, Transport& transport);
  ~Node() { *alive_ = false; }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void start();
  void stop();

  // Handlers for what applications wait on. Set before start().
  void on_read_state(ReadHandler h) { on_read_ = std::move(h); }
  void on_soft_state(SoftStateHandler h) { on_soft_ = std::move(h); }
  void on_applied(AppliedHandler h) { on_applied_ = std::move(h); }
  void on_storage_write(WriteObserver h) { on_write_ = std::move(h); }
  // Where the node reports what it cannot hand back (a skipped snapshot).
  void set_logger(const Logger* log) { log_ = log; }

  // The Core's requests; the outputs are processed right after.
  Status propose(Bytes data);
  Status propose_conf_change(const ConfChange& cc);
  Status read_index(Bytes context);
  Status transfer_leadership(NodeId to);
  void step(const Message& m);

  CoreStatus status() const { return core_.status(); }
  NodeId id() const { return cfg_.id; }
  const Config& config() const { return cfg_; }
  std::uint64_t leader_changes() const { return leader_changes_; }
  const Stats& stats() const { return stats_; }

 private:
  void schedule_tick();
  void schedule_process();
  void process();
  void maybe_snapshot();
  void apply_committed(const std::vector<Entry>& entries, std::size_t from, std::size_t to);

  boost::asio::io_context& io_;
  Config cfg_;
  NodeOptions opts_;
  LogStore& store_;
  StateMachine& sm_;
  Transport& transport_;
  Core core_;
  boost::asio::steady_timer ticker_;
  HardState written_;  // the hard state last made durable
  bool process_scheduled_ = false;
  bool snapshot_in_progress_ = false;
  bool stopped_ = false;
  NodeId last_leader_ = kNoNode;
  std::uint64_t leader_changes_ = 0;
  ReadHandler on_read_;
  SoftStateHandler on_soft_;
  AppliedHandler on_applied_;
  WriteObserver on_write_;
  const Logger* log_ = nullptr;
  Stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace raftlock::raft
