// SyncWorkers: the threads on which a Node makes its pipelined writes
// durable (ready.h, log_store.h WriteSyncer).
//
// The node numbers its ordered writes 1, 2, 3... and calls request(n) after
// write n. A free worker takes the highest number requested so far and runs
// one WriteSyncer::sync, which covers that write and every one before it, so
// writes that come while a sync runs share the next one (group commit). With
// two or more threads a second sync starts while the first still runs: the
// disk serves concurrent flushes, and a write need not wait for a flush that
// began before it was made. When a sync ends, `done(n)` runs on the
// io_context: every write up to n is durable. A write made while no sync
// runs is handed to the disk at once (WriteSyncer::start). A failed sync
// aborts the process at once, on the sync thread (STYLE.md: never retry an
// fsync).
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "raft/log_store.h"
#include "raft/result.h"

namespace raftlock::raft {

class SyncWorkers {
 public:
  using Done = std::function<void(std::uint64_t through)>;

  // REQUIRES: threads >= 1; `io` outlives this object, and runs `done`.
  SyncWorkers(boost::asio::io_context& io, std::shared_ptr<WriteSyncer> syncer, int threads,
              Done done);
  // Joins the threads; a sync in progress finishes first. Its `done` is still
  // posted: the callback must tell whether its owner is alive.
  ~SyncWorkers();
  SyncWorkers(const SyncWorkers&) = delete;
  SyncWorkers& operator=(const SyncWorkers&) = delete;

  // Write `through` (and every one before it) should be made durable.
  void request(std::uint64_t through);

 private:
  void run();

  boost::asio::io_context& io_;
  std::shared_ptr<WriteSyncer> syncer_;
  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t requested_ = 0;  // highest write asked for
  std::uint64_t started_ = 0;    // highest write a sync has started for
  int running_ = 0;              // syncs in progress
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace raftlock::raft
