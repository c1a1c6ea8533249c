// The outbound half of the TCP transport for one peer: one connection, dialed
// when there is something to send, that opens with a Handshake and carries
// this node's messages to the peer once the peer has accepted it.
//
// A failed dial, a refused handshake or a lost connection closes the socket and
// retries after an exponential backoff; the unreachable handler hears of it
// when messages were waiting (Raft then probes the peer gently, §5.3). Writes
// are pipelined: while one is in flight the queue fills, and the next write
// takes everything queued in one gather write (send_queue.h).
//
// Single-threaded: every call and handler runs on the context's io_context.
// Handlers keep the link alive (shared_from_this) and ignore completions of
// connections closed since (a generation count), so shutdown() is final and
// safe at any point.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "raft/codec.h"
#include "raft/send_queue.h"
#include "raft/transport_context.h"

namespace raftlock::raft {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  // REQUIRES: ctx outlives every call of a public member function.
  PeerLink(TransportContext& ctx, NodeId peer, std::string address);

  NodeId peer() const { return peer_; }
  const std::string& address() const { return address_; }
  const SendQueue& queue() const { return queue_; }

  // Queues `m` (REQUIRES: m.to == peer()) and dials if no connection is up or
  // being set up. Drops, and counts, what the queue refuses.
  void send(const Message& m);
  // send() in two halves: queue() only queues (false if it dropped `m`);
  // flush() then dials or writes what is queued.
  bool queue(const Message& m);
  void flush();

  // Points the link at a new address: closes the connection to the old one
  // and dials the new one at once if messages are waiting.
  void set_address(std::string address);

  // Closes the connection and drops the queue; the link does nothing more.
  void shutdown();

 private:
  enum class State { kIdle, kConnecting, kHandshaking, kReady, kBackoff, kStopped };

  void dial();
  void connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints);
  void on_connected();
  void read();
  void on_frame(Frame f);
  void maybe_write();
  void write();
  // Closes the connection after a failure: logs `why`, backs off, and tells
  // the unreachable handler if anything was waiting or in flight.
  void fail(const std::string& why, bool refused = false);
  // Closes the socket, cancels what runs on it, forgets the write in flight.
  void close_connection();
  void start_backoff();
  std::string describe() const;

  TransportContext& ctx_;
  const NodeId peer_;
  std::string address_;
  PeerStats& stats_;
  SendQueue queue_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;  // the dial deadline, or the backoff
  State state_ = State::kIdle;
  std::uint64_t generation_ = 0;  // bumped when a connection attempt starts or ends
  FrameDecoder decoder_;
  std::vector<char> read_buf_;
  std::vector<Bytes> writing_;  // the frames of the write in flight
  bool write_in_flight_ = false;
  std::chrono::milliseconds backoff_;
  bool failing_ = false;  // a failure was logged at warn since the last handshake
};

}  // namespace raftlock::raft
