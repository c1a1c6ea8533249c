// HttpConnection against a scripted server on 127.0.0.1 (a free port, this
// process only): answers split across reads, interim answers, chunked bodies,
// connection close and reconnect, bytes after an answer, a malformed answer.
// Timeouts are generous bounds, not measurements.
#include <doctest/doctest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "http_connection.h"
#include "lock_target.h"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;
using raftlock::bench::Endpoint;
using raftlock::bench::HttpConnection;
using raftlock::bench::HttpResponse;
using tcp = asio::ip::tcp;

namespace {

// One request: its header and a Content-Length body.
asio::awaitable<std::string> read_request(tcp::socket& s, std::string& buf) {
  const std::size_t head =
      co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", use_awaitable);
  std::size_t length = 0;
  const std::size_t at = buf.find("Content-Length: ");
  if (at != std::string::npos && at < head) length = std::stoul(buf.substr(at + 16));
  if (buf.size() < head + length) {
    co_await asio::async_read(s, asio::dynamic_buffer(buf),
                              asio::transfer_exactly(head + length - buf.size()), use_awaitable);
  }
  std::string req = buf.substr(0, head + length);
  buf.erase(0, head + length);
  co_return req;
}

asio::awaitable<void> write(tcp::socket& s, std::string text) {
  co_await asio::async_write(s, asio::buffer(text), use_awaitable);
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_awaitable);
}

}  // namespace

TEST_CASE("a connection reads split, interim, chunked and closing answers") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = acceptor.local_endpoint().port();
  std::vector<std::string> requests;
  bool server_done = false, client_done = false;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string buf;
        tcp::socket s = co_await acceptor.async_accept(use_awaitable);
        requests.push_back(co_await read_request(s, buf));
        co_await write(s, "HTTP/1.1 200 OK\r\nContent-Len");  // the answer in three reads
        co_await pause(std::chrono::milliseconds(20));
        co_await write(s, "gth: 2\r\n\r\n");
        co_await pause(std::chrono::milliseconds(20));
        co_await write(s, "ok");
        requests.push_back(co_await read_request(s, buf));
        co_await write(
            s,
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        s.close();

        tcp::socket s2 = co_await acceptor.async_accept(use_awaitable);
        buf.clear();
        requests.push_back(co_await read_request(s2, buf));
        co_await write(s2,
                       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200");  // extra bytes

        tcp::socket s3 = co_await acceptor.async_accept(use_awaitable);
        buf.clear();
        requests.push_back(co_await read_request(s3, buf));
        co_await write(s3, "SSH-2.0-OpenSSH\r\n\r\n");
        co_await pause(std::chrono::milliseconds(50));
        server_done = true;
      },
      asio::detached);

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto limit = std::chrono::milliseconds(5000);
        HttpConnection c(io.get_executor(), Endpoint{"127.0.0.1", port});
        const HttpResponse r1 = co_await c.request(http::verb::post, "/v1/a", "{}", limit);
        CHECK(r1.status == 200);
        CHECK(r1.body == "ok");
        CHECK(r1.keep_alive);
        const HttpResponse r2 = co_await c.request(http::verb::get, "/v1/b", "", limit);
        CHECK(r2.status == 404);
        CHECK(r2.body == "abc");
        CHECK_FALSE(r2.keep_alive);
        CHECK(c.connects() == 1);
        const HttpResponse r3 = co_await c.request(http::verb::delete_, "/v1/c", "", limit);
        CHECK(c.connects() == 2);  // reconnected after the close
        CHECK(r3.body == "x");
        CHECK_FALSE(r3.keep_alive);  // what followed the answer closes the connection
        std::string error;
        try {
          co_await c.request(http::verb::get, "/v1/d", "", limit);
        } catch (const std::runtime_error& e) {
          error = e.what();
        }
        CHECK(c.connects() == 3);
        CHECK(error == "127.0.0.1:" + std::to_string(port) + "/v1/d: bad status line");
        client_done = true;
      },
      asio::detached);

  io.run_for(std::chrono::seconds(20));
  CHECK(client_done);
  CHECK(server_done);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  REQUIRE(requests.size() == 4);
  CHECK(requests[0] == "POST /v1/a HTTP/1.1\r\n" + host +
                           "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(requests[1] == "GET /v1/b HTTP/1.1\r\n" + host + "\r\n");
  CHECK(requests[2] == "DELETE /v1/c HTTP/1.1\r\n" + host + "\r\n");
}

TEST_CASE("a grant's fencing token: straight from the body, else through JSON") {
  using raftlock::bench::fencing_token_of;
  auto token = [](std::string body) {
    return fencing_token_of(HttpResponse{.status = 200, .body = std::move(body)}, "/acquire");
  };
  CHECK(token(R"({"fencing_token":4711,"holders":1,"lock":"a"})") == 4711);
  CHECK(token(R"({"fencing_token":18446744073709551615})") == 18446744073709551615ULL);
  CHECK(token(R"({"fencing_token": 12})") == 12);                       // spaced: JSON
  CHECK(token(R"({"a":{"fencing_token":1},"fencing_token":2})") == 2);  // nested first
  CHECK(token("{\n  \"fencing_token\": 9\n}") == 9);
  CHECK_THROWS(token(R"({"fencing_token":-3})"));
  CHECK_THROWS(token(R"({"fencing_token":1.5})"));
  CHECK_THROWS(token(R"({"holders":1})"));
  CHECK_THROWS(token("not json"));
}
