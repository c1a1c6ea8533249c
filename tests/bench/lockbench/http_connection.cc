#include "http_connection.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace raftlock::bench {
namespace {

tcp::endpoint resolve_loopback(const Endpoint& e) {
  // options.cc admits only 127.x.y.z and "localhost": no resolver needed.
  const std::string host = e.host == "localhost" ? "127.0.0.1" : e.host;
  return tcp::endpoint(asio::ip::make_address(host), e.port);
}

}  // namespace

void HttpConnection::fail(const boost::system::system_error& e, std::string_view target) const {
  const auto code = timed_out_ ? make_error_code(asio::error::timed_out) : e.code();
  throw boost::system::system_error(code, endpoint_.text() + std::string(target));
}

HttpConnection::HttpConnection(asio::any_io_executor ex, const Endpoint& endpoint)
    : endpoint_(endpoint), address_(resolve_loopback(endpoint)), socket_(ex), timer_(ex) {}

void HttpConnection::close() {
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  buffer_.clear();
  open_ = false;
}

asio::awaitable<HttpResponse> HttpConnection::request(http::verb method, std::string_view target,
                                                      std::string body,
                                                      std::chrono::milliseconds timeout) {
  http::request<http::string_body> req{method, beast::string_view(target.data(), target.size()),
                                       11};
  req.set(http::field::host, endpoint_.text());
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();

  struct Cleanup {  // cancels the timer; an exception leaves a closed connection behind
    HttpConnection* c;
    bool close = true;
    ~Cleanup() {
      c->timer_.cancel();
      if (close) c->close();
    }
  } cleanup{this};

  timed_out_ = false;
  timer_.expires_after(timeout);
  timer_.async_wait([this](beast::error_code ec) {
    if (ec) return;  // cancelled: the request finished (the only access after destruction)
    timed_out_ = true;
    beast::error_code ignored;
    socket_.close(ignored);  // fails the pending operation
  });
  try {
    if (!open_) {
      buffer_.clear();
      socket_ = tcp::socket(socket_.get_executor());
      co_await socket_.async_connect(address_, asio::use_awaitable);
      socket_.set_option(tcp::no_delay(true));
      open_ = true;
      ++connects_;
    }
    co_await http::async_write(socket_, req, asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    fail(e, target);
  }
  http::response<http::string_body> res;
  try {
    co_await http::async_read(socket_, buffer_, res, asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    fail(e, target);
  }
  cleanup.close = !res.keep_alive();
  co_return HttpResponse{.status = res.result_int(), .body = std::move(res.body())};
}

}  // namespace raftlock::bench
