// One keep-alive HTTP/1.1 client connection driven by C++20 coroutines on the
// caller's (single-threaded) executor. Not safe for concurrent requests: each
// worker owns one and issues one request at a time, as a real lock client does.
//
// The request is written as one prepared buffer and the answer parsed by
// http_response.h from one reused read buffer: no per-request header maps or
// composed read/write operations: Beast's, with a JSON tree per message, were
// nearly half of the client's own CPU, and the client shares two cores with
// the servers it measures (docs/bench.md).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "options.h"

namespace raftlock::bench {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  bool keep_alive = true;
};

class HttpConnection {
 public:
  HttpConnection(boost::asio::any_io_executor ex, const Endpoint& endpoint);

  // Sends one request and reads its answer, (re)connecting first if the
  // connection is closed. Throws boost::system::system_error on transport
  // errors and on timeout, std::runtime_error on an answer that is not HTTP/1.x;
  // the connection is closed then and the next request reconnects. A response
  // without keep-alive closes the connection too.
  boost::asio::awaitable<HttpResponse> request(boost::beast::http::verb method,
                                               std::string_view target, std::string body,
                                               std::chrono::milliseconds timeout);

  void close();
  const Endpoint& endpoint() const { return endpoint_; }
  std::uint64_t connects() const { return connects_; }

 private:
  // Rethrows a transport error naming the endpoint and target (and as a
  // timeout if the request's timer fired).
  [[noreturn]] void fail(const boost::system::system_error& e, std::string_view target) const;
  void prepare(boost::beast::http::verb method, std::string_view target, std::string_view body);
  // Reads until one final (non-1xx) response is complete; a malformed one
  // throws std::runtime_error naming the endpoint, target and reason.
  boost::asio::awaitable<HttpResponse> read_response(std::string_view target);

  Endpoint endpoint_;
  std::string host_;  // the Host header's value
  boost::asio::ip::tcp::endpoint address_;
  // A plain socket and one timer per request (not Beast's tcp_stream, which
  // re-arms a timer for every read and write: measurable client CPU here).
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::string out_;  // the request being written
  std::string in_;   // read buffer; bytes [0, in_len_) are data
  std::size_t in_len_ = 0;
  bool open_ = false;
  bool timed_out_ = false;
  std::uint64_t connects_ = 0;
};

}  // namespace raftlock::bench
