#include "raft/sync_workers.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "raft/assert.h"

namespace raftlock::raft {

SyncWorkers::SyncWorkers(boost::asio::io_context& io, std::shared_ptr<WriteSyncer> syncer,
                         int threads, Done done)
    : io_(io), syncer_(std::move(syncer)), done_(std::move(done)) {
  RAFTLOCK_ASSERT(threads >= 1 && syncer_ != nullptr);
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

SyncWorkers::~SyncWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    t.join();
}

void SyncWorkers::request(std::uint64_t through) {
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (through <= requested_) return;
    requested_ = through;
    idle = running_ == 0;
  }
  // A sync thread that has to be woken starts its sync tens of microseconds
  // later on a busy machine: the disk writes the data meanwhile, and the sync
  // waits mostly for the flush. Started before the wake-up, so the write is
  // under way whichever thread runs first. While syncs run, the next one
  // covers the writes made meanwhile in one go, so this is left to it.
  if (idle) syncer_->start();
  cv_.notify_one();
}

void SyncWorkers::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || requested_ > started_; });
    if (stop_) return;
    // Every write up to requested_ returned before this point, so the sync
    // that starts now covers them all.
    const std::uint64_t through = requested_;
    started_ = through;
    ++running_;
    lock.unlock();
    const Status s = syncer_->sync();
    // Fatal here, not in `done`: that may never run (the node is stopping,
    // the io_context no longer runs), and a lost failure would let the next
    // start take unsynced data for durable. Never retried (STYLE.md).
    RAFTLOCK_ASSERT_MSG(s.is_ok(), s.to_string().c_str());
    lock.lock();
    --running_;  // before `done` can run: a request it leads to sees this sync over
    boost::asio::post(io_, [done = done_, through] { done(through); });
  }
}

}  // namespace raftlock::raft
