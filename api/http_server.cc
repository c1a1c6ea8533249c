#include "api/http_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/json_reply.h"

namespace raftlock::api {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// The response as one string, head then body, for one write. Beast's
// serializer walks a chain of buffer views on every write; the answers of
// this API are small JSON documents, for which one string costs less
// (perf: the serializer was ~15% of answering a request).
std::string serialize(const Response& res) {
  beast::string_view reason = res.reason();
  if (reason.empty()) reason = http::obsolete_reason(res.result());
  std::string out;
  out.reserve(128 + res.body().size());
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(res.result_int());
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& f : res) {
    out.append(f.name_string().data(), f.name_string().size());
    out += ": ";
    out.append(f.value().data(), f.value().size());
    out += "\r\n";
  }
  out += "\r\n";
  out += res.body();
  return out;
}

}  // namespace

// A connection's idle limit: reading a request and writing its answer must
// each end within opts.idle_timeout (a handler's own wait is not bounded
// here; long polls bound themselves). The deadline is a time stamp moved on
// every read and write; one timer per connection wakes about once per
// timeout and closes the socket if the deadline has passed, instead of a
// timer armed and cancelled around every read and write.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  Session(tcp::socket socket, HttpServer& server)
      : socket_(std::move(socket)), idle_(socket_.get_executor()), server_(server) {}

  void start() {
    deadline_ = Clock::now() + server_.opts_.idle_timeout;
    arm_idle(deadline_);
    read();
  }

 private:
  void arm_idle(Clock::time_point at) {
    idle_.expires_at(at);
    // A weak reference: a connection nobody reads or writes is not kept
    // alive by its timer (close() cancels it anyway).
    idle_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      const Clock::time_point now = Clock::now();
      if (self->deadline_ <= now) {
        self->close();
        return;
      }
      self->arm_idle(self->deadline_ == Clock::time_point::max()
                         ? now + self->server_.opts_.idle_timeout
                         : self->deadline_);
    });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(server_.opts_.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_.opts_.header_limit));
    deadline_ = Clock::now() + server_.opts_.idle_timeout;
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_ || ec == http::error::end_of_stream ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::bad_descriptor || ec == boost::asio::error::eof) {
      close();
      return;
    }
    if (ec) {
      // The bytes were not a request we accept: answer once, then close.
      keep_alive_ = false;
      if (ec == http::error::body_limit) {
        send(error_response(413, "payload_too_large", "request body exceeds 65536 bytes"), false);
      } else {
        send(error_response(400, "invalid_request", "malformed HTTP request: " + ec.message()),
             false);
      }
      return;
    }
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    started_ = std::chrono::steady_clock::now();
    gone_ = std::make_shared<ClientGone>();
    gone_->arm = [weak = weak_from_this()]() {
      if (auto self = weak.lock(); self && !self->replied_) self->watch_for_hangup();
    };
    replied_ = false;
    deadline_ = Clock::time_point::max();  // handlers may wait (long polls); they bound themselves
    RequestContext ctx{req_, {}, {}, {}, gone_};
    auto self = shared_from_this();
    route_ = server_.router_.dispatch(ctx, [self](Response res) { self->reply(std::move(res)); });
  }

  void watch_for_hangup() {
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this(), gone = gone_](beast::error_code ec) {
                         if (self->replied_ || gone->gone) return;
                         boost::system::error_code aec;
                         // Readable with nothing to read: the peer hung up.
                         if (ec || self->socket_.available(aec) == 0) gone->fire();
                       });
  }

  void reply(Response res) {
    if (replied_) return;
    replied_ = true;
    if (server_.decorator_) server_.decorator_(res);
    if (server_.observer_) {
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - started_;
      server_.observer_(route_, res.result_int(), d.count());
    }
    send(std::move(res), true);
  }

  void send(Response res, bool decorated) {
    if (!decorated && server_.decorator_) server_.decorator_(res);
    res.version(req_.version() == 10 ? 10 : 11);  // what serialize() writes
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    auto out = std::make_shared<std::string>(serialize(res));
    deadline_ = Clock::now() + server_.opts_.idle_timeout;
    boost::asio::async_write(socket_, boost::asio::buffer(*out),
                             [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
                               if (ec || self->closed_ || !self->keep_alive_) {
                                 self->close();
                                 return;
                               }
                               self->read();
                             });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (gone_) gone_->fire();
    beast::error_code ec;
    idle_.cancel();
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  boost::asio::steady_timer idle_;
  Clock::time_point deadline_;
  bool closed_ = false;
  HttpServer& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request req_;
  bool keep_alive_ = true;
  bool replied_ = false;
  GoneFlag gone_;
  std::string route_;
  std::chrono::steady_clock::time_point started_;
};

HttpServer::HttpServer(boost::asio::io_context& io, const Router& router, HttpServerOptions opts)
    : io_(io), router_(router), opts_(opts), acceptor_(io) {}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return Status(ErrorCode::kInvalidArgument, "bad listen address " + host);
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kIo,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  accept();
  return Status::ok();
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void HttpServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

}  // namespace raftlock::api
