// The inbound half of the TCP transport: one connection a peer dialed to this
// node. It checks the peer's Handshake (cluster name, receiver id, protocol
// version), answers it, and then decodes the peer's frames, reassembles
// chunked snapshots and hands each Message to the message handler.
//
// Nothing from a connection reaches the handler unless the handshake was
// accepted and the frame passed every check: a frame the decoder refuses, a
// message or chunk not from the handshake's sender or not to this node, or a
// frame of a type the peer may not send here, closes the connection, logged
// with the reason. A refused handshake is answered with the reason, logged,
// and the connection closed.
//
// Single-threaded, on the context's io_context; handlers keep the connection
// alive (shared_from_this) and do nothing once it is closed.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raft/codec.h"
#include "raft/transport_context.h"

namespace raftlock::raft {

class InboundConnection : public std::enable_shared_from_this<InboundConnection> {
 public:
  // REQUIRES: ctx outlives every call of a public member function.
  InboundConnection(TransportContext& ctx, std::uint64_t id, boost::asio::ip::tcp::socket socket);

  std::uint64_t id() const { return id_; }
  // The peer, once its handshake was accepted; kNoNode before.
  NodeId sender() const { return sender_; }

  // Starts the handshake deadline and reading.
  void start();
  // Closes the connection (idempotent) and tells ctx.on_inbound_closed.
  void close(const std::string& why, LogLevel level);

 private:
  void read();
  // Handles one decoded frame; false once the connection is closed.
  bool on_frame(Frame f);
  bool on_handshake(const Handshake& h);
  bool on_message(Message m);
  bool on_chunk(SnapshotChunk c);
  // Reasons to refuse a handshake; empty if it is acceptable.
  std::string check(const Handshake& h) const;
  void respond(const HandshakeResponse& r);
  // A bad frame: counts it and closes the connection.
  void reject(const std::string& why);
  // Counts the bytes read so far as the sender's, once it is known.
  void attribute_bytes();
  std::string describe() const;

  TransportContext& ctx_;
  const std::uint64_t id_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;  // for the handshake, then for the refusal
  std::string remote_;                  // the peer's endpoint, for logs
  FrameDecoder decoder_;
  SnapshotAssembler assembler_;
  std::vector<char> read_buf_;
  Bytes response_;  // the HandshakeResponse being written
  NodeId sender_ = kNoNode;
  std::uint64_t unattributed_bytes_ = 0;
  bool refused_ = false;
  bool closed_ = false;
};

}  // namespace raftlock::raft
