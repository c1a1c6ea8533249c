// Snapshots over the TCP transport: sent in chunks on a lane of their own, so a
// large transfer does not hold back heartbeats and appends (no head-of-line
// blocking), and reassembled intact by the receiver.
#include <doctest/doctest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <limits>
#include <optional>
#include <variant>

#include "tests/net/net_harness.h"

namespace raftlock::raft::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

Message big_snapshot(NodeId from, NodeId to, std::size_t bytes) {
  Message m{.type = MessageType::kSnapshot, .from = from, .to = to, .term = 5};
  m.snapshot.meta = SnapshotMeta{.index = 1000, .term = 5, .conf = ConfState{{1, 2, 3}, {4}}};
  m.snapshot.data.resize(bytes);
  std::uint64_t x = 0x9E3779B97F4A7C15ull;  // xorshift: bytes that a shifted copy would not match
  for (char& c : m.snapshot.data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return m;
}

TEST_CASE("net: an 8 MiB snapshot arrives intact while heartbeats overtake it") {
  boost::asio::io_context io;
  TestNode a(io, 1), b(io, 2);  // default chunks: 256 KiB, so 32 of them
  a.transport->set_peer(2, b.address());
  const Message snap = big_snapshot(1, 2, 8u << 20);

  std::size_t heartbeats = 0;
  std::size_t heartbeats_before_snapshot = std::numeric_limits<std::size_t>::max();
  b.on_message = [&](const Message& m) {
    if (m.type == MessageType::kSnapshot) {
      heartbeats_before_snapshot = heartbeats;
    } else {
      ++heartbeats;
    }
  };
  const auto got_snapshot = [&] {
    return heartbeats_before_snapshot != std::numeric_limits<std::size_t>::max();
  };

  // The snapshot first, then a heartbeat after every handler that runs until
  // it has arrived: every one of them is sent after the snapshot. Each write
  // carries at most one chunk and every heartbeat queued by then, so at least
  // one heartbeat precedes each of the 32 chunks after the first. With one
  // FIFO lane, none could arrive before the snapshot.
  a.transport->send(snap);
  Index sent = 0;
  a.transport->send(heartbeat(1, 2, sent++));
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!got_snapshot() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(10ms);
    if (!got_snapshot() && sent < 3000) a.transport->send(heartbeat(1, 2, sent++));
  }
  REQUIRE(got_snapshot());
  // Handshake, heartbeats, 32 chunks and the message; counted as writes complete.
  const std::uint64_t frames = 1 + sent + 32 + 1;
  REQUIRE(run_until(
      io, [&] { return heartbeats == sent && a.transport->peer_stats(2).frames_sent == frames; }));

  CAPTURE(sent);
  CHECK(heartbeats_before_snapshot >= 16);
  Index commit = 0;
  for (const Message& m : b.received) {
    if (m.type == MessageType::kSnapshot) {
      CHECK(m == snap);
    } else {
      CHECK(m == heartbeat(1, 2, commit++));  // the normal lane stays in order
    }
  }
  CHECK(a.transport->peer_stats(2).queued_snapshots == 0);
  CHECK(b.transport->peer_stats(1).decode_errors == 0);
}

TEST_CASE("net: snapshots in small chunks, one after another") {
  boost::asio::io_context io;
  TestNode a(io, 1, "test", TcpTransportOptions{.snapshot_chunk_bytes = 1000});
  TestNode b(io, 2);
  a.transport->set_peer(2, b.address());
  const Message first = big_snapshot(1, 2, 10'000);
  Message second = big_snapshot(1, 2, 0);  // an empty image is one empty chunk
  second.snapshot.meta.index = 2000;
  a.transport->send(first);
  a.transport->send(second);
  a.transport->send(big_snapshot(1, 2, 10));  // the lane holds two: dropped
  CHECK(a.transport->peer_stats(2).drops_queue_full == 1);
  REQUIRE(run_until(io, [&] { return b.received.size() == 2; }));
  CHECK(b.received[0] == first);
  CHECK(b.received[1] == second);
}

// A receiver that speaks raw bytes: it accepts connections, accepts their
// handshake, and then reads on only if told to — a peer that stalls.
struct StallingPeer {
  explicit StallingPeer(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }
  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;
      socket.emplace(std::move(s));
      decoder = FrameDecoder();
      frames.clear();
      read();
      accept();
    });
  }
  void read() {
    socket->async_read_some(
        asio::buffer(buf), [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return;
          decoder.feed(buf, n);
          for (Result<std::optional<Frame>> f = decoder.next(); f.is_ok() && f.value();
               f = decoder.next()) {
            frames.push_back(*f.value());
            if (std::holds_alternative<Handshake>(frames.back())) {
              asio::write(*socket,
                          asio::buffer(encode_frame(HandshakeResponse{.accepted = true}).value()));
            }
          }
          if (frames.empty() || read_after_handshake) read();
        });
  }

  tcp::acceptor acceptor;
  std::optional<tcp::socket> socket;
  FrameDecoder decoder;
  std::vector<Frame> frames;  // of the current connection
  bool read_after_handshake = false;
  char buf[65536];
};

TEST_CASE("net: a snapshot cut off by a lost connection is dropped, not resumed") {
  asio::io_context io;
  TestNode a(io, 1);
  StallingPeer peer(io);
  a.transport->set_peer(2, peer.address());
  a.transport->send(big_snapshot(1, 2, 16u << 20));
  // The peer reads nothing after the handshake: the kernel's buffers (a few
  // MiB) take the first chunks, and the writer then waits.
  REQUIRE(run_until(io, [&] { return peer.frames.size() == 1; }));
  run_for(io, 50ms);
  CHECK(a.received.empty());
  peer.socket->close();  // with unread data: the writer's connection is reset
  REQUIRE(run_until(
      io, [&] { return a.transport->peer_stats(2).disconnects == 1 && !a.unreachable.empty(); }));
  CHECK(a.transport->peer_stats(2).drops_disconnected >= 1);
  CHECK(a.transport->peer_stats(2).queued_snapshots == 0);

  // On the next connection the rest of the snapshot does not follow: the
  // receiver's reassembly started over, and would refuse it.
  peer.read_after_handshake = true;
  a.transport->send(heartbeat(1, 2, 9));
  REQUIRE(run_until(io, [&] { return peer.frames.size() == 2; }));
  CHECK(std::holds_alternative<Handshake>(peer.frames[0]));
  CHECK(peer.frames[1] == Frame(heartbeat(1, 2, 9)));
  run_for(io, 50ms);
  CHECK(peer.frames.size() == 2);
}

}  // namespace
}  // namespace raftlock::raft::testing
