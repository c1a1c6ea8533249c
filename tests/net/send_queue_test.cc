// The per-peer send queue (raft/send_queue.h) on its own, and its limits as
// the transport applies them: the newest message is dropped and counted.
#include "raft/send_queue.h"

#include <doctest/doctest.h>

#include "raft/host_port.h"
#include "tests/net/net_harness.h"

namespace raftlock::raft::testing {
namespace {

std::vector<Frame> decode(const std::vector<Bytes>& frames) {
  FrameDecoder d;
  std::vector<Frame> out;
  for (const Bytes& b : frames) {
    d.feed(b);
    Result<std::optional<Frame>> f = d.next();
    REQUIRE(f.is_ok());
    REQUIRE(f.value().has_value());
    out.push_back(*f.value());
  }
  return out;
}

Message snapshot(NodeId from, NodeId to, std::size_t bytes) {
  Message m{.type = MessageType::kSnapshot, .from = from, .to = to, .term = 4};
  m.snapshot.meta = SnapshotMeta{.index = 50, .term = 4, .conf = ConfState{{1, 2, 3}, {}}};
  for (std::size_t k = 0; k < bytes; ++k)
    m.snapshot.data.push_back(static_cast<char>(k % 251));
  return m;
}

TEST_CASE("send queue: a batch is the whole normal lane, then one snapshot frame") {
  SendQueue q(SendQueueLimits{.chunk_bytes = 100});
  const Message snap = snapshot(1, 2, 250);  // three chunks, then the message
  CHECK(q.push(append(1, 2, 0)) == SendQueue::Pushed::kQueued);
  CHECK(q.push(snap) == SendQueue::Pushed::kQueued);
  CHECK(q.push(append(1, 2, 1)) == SendQueue::Pushed::kQueued);
  CHECK(q.frames() == 2);
  CHECK(q.snapshots() == 1);

  std::vector<Bytes> batch;
  CHECK(q.take_batch(batch) == 3);
  std::vector<Frame> f = decode(batch);
  CHECK(f[0] == Frame(append(1, 2, 0)));
  CHECK(f[1] == Frame(append(1, 2, 1)));
  CHECK(std::get<SnapshotChunk>(f[2]).offset == 0);
  CHECK(q.bytes() == 0);

  // Normal messages queued meanwhile go first again.
  q.push(heartbeat(1, 2, 7));
  batch.clear();
  CHECK(q.take_batch(batch) == 2);
  f = decode(batch);
  CHECK(f[0] == Frame(heartbeat(1, 2, 7)));
  CHECK(std::get<SnapshotChunk>(f[1]).offset == 100);

  batch.clear();
  CHECK(q.take_batch(batch) == 1);
  CHECK(q.take_batch(batch) == 1);
  CHECK(q.empty());
  f = decode(batch);
  CHECK(std::get<SnapshotChunk>(f[0]).last);
  CHECK(std::get<Message>(f[1]).type == MessageType::kSnapshot);
  CHECK(std::get<Message>(f[1]).snapshot.data.empty());
}

TEST_CASE("send queue: the snapshot's frames reassemble to the message") {
  SendQueue q(SendQueueLimits{.chunk_bytes = 64});
  const Message snap = snapshot(1, 2, 1000);
  REQUIRE(q.push(snap) == SendQueue::Pushed::kQueued);
  std::vector<Bytes> all;
  while (!q.empty())
    CHECK(q.take_batch(all) == 1);
  CHECK(all.size() == 1000 / 64 + 1 + 1);
  SnapshotAssembler assembler;
  std::vector<Frame> frames = decode(all);
  for (std::size_t k = 0; k + 1 < frames.size(); ++k) {
    REQUIRE(assembler.add(std::get<SnapshotChunk>(frames[k])).is_ok());
  }
  Result<Message> whole = assembler.finish(std::get<Message>(frames.back()));
  REQUIRE(whole.is_ok());
  CHECK(*whole == snap);
}

TEST_CASE("send queue: limits drop the newest") {
  SUBCASE("frames") {
    SendQueue q(SendQueueLimits{.frames_max = 3});
    for (Index k = 0; k < 3; ++k)
      CHECK(q.push(append(1, 2, k)) == SendQueue::Pushed::kQueued);
    CHECK(q.push(append(1, 2, 3)) == SendQueue::Pushed::kFull);
    CHECK(q.frames() == 3);
  }
  SUBCASE("bytes: a big message is refused, a small one still fits") {
    const std::size_t big = encode_message(append(1, 2, 0, {Bytes(1000, 'x')})).value().size();
    SendQueue q(SendQueueLimits{.bytes_max = 2 * big + 200});
    CHECK(q.push(append(1, 2, 0, {Bytes(1000, 'x')})) == SendQueue::Pushed::kQueued);
    CHECK(q.push(append(1, 2, 1, {Bytes(1000, 'x')})) == SendQueue::Pushed::kQueued);
    CHECK(q.push(append(1, 2, 2, {Bytes(1000, 'x')})) == SendQueue::Pushed::kFull);
    CHECK(q.push(heartbeat(1, 2, 3)) == SendQueue::Pushed::kQueued);
    CHECK(q.bytes() <= 2 * big + 200);
  }
  SUBCASE("snapshots") {
    SendQueue q(SendQueueLimits{.snapshots_max = 1, .chunk_bytes = 10});
    CHECK(q.push(snapshot(1, 2, 100)) == SendQueue::Pushed::kQueued);
    CHECK(q.push(snapshot(1, 2, 100)) == SendQueue::Pushed::kFull);
    std::vector<Bytes> batch;
    q.take_batch(batch);  // the first is being sent: it still counts
    CHECK(q.push(snapshot(1, 2, 100)) == SendQueue::Pushed::kFull);
    CHECK(q.drop_partial_snapshot());
    CHECK(q.empty());
    CHECK(q.push(snapshot(1, 2, 100)) == SendQueue::Pushed::kQueued);
  }
  SUBCASE("what the codec refuses") {
    SendQueue q(SendQueueLimits{
        .chunk_bytes = 10, .snapshot_bytes_max = 50, .codec = CodecLimits{.context_bytes_max = 4}});
    std::string why;
    Message m = heartbeat(1, 2, 1);
    m.context = "too long";
    CHECK(q.push(m, &why) == SendQueue::Pushed::kUnencodable);
    CHECK(why.find("context_bytes_max") != std::string::npos);
    CHECK(q.push(snapshot(1, 2, 51), &why) == SendQueue::Pushed::kUnencodable);
    CHECK(why.find("snapshot_bytes_max") != std::string::npos);
    Message s = snapshot(1, 2, 10);
    s.context = "too long";
    CHECK(q.push(s) == SendQueue::Pushed::kUnencodable);
    CHECK(q.empty());
  }
}

TEST_CASE("net: a full queue drops the newest messages and counts them") {
  boost::asio::io_context io;
  TestNode a(io, 1, "test", TcpTransportOptions{.queue_frames_max = 8});
  TestNode b(io, 2);
  a.transport->set_peer(2, b.address());
  // Nothing leaves before the io_context runs: 8 fit, 12 are dropped.
  for (Index k = 0; k < 20; ++k)
    a.transport->send(append(1, 2, k));
  CHECK(a.transport->peer_stats(2).drops_queue_full == 12);
  CHECK(a.transport->peer_stats(2).queued_frames == 8);
  a.transport->send(heartbeat(1, 3, 0));  // no address: dropped too
  a.transport->send(heartbeat(2, 2, 0));  // not from this node
  CHECK(a.transport->stats().drops_no_peer == 1);
  CHECK(a.transport->stats().drops_invalid == 1);
  REQUIRE(run_until(io, [&] { return b.received.size() == 8; }));
  for (Index k = 0; k < 8; ++k)
    CHECK(b.received[k] == append(1, 2, k));
  run_for(io, 50ms);
  CHECK(b.received.size() == 8);
  CHECK(a.transport->peer_stats(2).queued_frames == 0);
}

TEST_CASE("host:port parsing") {
  CHECK(parse_host_port("127.0.0.1:7001").value().host == "127.0.0.1");
  CHECK(parse_host_port("127.0.0.1:7001").value().port == 7001);
  CHECK(parse_host_port("[::1]:0").value().host == "::1");
  CHECK(parse_host_port("node-a.example:65535").value().port == 65535);
  for (const char* bad : {"", "nohost", ":80", "h:", "h:65536", "h:12a", "h:-1", "[]:1"}) {
    CAPTURE(bad);
    CHECK(parse_host_port(bad).code() == ErrorCode::kInvalidArgument);
  }
  CHECK(format_host_port("::1", 7) == "[::1]:7");
  CHECK(format_host_port("10.0.0.1", 7) == "10.0.0.1:7");
}

}  // namespace
}  // namespace raftlock::raft::testing
