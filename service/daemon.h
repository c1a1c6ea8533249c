// Daemon: one raftlockd node assembled — SQLite log store and state machine,
// TCP transport, Raft node, services and the HTTP API — on one io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "raft/logger.h"
#include "raft/result.h"
#include "service/options.h"

namespace raftlock::service {

struct CommandResult;

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> create(boost::asio::io_context& io,
                                                const DaemonOptions& opts);
  ~Daemon();

  // Binds both listeners and starts the node.
  Status start();
  // Stops accepting, stops the node and closes connections.
  void stop();
  // Logs `why` (one line, like every event) and stops.
  void shutdown(const std::string& why);

  std::uint16_t http_port() const;
  std::uint16_t peer_port() const;

 private:
  struct Parts;
  Daemon(boost::asio::io_context& io, const DaemonOptions& opts);
  Status open();
  Status bootstrap_if_new();
  void refresh_peers();
  void count_result(const CommandResult& r);

  boost::asio::io_context& io_;
  DaemonOptions opts_;
  std::unique_ptr<Parts> p_;
};

}  // namespace raftlock::service
