// raft::Node with pipelined writes (ready.h, sync_workers.h): a follower
// driven by hand-made leader messages, over a store whose syncs wait for the
// test. What must wait for a write (the acknowledgement) waits for the sync
// that covers it; the write itself is in the store at once; acknowledgements
// leave in order; committed entries apply before the node's own sync.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "raft/conf_change.h"
#include "raft/memory_log_store.h"
#include "raft/node.h"

namespace raftlock::raft {
namespace {

using namespace std::chrono_literals;

class GatedSyncer final : public WriteSyncer {
 public:
  Status sync() override {
    std::unique_lock<std::mutex> lock(mu_);
    ++started_;
    cv_.wait(lock, [this] { return open_; });
    return Status::ok();
  }
  void set_open(bool open) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = open;
    }
    cv_.notify_all();
  }
  int started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int started_ = 0;
};

// A MemoryLogStore whose ordered writes need the gated syncer.
class PipelinedStore final : public LogStore {
 public:
  explicit PipelinedStore(const ConfState& voters) {
    REQUIRE(mem_.write(bootstrap_write(voters)).is_ok());
  }
  InitialState initial_state() const override { return mem_.initial_state(); }
  Index first_index() const override { return mem_.first_index(); }
  Index last_index() const override { return mem_.last_index(); }
  Result<Term> term(Index i) const override { return mem_.term(i); }
  Result<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max) const override {
    return mem_.entries(lo, hi, max);
  }
  Snapshot snapshot() const override { return mem_.snapshot(); }
  Status write(const StorageWrite& w) override { return mem_.write(w); }
  Status write_ordered(const StorageWrite& w) override {
    ++ordered_;
    return mem_.write(w);
  }
  std::shared_ptr<WriteSyncer> syncer() override { return syncer_; }

  std::shared_ptr<GatedSyncer> syncer_ = std::make_shared<GatedSyncer>();
  int ordered_ = 0;

 private:
  MemoryLogStore mem_;
};

class RecordingTransport final : public Transport {
 public:
  void send(const Message& m) override { sent.push_back(m); }
  void set_peer(NodeId, const std::string&) override {}
  void remove_peer(NodeId) override {}
  void set_handlers(MessageHandler on_message, UnreachableHandler) override {
    deliver = std::move(on_message);
  }
  std::vector<Message> of_type(MessageType t) const {
    std::vector<Message> out;
    for (const Message& m : sent) {
      if (m.type == t) out.push_back(m);
    }
    return out;
  }
  std::vector<Message> sent;
  MessageHandler deliver;
};

class CountingStateMachine final : public StateMachine {
 public:
  Index applied_index() const override { return applied_; }
  void apply(std::span<const Entry> entries) override {
    for (const Entry& e : entries)
      applied_ = e.index;
  }
  Bytes snapshot_image() override { return {}; }
  void restore(const Snapshot& s) override { applied_ = s.meta.index; }

 private:
  Index applied_ = 0;
};

Entry entry(Index index, Term term) {
  return Entry{term, index, EntryType::kNormal, "e" + std::to_string(index)};
}

Message append(Index prev, Term prev_term, std::vector<Entry> entries, Index commit) {
  return Message{.type = MessageType::kAppend,
                 .from = 1,
                 .to = 2,
                 .term = 2,
                 .log_term = prev_term,
                 .index = prev,
                 .entries = std::move(entries),
                 .commit = commit};
}

void run_a_while(boost::asio::io_context& io) {
  io.restart();
  io.run_for(30ms);
}

// Runs `io` until `done()`, 5 s at most (a loaded machine may be slow to
// schedule the sync threads).
template <typename F>
void run_until(boost::asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    run_a_while(io);
}

