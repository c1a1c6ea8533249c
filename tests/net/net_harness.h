// Helpers for the transport tests: a node that is just a TcpTransport on
// 127.0.0.1 recording what it receives, a loop that runs the io_context until
// a condition holds (generous deadlines, never sleeps), and a capture of
// stderr to check what the Logger reported.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raft/logger.h"
#include "raft/tcp_transport.h"
#include "raft/types.h"

namespace raftlock::raft::testing {

using namespace std::chrono_literals;

// Long enough for a loaded CI machine; a passing run takes milliseconds.
inline constexpr std::chrono::milliseconds kDeadline = 20s;

// Runs `io` until `done()` holds; false if `timeout` passed first.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = kDeadline);
// Runs `io` for `d`, whatever happens (to check that something does not).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds d);

// A transport of node `id` listening on 127.0.0.1 (port 0: a free one),
// advertising http address "127.0.0.1:<8000 + id>", recording its messages
// and unreachable reports.
struct TestNode {
  TestNode(boost::asio::io_context& io, NodeId id, const std::string& cluster = "test",
           TcpTransportOptions options = {}, std::uint16_t port = 0);

  std::string address() const { return "127.0.0.1:" + std::to_string(transport->port()); }
  std::uint16_t port() const { return transport->port(); }
  // Messages received from `from`, in order.
  std::vector<Message> from(NodeId from) const;

  NodeId id;
  Logger log;
  std::unique_ptr<TcpTransport> transport;
  std::vector<Message> received;
  std::vector<NodeId> unreachable;
  // Called after a message is recorded, if set.
  std::function<void(const Message&)> on_message;
};

// kAppend from -> to carrying `index` (so the order can be checked), with
// entries of the given data.
Message append(NodeId from, NodeId to, Index index, const std::vector<Bytes>& data = {});
Message heartbeat(NodeId from, NodeId to, Index commit);

// Redirects fd 2 to a file while alive; the captured text is replayed to the
// real stderr at the end so that the log stays visible in ctest's output.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string text() const;
  bool contains(const std::string& s) const { return text().find(s) != std::string::npos; }

 private:
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

}  // namespace raftlock::raft::testing
