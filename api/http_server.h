// The HTTP/1.1 server (Boost.Beast) in front of the router: keep-alive,
// a request body limit (413 above it), asynchronous replies for long polls,
// and detection of clients that hang up while their request waits.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/router.h"
#include "raft/result.h"

namespace raftlock::api {

struct HttpServerOptions {
  std::size_t body_limit = 64 * 1024;  // API.md: bodies of exactly 65536 bytes are accepted
  std::size_t header_limit = 16 * 1024;
  // Reading a request, and writing its answer, must each end within this.
  std::chrono::milliseconds idle_timeout{120000};
};

class HttpServer {
 public:
  // Adds headers every routed response carries (X-Raft-Term, ...).
  using Decorator = std::function<void(Response&)>;
  // Sees every answered request: route name, status, seconds spent.
  using Observer = std::function<void(const std::string&, unsigned, double)>;

  HttpServer(boost::asio::io_context& io, const Router& router, HttpServerOptions opts = {});
  ~HttpServer();

  // Binds and starts accepting. Port 0 picks a free port (see port()).
  Status listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  void stop();

  void set_decorator(Decorator d) { decorator_ = std::move(d); }
  void set_observer(Observer o) { observer_ = std::move(o); }

 private:
  class Session;
  void accept();

  boost::asio::io_context& io_;
  const Router& router_;
  HttpServerOptions opts_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Decorator decorator_;
  Observer observer_;
};

}  // namespace raftlock::api
