#include "api/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace raftlock::api {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(boost::asio::io_context& io, Request req, std::chrono::milliseconds timeout,
       ResponseHandler done)
      : resolver_(io),
        stream_(io),
        req_(std::move(req)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void start(const std::string& host, const std::string& port) {
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return self->fail(ErrorCode::kUnavailable, ec);
          self->stream_.expires_after(self->timeout_);
          self->stream_.async_connect(results, [self](beast::error_code ec2, tcp::endpoint) {
            if (ec2) return self->fail(ErrorCode::kUnavailable, ec2);
            self->write();
          });
        });
  }

 private:
  void write() {
    req_.prepare_payload();
    http::async_write(
        stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->fail(ErrorCode::kUnavailable, ec);
          http::async_read(
              self->stream_, self->buffer_, self->res_, [self](beast::error_code ec2, std::size_t) {
                if (ec2) {
                  return self->fail(
                      ec2 == beast::error::timeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                      ec2);
                }
                beast::error_code ignore;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignore);
                self->done_(std::move(self->res_));
              });
        });
  }

  void fail(ErrorCode code, beast::error_code ec) { done_(Status(code, ec.message())); }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  Request req_;
  std::chrono::milliseconds timeout_;
  ResponseHandler done_;
  beast::flat_buffer buffer_;
  Response res_;
};

}  // namespace

void async_http_request(boost::asio::io_context& io, const std::string& address, Request req,
                        std::chrono::milliseconds timeout, ResponseHandler done) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    done(Status(ErrorCode::kInvalidArgument, "bad address " + address));
    return;
  }
  req.set(http::field::host, address);
  auto call = std::make_shared<Call>(io, std::move(req), timeout, std::move(done));
  call->start(address.substr(0, colon), address.substr(colon + 1));
}

}  // namespace raftlock::api
