// When raft::Node takes a snapshot (NodeOptions::snapshot_entries and
// snapshot_small_image_bytes): every snapshot_entries applied entries while
// the image is small; once it is large, only when the entries applied since
// the last snapshot add up to at least the image's size.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/memory_log_store.h"
#include "raft/node.h"

namespace raftlock::raft {
namespace {

using namespace std::chrono_literals;

class NullTransport final : public Transport {
 public:
  void send(const Message&) override {}
  void set_peer(NodeId, const std::string&) override {}
  void remove_peer(NodeId) override {}
  void set_handlers(MessageHandler on_message, UnreachableHandler) override {
    deliver = std::move(on_message);
  }
  MessageHandler deliver;
};

// Its image is `image_bytes` long, whatever it applied.
class FixedImageStateMachine final : public StateMachine {
 public:
  explicit FixedImageStateMachine(std::size_t image_bytes) : image_bytes_(image_bytes) {}
  Index applied_index() const override { return applied_; }
  void apply(std::span<const Entry> entries) override {
    for (const Entry& e : entries)
      applied_ = e.index;
  }
  Bytes snapshot_image() override { return Bytes(image_bytes_, 'i'); }
  void restore(const Snapshot& s) override { applied_ = s.meta.index; }

 private:
  std::size_t image_bytes_;
  Index applied_ = 0;
};

// A follower of leader 1 (term 2) that is fed committed entries of
// `entry_bytes` each, one append at a time; returns the snapshot index after
// each append. With `stored_image` > 0 its store already holds a snapshot
// of entry 1 that large (a restart).
std::vector<Index> feed(std::size_t image_bytes, std::size_t entry_bytes, int entries,
                        std::size_t stored_image = 0) {
  boost::asio::io_context io;
  MemoryLogStore store;
  REQUIRE(store.write(bootstrap_write(ConfState{{1, 2, 3}, {}})).is_ok());
  if (stored_image > 0) {
    StorageWrite w;
    w.compact = Snapshot{SnapshotMeta{1, 1, ConfState{{1, 2, 3}, {}}}, Bytes(stored_image, 's')};
    REQUIRE(store.write(w).is_ok());
  }
  FixedImageStateMachine sm(image_bytes);
  NullTransport transport;
  Config cfg;
  cfg.id = 2;
  cfg.election_ticks = 1000;  // no election during the test
  NodeOptions opts;
  opts.tick = 10ms;
  opts.snapshot_entries = 10;
  opts.snapshot_small_image_bytes = 100;
  Node node(io, cfg, opts, store, sm, transport);
  node.start();
  std::vector<Index> snapshot_at;
  for (Index i = 2; i < static_cast<Index>(entries) + 2; ++i) {
    Message m{.type = MessageType::kAppend,
              .from = 1,
              .to = 2,
              .term = 2,
              .log_term = i == 2 ? Term{1} : Term{2},
              .index = i - 1,
              .entries = {Entry{2, i, EntryType::kNormal, Bytes(entry_bytes, 'e')}},
              .commit = i};
    transport.deliver(m);
    io.restart();
    io.poll();
    REQUIRE(node.status().applied == i);
    snapshot_at.push_back(node.status().snapshot_index);
  }
  node.stop();
  return snapshot_at;
}

// The distinct snapshot indexes, in order.
std::vector<Index> snapshots(const std::vector<Index>& at) {
  std::vector<Index> out;
  for (Index s : at) {
    if (s != 0 && (out.empty() || out.back() != s)) out.push_back(s);
  }
  return out;
}

TEST_CASE("node snapshots: a small image is retaken every snapshot_entries entries") {
  const std::vector<Index> s = snapshots(feed(/*image*/ 100, /*entry*/ 50, 60));
  REQUIRE(s.size() >= 5);
  for (std::size_t k = 1; k < s.size(); ++k)
    CHECK(s[k] - s[k - 1] == 10);
}

TEST_CASE("node snapshots: a large image waits until the entries since add up to its size") {
  // 1000-byte image, 50-byte entries: after the first snapshot (on the
  // count), one every 20 entries, not every 10.
  const std::vector<Index> s = snapshots(feed(/*image*/ 1000, /*entry*/ 50, 80));
  REQUIRE(s.size() >= 3);
  CHECK(s[0] <= 11);
  for (std::size_t k = 1; k < s.size(); ++k)
    CHECK(s[k] - s[k - 1] == 20);
  // Entries as large as the image: the count rules again.
  const std::vector<Index> big = snapshots(feed(/*image*/ 1000, /*entry*/ 1000, 40));
  REQUIRE(big.size() >= 3);
  for (std::size_t k = 1; k < big.size(); ++k)
    CHECK(big[k] - big[k - 1] == 10);
}

TEST_CASE("node snapshots: after a restart the stored snapshot's size paces the first one") {
  // The stored image is 1000 bytes: the first snapshot of the restarted node
  // waits for 20 entries of 50 bytes, not 10.
  const std::vector<Index> s = snapshots(feed(/*image*/ 1000, /*entry*/ 50, 40, 1000));
  REQUIRE(s.size() >= 2);
  CHECK(s[0] == 1);  // the stored one
  CHECK(s[1] == 21);
  // A small stored image does not hold the count back.
  const std::vector<Index> small = snapshots(feed(/*image*/ 1000, /*entry*/ 50, 20, 50));
  REQUIRE(small.size() >= 2);
  CHECK(small[1] == 11);
}

}  // namespace
}  // namespace raftlock::raft