struct Follower {
  Follower() : store(ConfState{{1, 2, 3}, {}}) {
    Config cfg;
    cfg.id = 2;
    cfg.election_ticks = 1000;  // no election during the test
    NodeOptions opts;
    opts.tick = 10ms;
    node = std::make_unique<Node>(io, cfg, opts, store, sm, transport);
    node->start();
    // Term 2 from leader 1, made durable before the tests look at anything.
    store.syncer_->set_open(true);
    transport.deliver(append(1, 1, {}, 1));
    run_until(io, [this] { return !transport.of_type(MessageType::kAppendResp).empty(); });
    store.syncer_->set_open(false);
    transport.sent.clear();
  }
  ~Follower() {
    store.syncer_->set_open(true);  // let the sync threads finish
    node.reset();
  }
  boost::asio::io_context io;
  PipelinedStore store;
  CountingStateMachine sm;
  RecordingTransport transport;
  std::unique_ptr<Node> node;
};

TEST_CASE("node pipelined: an acknowledgement waits for the sync that covers its write") {
  Follower f;
  REQUIRE(f.node->pipelined());
  const int started_before = f.store.syncer_->started();
  f.transport.deliver(append(1, 1, {entry(2, 2)}, 1));
  run_a_while(f.io);
  CHECK(f.store.last_index() == 2);  // written (ordered) at once
  run_until(f.io, [&] { return f.store.syncer_->started() > started_before; });
  CHECK(f.store.syncer_->started() == started_before + 1);
  CHECK(f.transport.of_type(MessageType::kAppendResp).empty());  // not durable yet
  f.store.syncer_->set_open(true);
  run_until(f.io, [&] { return !f.transport.of_type(MessageType::kAppendResp).empty(); });
  const std::vector<Message> acks = f.transport.of_type(MessageType::kAppendResp);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].index == 2);
  CHECK(!acks[0].reject);
}

TEST_CASE("node pipelined: writes in flight; acknowledgements leave in their order") {
  Follower f;
  f.transport.deliver(append(1, 1, {entry(2, 2)}, 1));
  run_a_while(f.io);
  f.transport.deliver(append(2, 2, {entry(3, 2)}, 1));
  run_a_while(f.io);
  CHECK(f.store.last_index() == 3);  // the second write did not wait for the first sync
  CHECK(f.transport.of_type(MessageType::kAppendResp).empty());
  f.store.syncer_->set_open(true);
  run_until(f.io, [&] { return f.transport.of_type(MessageType::kAppendResp).size() >= 2; });
  const std::vector<Message> acks = f.transport.of_type(MessageType::kAppendResp);
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].index == 2);
  CHECK(acks[1].index == 3);
}

TEST_CASE("node pipelined: committed entries apply while the node's own write is unsynced") {
  Follower f;
  // Entry 2 arrives already committed by the leader (a quorum has it).
  f.transport.deliver(append(1, 1, {entry(2, 2)}, 2));
  run_a_while(f.io);
  CHECK(f.sm.applied_index() == 2);
  CHECK(f.transport.of_type(MessageType::kAppendResp).empty());
  f.store.syncer_->set_open(true);
  run_until(f.io, [&] { return !f.transport.of_type(MessageType::kAppendResp).empty(); });
  CHECK(f.transport.of_type(MessageType::kAppendResp).size() == 1);
}

TEST_CASE("node pipelined: at most max_writes_in_flight Readies wait; the rest join one write") {
  Follower f;
  const int before = f.store.ordered_;
  // Four appends while nothing syncs: four ordered writes at most (the default
  // limit), then the node stops taking Readies until a sync ends.
  for (Index i = 2; i <= 9; ++i) {
    f.transport.deliver(append(i - 1, i == 2 ? 1 : 2, {entry(i, 2)}, 1));
    run_a_while(f.io);
  }
  CHECK(f.store.ordered_ == before + 4);
  CHECK(f.store.last_index() == 5);
  f.store.syncer_->set_open(true);
  run_until(f.io, [&] {
    const std::vector<Message> a = f.transport.of_type(MessageType::kAppendResp);
    return !a.empty() && a.back().index == 9;
  });
  CHECK(f.store.last_index() == 9);
  const std::vector<Message> acks = f.transport.of_type(MessageType::kAppendResp);
  REQUIRE(!acks.empty());
  CHECK(acks.back().index == 9);
  for (std::size_t k = 1; k < acks.size(); ++k)
    CHECK(acks[k - 1].index < acks[k].index);
}

}  // namespace
}  // namespace raftlock::raft
