// raft::Node: the driver that runs a Core for real. It turns a steady timer
// into ticks, and for every Ready sends what may leave before the write (the
// leader's appends and heartbeats, forwarded requests), persists (one
// LogStore write, one fsync), sends the rest, applies, then advances
// (ready.h). With a store that can pipeline its writes (LogStore::syncer),
// the fsync runs on sync threads (sync_workers.h) while the node takes in and
// writes the next Readies; what waits for a write leaves once a sync covers
// it. Every call and callback runs on the io_context the Node was given.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "raft/core.h"
#include "raft/log_store.h"
#include "raft/logger.h"
#include "raft/state_machine.h"
#include "raft/sync_workers.h"
#include "raft/transport.h"

namespace raftlock::raft {

struct NodeOptions {
  std::chrono::milliseconds tick{50};  // one Core tick; the heartbeat interval
  // Take a snapshot and compact the log once this many entries were applied
  // since the last snapshot -- and, if that snapshot's image was larger than
  // snapshot_small_image_bytes, once their data adds up to at least its size:
  // a large state is not copied again for a log much smaller than itself, so
  // the work of snapshots stays proportional to the bytes the log takes in
  // however large the state grows (with entries every 10,000 a state of
  // 100,000 sessions was imaged more than once a second at full load).
  Index snapshot_entries = 10000;
  std::uint64_t snapshot_small_image_bytes = 1 << 20;
  // Pipelined writes (ready.h), when the store offers them: how many syncs
  // may run at once (0: none, every write is durable before the next Ready),
  // and how many Readies may wait for a sync before the node stops taking
  // new ones (what arrives meanwhile then joins one larger write).
  int sync_threads = 2;
  std::size_t max_writes_in_flight = 4;
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
  ~Node();
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
  // Whether writes are pipelined (NodeOptions::sync_threads and a store with a syncer).
  bool pipelined() const { return sync_ != nullptr; }

 private:
  void schedule_tick();
  void schedule_process();
  // Runs process() after `trips` more passes through the io_context's queue.
  void process_after(int trips);
  void process();
  // One Ready whose write is durable before the function returns.
  void process_durable(Ready& rd, StorageWrite& w, std::size_t early);
  // One Ready whose write is only ordered (pipelined); it finishes in on_synced.
  void process_ordered(Ready& rd, StorageWrite& w, std::size_t early);
  void on_synced(std::uint64_t through);
  // Sends what waited and advances the Readies whose writes are durable.
  void finish_durable();
  void after_apply(const Ready& rd);
  void send_all(const std::vector<Message>& messages);  // one write per peer
  void maybe_snapshot();
  void apply_committed(const std::vector<Entry>& entries, std::size_t from, std::size_t to);

  // A Ready whose write may not be durable yet: its messages that wait for
  // the write, and what advance_written needs.
  struct InFlight {
    std::uint64_t seq = 0;  // the last ordered write this Ready waits for
    Ready rd;
    std::chrono::steady_clock::time_point written_at;
    bool wrote = false;  // it made a write of its own (timed for on_write_)
  };

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
  std::deque<InFlight> in_flight_;
  std::uint64_t written_seq_ = 0;           // ordered writes made
  std::uint64_t durable_seq_ = 0;           // ordered writes a finished sync covered
  std::uint64_t bytes_since_snapshot_ = 0;  // data of the entries applied since (maybe_snapshot)
  std::uint64_t last_image_bytes_ = 0;      // the newest snapshot's image (taken or installed)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<SyncWorkers> sync_;  // null: writes are not pipelined
};

}  // namespace raftlock::raft
