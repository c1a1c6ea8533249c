#include "http_connection.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <stdexcept>

#include "http_response.h"

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
    : endpoint_(endpoint),
      host_(endpoint.text()),
      address_(resolve_loopback(endpoint)),
      socket_(ex),
      timer_(ex) {}

void HttpConnection::close() {
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  in_len_ = 0;
  open_ = false;
}

void HttpConnection::prepare(http::verb method, std::string_view target, std::string_view body) {
  const beast::string_view verb = http::to_string(method);
  out_.clear();
  out_.append(verb.data(), verb.size()).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  out_.append(host_);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    out_.append("\r\nContent-Type: application/json\r\nContent-Length: ");
    out_.append(std::to_string(body.size()));
  }
  out_.append("\r\n\r\n").append(body);
}

asio::awaitable<HttpResponse> HttpConnection::read_response(std::string_view target) {
  bool eof = false;
  for (;;) {
    ParsedResponse p = parse_response(std::string_view(in_.data(), in_len_), eof);
    if (p.outcome == ParsedResponse::Outcome::kMalformed) {
      // Not a transport error: its reason is the message (the connection is
      // closed by the caller's cleanup).
      throw std::runtime_error(endpoint_.text() + std::string(target) + ": " + p.error);
    }
    if (p.outcome == ParsedResponse::Outcome::kComplete) {
      in_len_ -= p.consumed;
      if (p.status < 200) {  // an interim answer; the final one follows
        if (in_len_ > 0) std::memmove(in_.data(), in_.data() + p.consumed, in_len_);
        continue;
      }
      // With one request at a time nothing may follow the answer: bytes that
      // do would be taken for the next request's answer, so the connection
      // is closed after this one instead.
      const bool keep_alive = p.keep_alive && in_len_ == 0;
      co_return HttpResponse{
          .status = p.status, .body = std::move(p.body), .keep_alive = keep_alive};
    }
    if (in_.size() - in_len_ < 4096) in_.resize(std::max<std::size_t>(16384, in_.size() * 2));
    try {
      in_len_ += co_await socket_.async_read_some(
          asio::buffer(in_.data() + in_len_, in_.size() - in_len_), asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::eof) throw;
      eof = true;
    }
  }
}

asio::awaitable<HttpResponse> HttpConnection::request(http::verb method, std::string_view target,
                                                      std::string body,
                                                      std::chrono::milliseconds timeout) {
  prepare(method, target, body);

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
  HttpResponse res;
  try {
    if (!open_) {
      in_len_ = 0;
      socket_ = tcp::socket(socket_.get_executor());
      co_await socket_.async_connect(address_, asio::use_awaitable);
      socket_.set_option(tcp::no_delay(true));
      open_ = true;
      ++connects_;
    }
    co_await asio::async_write(socket_, asio::buffer(out_), asio::use_awaitable);
    res = co_await read_response(target);
  } catch (const boost::system::system_error& e) {
    fail(e, target);
  }
  cleanup.close = !res.keep_alive;
  co_return res;
}

}  // namespace raftlock::bench
