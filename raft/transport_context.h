// What the parts of one TcpTransport (tcp_transport.h) share: its options, its
// statistics, and the context its connections run in — the io_context, this
// node's identity, the logger and the handlers. Plain data: the transport owns
// one TransportContext and its PeerLinks and InboundConnections refer to it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "raft/codec.h"
#include "raft/logger.h"
#include "raft/transport.h"
#include "raft/types.h"

namespace raftlock::raft {

struct TcpTransportOptions {
  // Per peer, the normal lane: every message but kSnapshot, as encoded frames.
  // When either limit would be exceeded the newest message is dropped.
  std::size_t queue_frames_max = 4096;
  std::size_t queue_bytes_max = 64u << 20;  // one frame of kFrameBytesMax fits
  // Per peer, the snapshot lane: kSnapshot messages waiting or being sent, in
  // chunks of snapshot_chunk_bytes (at most one chunk per write).
  std::size_t snapshot_queue_max = 2;
  std::size_t snapshot_chunk_bytes = 256u << 10;
  // Reconnection: the first retry after backoff_initial, doubling up to
  // backoff_max; back to backoff_initial once a handshake is accepted.
  std::chrono::milliseconds backoff_initial{20};
  std::chrono::milliseconds backoff_max{1000};
  // Outbound: resolve + connect + the peer's HandshakeResponse.
  std::chrono::milliseconds dial_timeout{3000};
  // Outbound, once connected: a connection whose written data stays
  // unacknowledged this long is closed (TCP_USER_TIMEOUT), so that a peer
  // that vanished is redialed in seconds, not after TCP's ~15 minutes of
  // retransmissions. 0 leaves the system's default.
  std::chrono::milliseconds unacked_timeout{5000};
  // Inbound: the Handshake must arrive (and the refusal be written) in time.
  std::chrono::milliseconds handshake_timeout{3000};
  std::size_t inbound_connections_max = 256;
  std::size_t read_buffer_bytes = 64u << 10;
  CodecLimits limits;
  std::uint64_t snapshot_bytes_max = kSnapshotBytesMax;  // a reassembled snapshot
};

// Counters for one peer, both directions. Monotonic, except the queue gauges,
// which TcpTransport::peer_stats fills in when asked.
struct PeerStats {
  // Outbound connections to the peer.
  std::uint64_t frames_sent = 0;  // written to the socket: handshakes and chunks too
  std::uint64_t bytes_sent = 0;
  std::uint64_t writes = 0;    // gather writes: frames_sent / writes frames coalesced per write
  std::uint64_t connects = 0;  // handshakes the peer accepted
  std::uint64_t dial_failures = 0;       // resolve, connect, timeout or refusal
  std::uint64_t handshake_refusals = 0;  // the peer refused our handshake
  std::uint64_t disconnects = 0;         // established connections lost
  std::uint64_t drops_queue_full = 0;    // newest message dropped at a queue limit
  std::uint64_t drops_unencodable = 0;   // the codec refused the message
  std::uint64_t drops_disconnected = 0;  // frames of a failed write, partly sent snapshots
  // Inbound connections from the peer, once its handshake was accepted.
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_delivered = 0;  // to the message handler
  std::uint64_t decode_errors = 0;       // bad frames and protocol violations
  // Gauges.
  std::uint64_t queued_frames = 0;
  std::uint64_t queued_bytes = 0;
  std::uint64_t queued_snapshots = 0;
};

// Counters for the transport as a whole.
struct TransportStats {
  std::uint64_t accepted = 0;             // inbound connections accepted
  std::uint64_t rejected_over_limit = 0;  // closed at once: inbound_connections_max
  std::uint64_t handshakes_refused = 0;   // inbound handshakes this node refused
  std::uint64_t decode_errors = 0;        // bad frames on inbound connections, all senders
  std::uint64_t drops_no_peer = 0;        // send() to a peer with no known address
  std::uint64_t drops_invalid = 0;        // send() of a message not from this node
};

struct TransportContext {
  TransportContext(boost::asio::io_context& io, NodeId self, std::string cluster,
                   std::string peer_address, std::string http_address, Logger& log,
                   TcpTransportOptions options)
      : io(io),
        self(self),
        cluster(std::move(cluster)),
        peer_address(std::move(peer_address)),
        http_address(std::move(http_address)),
        log(log),
        options(std::move(options)) {}

  boost::asio::io_context& io;
  const NodeId self;
  const std::string cluster;
  std::string peer_address;  // advertised in handshakes; listen() may fill in the port
  const std::string http_address;
  Logger& log;
  const TcpTransportOptions options;

  Transport::MessageHandler on_message;
  Transport::UnreachableHandler on_unreachable;
  // Set by TcpTransport: an inbound connection accepted a handshake, or closed.
  std::function<void(const Handshake&, std::uint64_t connection)> on_inbound_handshake;
  std::function<void(std::uint64_t connection)> on_inbound_closed;

  TransportStats stats;
  std::map<NodeId, PeerStats> peers;
  PeerStats& peer(NodeId id) { return peers[id]; }
};

}  // namespace raftlock::raft
