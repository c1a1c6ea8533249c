// HttpServer over real loopback sockets: the status line and keep-alive of
// each HTTP version, the idle limit on reading a request and writing its
// answer, and that a handler's own wait is not cut off by it.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "api/http_server.h"
#include "api/router.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using raftlock::api::HttpServer;
using raftlock::api::HttpServerOptions;
using raftlock::api::Reply;
using raftlock::api::RequestContext;
using raftlock::api::Response;
using raftlock::api::Router;

// A server on its own thread, with /ok (answers at once) and /slow (answers
// after `slow`), on a free port.
class Server {
 public:
  Server(std::chrono::milliseconds idle, std::chrono::milliseconds slow) {
    router_.add(http::verb::get, "/ok", "ok", [](RequestContext& rc, Reply reply) {
      Response res{http::status::ok, rc.req.version()};
      res.body() = "fine";
      reply(std::move(res));
    });
    router_.add(http::verb::get, "/slow", "slow", [this, slow](RequestContext& rc, Reply reply) {
      auto t = std::make_shared<asio::steady_timer>(io_, slow);
      const unsigned v = rc.req.version();
      t->async_wait([t, reply, v](boost::system::error_code) {
        Response res{http::status::ok, v};
        res.body() = "late";
        reply(std::move(res));
      });
    });
    HttpServerOptions opts;
    opts.idle_timeout = idle;
    server_ = std::make_unique<HttpServer>(io_, router_, opts);
    REQUIRE(server_->listen("127.0.0.1", 0).is_ok());
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    asio::post(io_, [this] { server_->stop(); });
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context io_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking client socket with a receive timeout, so a test cannot hang.
struct Client {
  asio::io_context io;
  tcp::socket s{io};
  explicit Client(std::uint16_t port) {
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& text) { asio::write(s, asio::buffer(text)); }
  // Reads until `until` appears or the peer closes; returns what came.
  std::string read_until(const std::string& until) {
    std::string got;
    char buf[4096];
    while (got.find(until) == std::string::npos) {
      const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
  // True if the server closed the connection (EOF) within the receive
  // timeout. recv(2) itself: Asio's blocking read would ignore SO_RCVTIMEO.
  bool closed_by_server() {
    char buf[256];
    const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
};

const std::string kGet11 = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_CASE("HTTP/1.1 keeps the connection; HTTP/1.0 gets a 1.0 status line and a close") {
  Server server(2000ms, 0ms);
  Client c(server.port());
  for (int i = 0; i < 3; ++i) {
    c.send(kGet11);
    const std::string got = c.read_until("fine");
    CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(got.find("Content-Length: 4\r\n") != std::string::npos);
  }
  Client old(server.port());
  old.send("GET /ok HTTP/1.0\r\nHost: x\r\n\r\n");
  const std::string got = old.read_until("fine");
  CHECK(got.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(old.closed_by_server());
}

TEST_CASE("a connection that sends no request, or half of one, is closed after the idle limit") {
  Server server(300ms, 0ms);
  // Before connecting: the server's deadline starts at its accept, later.
  const auto start = std::chrono::steady_clock::now();
  Client silent(server.port());
  Client half(server.port());
  half.send("GET /ok HTTP/1.1\r\nHo");
  CHECK(silent.closed_by_server());
  CHECK(half.closed_by_server());
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 290ms);
  CHECK(took < 3000ms);
}

TEST_CASE("requests that keep coming keep the connection past the idle limit") {
  Server server(300ms, 0ms);
  Client c(server.port());
  const auto start = std::chrono::steady_clock::now();
  int answered = 0;
  while (std::chrono::steady_clock::now() - start < 1200ms) {
    c.send(kGet11);
    if (c.read_until("fine").find("fine") == std::string::npos) break;
    ++answered;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(answered >= 6);  // ~11 on an idle machine; each one moved the deadline
  // And once they stop, the limit applies again.
  CHECK(c.closed_by_server());
}

TEST_CASE("a handler that answers later than the idle limit is not cut off") {
  Server server(200ms, 700ms);
  Client c(server.port());
  c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string got = c.read_until("late");
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(got.find("late") != std::string::npos);
  // The connection still serves the next request.
  c.send(kGet11);
  CHECK(c.read_until("fine").find("fine") != std::string::npos);
}
