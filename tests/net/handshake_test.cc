// What an inbound connection refuses: handshakes for another cluster or
// another node, and every bad frame — garbage, damaged frames, messages not
// from the handshake's sender, frames out of place. Nothing from a refused
// handshake or a bad frame reaches the message handler; the reason is logged.
#include <doctest/doctest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "raft/codec.h"
#include "tests/net/net_harness.h"

namespace raftlock::raft::testing {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A peer that speaks raw bytes: it writes what a test gives it and records
// what it reads until the transport closes the connection.
struct RawPeer {
  RawPeer(asio::io_context& io, std::uint16_t port) : socket(io) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    read();
  }
  void write(const Bytes& b) { asio::write(socket, asio::buffer(b)); }
  void read() {
    socket.async_read_some(asio::buffer(buf),
                           [this](const boost::system::error_code& ec, std::size_t n) {
                             if (ec) {
                               closed = true;
                               return;
                             }
                             got.append(buf, n);
                             read();
                           });
  }
  // The frames the transport sent, decoded.
  std::vector<Frame> frames() const {
    FrameDecoder d;
    d.feed(got);
    std::vector<Frame> out;
    for (Result<std::optional<Frame>> f = d.next(); f.is_ok() && f.value(); f = d.next()) {
      out.push_back(*f.value());
    }
    return out;
  }

  tcp::socket socket;
  char buf[4096];
  std::string got;
  bool closed = false;
};

Bytes encode(const Frame& f) {
  Result<Bytes> b = encode_frame(f);
  REQUIRE(b.is_ok());
  return std::move(b).value();
}

Bytes handshake(NodeId sender, NodeId receiver, const std::string& cluster = "test") {
  return encode(Handshake{.cluster = cluster,
                          .sender = sender,
                          .receiver = receiver,
                          .http_address = "h:1",
                          .peer_address = ""});
}

const Frame kAccepted = HandshakeResponse{.accepted = true};

TEST_CASE("net: a handshake naming another cluster is refused, the reason logged") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1, "alpha"), b(io, 2, "beta");
  a.transport->set_peer(2, b.address());
  a.transport->send(heartbeat(1, 2, 1));
  // Refused again on every retry, with backoff; the queued message is reported.
  REQUIRE(run_until(io, [&] {
    return a.transport->peer_stats(2).handshake_refusals >= 2 && !a.unreachable.empty();
  }));
  CHECK(b.received.empty());
  CHECK(b.transport->stats().handshakes_refused >= 2);
  CHECK(a.transport->peer_stats(2).connects == 0);
  CHECK(a.unreachable.front() == 2);
  CHECK_FALSE(b.transport->peer_http(1).has_value());
  const std::string reason = "cluster name \"alpha\" differs from this node's \"beta\"";
  CHECK(log.contains("refused the handshake of node 1 from 127.0.0.1:"));                  // by b
  CHECK(log.contains("node 2 at " + b.address() + ": refused the handshake: " + reason));  // to a
}

TEST_CASE("net: a handshake naming another receiver is refused, the reason logged") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1), b(io, 2);
  a.transport->set_peer(3, b.address());  // a wrong configuration: b is node 2
  a.transport->send(heartbeat(1, 3, 1));
  REQUIRE(run_until(io, [&] { return a.transport->peer_stats(3).handshake_refusals >= 1; }));
  run_for(io, 100ms);
  CHECK(b.received.empty());
  CHECK(b.transport->stats().handshakes_refused >= 1);
  CHECK(log.contains("refused the handshake: receiver id 3 is not this node's id 2"));
}

TEST_CASE("net: a connection sending garbage is closed; nothing reaches the handler") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1);
  RawPeer raw(io, a.port());
  raw.write("GET / HTTP/1.1\r\nHost: raftlock\r\n\r\n");
  REQUIRE(run_until(io, [&] { return raw.closed; }));
  CHECK(raw.got.empty());  // not even a handshake response
  CHECK(a.received.empty());
  CHECK(a.transport->stats().decode_errors == 1);
  CHECK(log.contains("bad frame: frame header: bad magic"));
}

TEST_CASE("net: bad frames after an accepted handshake close the connection") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1);
  const Bytes good = encode(heartbeat(5, 1, 1));
  Bytes bad;
  std::string why;
  SUBCASE("a damaged CRC") {
    bad = good;
    bad[15] = static_cast<char>(bad[15] ^ 1);
    why = "payload CRC-32C";
  }
  SUBCASE("a message not from the handshake's sender") {
    bad = encode(heartbeat(6, 1, 1));
    why = "Heartbeat from node 6 to node 1 on a connection from node 5";
  }
  SUBCASE("a message to another node") {
    bad = encode(heartbeat(5, 9, 1));
    why = "from node 5 to node 9";
  }
  SUBCASE("a second handshake") {
    bad = handshake(5, 1);
    why = "unexpected Handshake frame";
  }
  SUBCASE("a snapshot chunk that continues nothing") {
    bad = encode(SnapshotChunk{.from = 5,
                               .to = 1,
                               .term = 3,
                               .index = 9,
                               .offset = 4,
                               .total = 8,
                               .last = true,
                               .data = "abcd"});
    why = "does not continue any transfer";
  }
  CAPTURE(why);
  RawPeer raw(io, a.port());
  raw.write(handshake(5, 1) + good + bad + good);
  REQUIRE(run_until(io, [&] { return raw.closed; }));
  CHECK(raw.frames() == std::vector<Frame>{kAccepted});
  // The good frame before the bad one arrives; nothing after it.
  REQUIRE(a.received.size() == 1);
  CHECK(a.received[0] == heartbeat(5, 1, 1));
  CHECK(a.transport->peer_stats(5).decode_errors == 1);
  CHECK(a.transport->stats().decode_errors == 1);
  CHECK(log.contains(why));
}

TEST_CASE("net: a message before the handshake closes the connection") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1);
  RawPeer raw(io, a.port());
  raw.write(encode(heartbeat(5, 1, 1)) + handshake(5, 1));
  REQUIRE(run_until(io, [&] { return raw.closed; }));
  CHECK(raw.got.empty());
  CHECK(a.received.empty());
  CHECK(log.contains("expected a Handshake, got a Heartbeat frame"));
}

TEST_CASE("net: a silent connection is closed after the handshake timeout") {
  StderrCapture log;
  asio::io_context io;
  TestNode a(io, 1, "test", TcpTransportOptions{.handshake_timeout = 50ms});
  RawPeer raw(io, a.port());
  REQUIRE(run_until(io, [&] { return raw.closed; }));
  CHECK(log.contains("no handshake within 50 ms"));
}

}  // namespace
}  // namespace raftlock::raft::testing
