// TcpTransport: the Transport (transport.h) that carries the peer protocol
// (codec.h, docs/protocol.md) over TCP with Boost.Asio.
//
// Each node listens for its peers' connections and dials one connection to
// each peer it sends to; messages flow one way on a connection, from the node
// that dialed it, after a handshake the receiver accepted. So two nodes that
// talk use two connections, and a node that does not know a sender's address
// learns it from the sender's handshake and can reply.
//
//   - inbound (inbound_connection.h): the first frame must be a Handshake
//     naming this cluster and this node; then Raft messages, with kSnapshot
//     data in chunks; a bad frame closes the connection, logged.
//   - outbound (peer_link.h): dialed on demand, handshake first, reconnect
//     with exponential backoff, bounded per-peer queues in two lanes so that a
//     snapshot transfer never stalls heartbeats and appends (send_queue.h).
//
// Single-threaded: every handler runs on the io_context given to the
// constructor, and every member function must be called from it (or before it
// runs). No locks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "raft/logger.h"
#include "raft/result.h"
#include "raft/transport.h"
#include "raft/transport_context.h"

namespace raftlock::raft {

class InboundConnection;
class PeerLink;

class TcpTransport final : public Transport {
 public:
  // `peer_address` ("host:port") is what this node tells its peers to dial;
  // if empty or with port 0, listen() fills it in from the bound endpoint.
  // `http_address` is the client-facing address it advertises.
  // REQUIRES: io and log outlive the transport; self != kNoNode.
  TcpTransport(boost::asio::io_context& io, NodeId self, std::string cluster,
               std::string peer_address, std::string http_address, Logger& log,
               TcpTransportOptions options = {});
  ~TcpTransport() override;  // stop()

  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Binds host:port (port 0: a free port, see port()) and accepts peers.
  // kIo with the system's reason if it cannot. REQUIRES: called once.
  Status listen(const std::string& host, std::uint16_t port);
  // The bound port; 0 before listen().
  std::uint16_t port() const { return port_; }
  // Closes the listener and every connection, drops every queue; no handler
  // runs afterwards. Idempotent; send() and set_peer() do nothing after it.
  void stop();

  // Transport.
  void send(const Message& m) override;
  void hold() override { holding_ = true; }
  void release() override;
  void set_peer(NodeId id, const std::string& address) override;
  void remove_peer(NodeId id) override;
  void set_handlers(MessageHandler on_message, UnreachableHandler on_unreachable) override;

  // The HTTP address a peer advertised in its latest accepted handshake.
  std::optional<std::string> peer_http(NodeId id) const;
  // The address this node dials for a peer: configured, or learned from the
  // peer's handshake when none was configured.
  std::optional<std::string> peer_address(NodeId id) const;
  const std::string& advertised_peer_address() const { return ctx_.peer_address; }

  const TransportStats& stats() const { return ctx_.stats; }
  // One peer's counters, with its current queue lengths; zeros if unknown.
  PeerStats peer_stats(NodeId id) const;
  // Every peer's counters, by id.
  std::map<NodeId, PeerStats> all_peer_stats() const;

 private:
  void accept();
  void on_inbound_handshake(const Handshake& h, std::uint64_t connection);

  TransportContext ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // after an accept error (e.g. out of descriptors)
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::map<NodeId, std::shared_ptr<PeerLink>> links_;
  bool holding_ = false;                         // hold(): queue only
  std::vector<std::shared_ptr<PeerLink>> held_;  // links with messages queued since hold()
  std::map<std::uint64_t, std::shared_ptr<InboundConnection>> inbound_;
  std::uint64_t next_connection_ = 1;
  std::map<NodeId, std::string> peer_http_;
  // Handlers of the acceptor check it: the transport may be gone when they run.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace raftlock::raft
