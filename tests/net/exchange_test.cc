// TcpTransport carrying messages between two and three nodes on loopback:
// order, content, pipelining, what a handshake teaches the receiver, and
// reconnection after a peer restarts.
#include <doctest/doctest.h>

#include <map>

#include "tests/net/net_harness.h"

namespace raftlock::raft::testing {
namespace {

// Every message in `got` is append(from, to, k) for k = 0, 1, ... in order.
void check_in_order(const std::vector<Message>& got, NodeId from, NodeId to, std::size_t n) {
  REQUIRE(got.size() == n);
  for (std::size_t k = 0; k < n; ++k) {
    CAPTURE(k);
    REQUIRE(got[k] == append(from, to, k));
  }
}

TEST_CASE("net: two transports exchange many messages in order, pipelined") {
  boost::asio::io_context io;
  TestNode a(io, 1), b(io, 2);
  a.transport->set_peer(2, b.address());
  b.transport->set_peer(1, a.address());

  constexpr std::size_t kCount = 2000;
  // A burst queued before the connection is up leaves in one gather write.
  for (std::size_t k = 0; k < kCount / 2; ++k)
    a.transport->send(append(1, 2, k));
  // Then sends interleaved with the io_context, while writes are in flight.
  for (std::size_t k = 0; k < kCount; ++k) {
    if (k >= kCount / 2) a.transport->send(append(1, 2, k));
    b.transport->send(append(2, 1, k));
    if (k % 50 == 0) io.poll();
  }
  // The counters move when a write completes, which may be after the peer read it.
  REQUIRE(run_until(io, [&] {
    return a.received.size() == kCount && b.received.size() == kCount &&
           a.transport->peer_stats(2).frames_sent == kCount + 1 &&
           b.transport->peer_stats(1).frames_sent == kCount + 1;
  }));
  check_in_order(b.received, 1, 2, kCount);
  check_in_order(a.received, 2, 1, kCount);

  const PeerStats ab = a.transport->peer_stats(2);
  CHECK(ab.frames_sent == kCount + 1);  // and the handshake
  CHECK(ab.connects == 1);
  CHECK(ab.writes < ab.frames_sent / 4);  // frames were coalesced
  CHECK(ab.drops_queue_full == 0);
  CHECK(ab.queued_frames == 0);
  const PeerStats ba = b.transport->peer_stats(1);
  CHECK(ba.messages_delivered == kCount);
  CHECK(ba.frames_received == kCount + 1);
  CHECK(ba.bytes_received == ab.bytes_sent);
  CHECK(a.unreachable.empty());
  CHECK(b.unreachable.empty());
}

TEST_CASE("net: three transports, every pair, in order") {
  boost::asio::io_context io;
  std::map<NodeId, std::unique_ptr<TestNode>> nodes;
  for (NodeId id : {1, 2, 3})
    nodes[id] = std::make_unique<TestNode>(io, id);
  for (auto& [id, n] : nodes) {
    for (auto& [other, o] : nodes) {
      if (other != id) n->transport->set_peer(other, o->address());
    }
  }
  constexpr std::size_t kCount = 500;
  for (std::size_t k = 0; k < kCount; ++k) {
    for (auto& [id, n] : nodes) {
      for (NodeId to : {1, 2, 3}) {
        if (to != id) n->transport->send(append(id, to, k));
      }
    }
    if (k % 25 == 0) io.poll();
  }
  REQUIRE(run_until(io, [&] {
    for (auto& [id, n] : nodes) {
      if (n->received.size() != 2 * kCount) return false;
    }
    return true;
  }));
  for (auto& [id, n] : nodes) {
    for (NodeId from : {1, 2, 3}) {
      if (from != id) check_in_order(n->from(from), from, id, kCount);
    }
  }
}

TEST_CASE("net: entries with data round-trip intact") {
  boost::asio::io_context io;
  TestNode a(io, 1), b(io, 2);
  a.transport->set_peer(2, b.address());

  Bytes binary;
  for (int k = 0; k < 4096; ++k)
    binary.push_back(static_cast<char>(k * 7 % 256));
  Message m = append(1, 2, 10, {"", std::string("\0\xff\x01zero", 7), binary, Bytes(1 << 20, 'e')});
  m.entries[0].type = EntryType::kNoop;
  m.entries[1].type = EntryType::kConfChange;
  Message propose{.type = MessageType::kPropose, .from = 1, .to = 2};
  propose.entries.push_back(Entry{.data = "acquire lock-a"});
  Message read{.type = MessageType::kReadIndex, .from = 1, .to = 2, .context = "read-42"};
  Message vote{.type = MessageType::kVote,
               .from = 1,
               .to = 2,
               .term = 9,
               .log_term = 8,
               .index = 77,
               .context = "transfer"};
  Message resp{.type = MessageType::kAppendResp,
               .from = 1,
               .to = 2,
               .term = 9,
               .index = 5,
               .reject = true,
               .reject_hint = 4,
               .hint_term = 2};
  const std::vector<Message> sent = {m, propose, read, vote, resp};
  for (const Message& s : sent)
    a.transport->send(s);
  REQUIRE(run_until(io, [&] { return b.received.size() == sent.size(); }));
  CHECK(b.received == sent);
}

TEST_CASE("net: the receiver learns the sender's http address from the handshake") {
  boost::asio::io_context io;
  TestNode a(io, 1), b(io, 2);
  CHECK_FALSE(b.transport->peer_http(1).has_value());
  a.transport->set_peer(2, b.address());
  a.transport->send(heartbeat(1, 2, 1));
  REQUIRE(run_until(io, [&] { return b.received.size() == 1; }));
  CHECK(b.transport->peer_http(1) == std::optional<std::string>("127.0.0.1:8001"));
  CHECK_FALSE(a.transport->peer_http(2).has_value());  // b never dialed a
  // b knew no address for a: it learned the advertised one.
  CHECK(b.transport->peer_address(1) == std::optional<std::string>(a.address()));
  CHECK(a.transport->advertised_peer_address() == a.address());
}

TEST_CASE("net: a node unknown to the receiver gets replies after its handshake") {
  boost::asio::io_context io;
  TestNode a(io, 1), joined(io, 7);
  // a answers every heartbeat; it was never told where node 7 is.
  a.on_message = [&](const Message& m) {
    a.transport->send(Message{.type = MessageType::kHeartbeatResp,
                              .from = 1,
                              .to = m.from,
                              .term = m.term,
                              .context = m.context});
  };
  CHECK_FALSE(a.transport->peer_address(7).has_value());
  joined.transport->set_peer(1, a.address());
  Message hb = heartbeat(7, 1, 0);
  hb.context = "ping";
  joined.transport->send(hb);
  REQUIRE(run_until(io, [&] { return joined.received.size() == 1; }));
  CHECK(joined.received[0].type == MessageType::kHeartbeatResp);
  CHECK(joined.received[0].from == 1);
  CHECK(joined.received[0].context == "ping");
  CHECK(a.transport->peer_address(7) == std::optional<std::string>(joined.address()));
  CHECK(a.transport->peer_http(7) == std::optional<std::string>("127.0.0.1:8007"));
  CHECK(a.transport->stats().drops_no_peer == 0);
}

TEST_CASE("net: a configured address is not replaced by an advertised one") {
  boost::asio::io_context io;
  TestNode a(io, 1), b(io, 2);
  b.transport->set_peer(1, "127.0.0.1:1");  // what b's configuration says, right or not
  a.transport->set_peer(2, b.address());
  a.transport->send(heartbeat(1, 2, 1));
  REQUIRE(run_until(io, [&] { return b.received.size() == 1; }));
  CHECK(b.transport->peer_address(1) == std::optional<std::string>("127.0.0.1:1"));
}

TEST_CASE("net: set_peer with a new address redials there at once") {
  boost::asio::io_context io;
  // After a failed dial a would wait 60 s before the next one.
  TestNode a(io, 1, "test", TcpTransportOptions{.backoff_initial = 60s, .backoff_max = 60s});
  TestNode b(io, 2);
  // A port nothing listens on: that of a transport stopped at once.
  auto gone = std::make_unique<TestNode>(io, 3);
  const std::string nowhere = gone->address();
  gone.reset();
  a.transport->set_peer(2, nowhere);
  a.transport->send(append(1, 2, 0));
  REQUIRE(run_until(io, [&] { return a.transport->peer_stats(2).dial_failures == 1; }));
  a.transport->set_peer(2, b.address());
  REQUIRE(run_until(io, [&] { return b.received.size() == 1; }));
  CHECK(b.received[0] == append(1, 2, 0));
  CHECK(a.transport->peer_address(2) == std::optional<std::string>(b.address()));
}

TEST_CASE("net: a peer restarted on the same port is reconnected") {
  boost::asio::io_context io;
  TestNode a(io, 1);
  auto b = std::make_unique<TestNode>(io, 2);
  const std::uint16_t port = b->port();
  a.transport->set_peer(2, b->address());
  a.transport->send(append(1, 2, 0));
  REQUIRE(run_until(io, [&] { return b->received.size() == 1; }));

  b.reset();  // stops: a's connection is closed under it
  // What a writes before it sees the close would be lost, as with any TCP
  // peer that dies; wait until it has seen it.
  REQUIRE(run_until(io, [&] { return a.transport->peer_stats(2).disconnects == 1; }));
  a.transport->send(append(1, 2, 1));  // queued; the dial fails while b is down
  REQUIRE(run_until(io, [&] { return !a.unreachable.empty(); }));
  CHECK(a.unreachable.front() == 2);
  CHECK(a.transport->peer_stats(2).dial_failures >= 1);

  b = std::make_unique<TestNode>(io, 2, "test", TcpTransportOptions{}, port);
  REQUIRE(run_until(io, [&] { return b->received.size() == 1; }));  // the queued one
  CHECK(b->received[0] == append(1, 2, 1));
  for (Index k = 2; k < 100; ++k)
    a.transport->send(append(1, 2, k));
  REQUIRE(run_until(io, [&] { return b->received.size() == 99; }));
  for (Index k = 1; k < 100; ++k)
    CHECK(b->received[k - 1] == append(1, 2, k));
  CHECK(a.transport->peer_stats(2).connects == 2);
}

}  // namespace
}  // namespace raftlock::raft::testing
