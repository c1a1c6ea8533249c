#include "raft/peer_link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <utility>

#include "raft/host_port.h"

namespace raftlock::raft {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

SendQueueLimits queue_limits(const TcpTransportOptions& o) {
  return SendQueueLimits{.frames_max = o.queue_frames_max,
                         .bytes_max = o.queue_bytes_max,
                         .snapshots_max = o.snapshot_queue_max,
                         .chunk_bytes = o.snapshot_chunk_bytes,
                         .snapshot_bytes_max = o.snapshot_bytes_max,
                         .codec = o.limits};
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

PeerLink::PeerLink(TransportContext& ctx, NodeId peer, std::string address)
    : ctx_(ctx),
      peer_(peer),
      address_(std::move(address)),
      stats_(ctx.peer(peer)),
      queue_(queue_limits(ctx.options)),
      resolver_(ctx.io),
      socket_(ctx.io),
      timer_(ctx.io),
      decoder_(ctx.options.limits),
      read_buf_(ctx.options.read_buffer_bytes),
      backoff_(ctx.options.backoff_initial) {}

std::string PeerLink::describe() const {
  return "node " + std::to_string(peer_) + " at " + address_;
}

void PeerLink::send(const Message& m) {
  if (queue(m)) flush();
}

bool PeerLink::queue(const Message& m) {
  if (state_ == State::kStopped) return false;
  std::string why;
  switch (queue_.push(m, &why)) {
    case SendQueue::Pushed::kQueued:
      return true;
    case SendQueue::Pushed::kFull:
      ++stats_.drops_queue_full;
      ctx_.log.debug("transport: queue to " + describe() + " full, dropped " +
                     message_type_name(m.type));
      return false;
    case SendQueue::Pushed::kUnencodable:
      ++stats_.drops_unencodable;
      ctx_.log.warn("transport: dropped " + std::string(message_type_name(m.type)) + " to " +
                    describe() + ": " + why);
      return false;
  }
  return false;
}

void PeerLink::flush() {
  if (state_ == State::kStopped || queue_.empty()) return;
  if (state_ == State::kIdle) {
    dial();
  } else {
    maybe_write();
  }
}

void PeerLink::set_address(std::string address) {
  if (state_ == State::kStopped || address == address_) return;
  address_ = std::move(address);
  if (state_ == State::kIdle) return;
  // A deliberate change, not a failure: no backoff, no unreachable report.
  if (state_ == State::kReady && write_in_flight_) stats_.drops_disconnected += writing_.size();
  close_connection();
  if (queue_.drop_partial_snapshot()) ++stats_.drops_disconnected;
  backoff_ = ctx_.options.backoff_initial;
  failing_ = false;
  if (queue_.empty()) {
    state_ = State::kIdle;
  } else {
    dial();
  }
}

void PeerLink::shutdown() {
  if (state_ == State::kStopped) return;
  close_connection();
  state_ = State::kStopped;
  queue_ = SendQueue(queue_limits(ctx_.options));  // frees the memory now
}

void PeerLink::dial() {
  ++generation_;
  state_ = State::kConnecting;
  Result<HostPort> hp = parse_host_port(address_);
  if (!hp) {
    fail("cannot dial: " + hp.status().message());
    return;
  }
  timer_.expires_after(ctx_.options.dial_timeout);
  timer_.async_wait([self = shared_from_this(), gen = generation_](const error_code& ec) {
    if (ec || gen != self->generation_) return;
    self->fail(
        "no " +
        std::string(self->state_ == State::kHandshaking ? "handshake response" : "connection") +
        " within " + ms(self->ctx_.options.dial_timeout));
  });
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(hp->host, ec);
  if (!ec) {
    connect({tcp::endpoint(ip, hp->port)});
    return;
  }
  resolver_.async_resolve(hp->host, std::to_string(hp->port), tcp::resolver::numeric_service,
                          [self = shared_from_this(), gen = generation_](
                              const error_code& ec, const tcp::resolver::results_type& results) {
                            if (gen != self->generation_) return;
                            if (ec) {
                              self->fail("cannot resolve: " + ec.message());
                              return;
                            }
                            std::vector<tcp::endpoint> endpoints;
                            for (const auto& r : results)
                              endpoints.push_back(r.endpoint());
                            self->connect(endpoints);
                          });
}

void PeerLink::connect(const std::vector<tcp::endpoint>& endpoints) {
  asio::async_connect(
      socket_, endpoints,
      [self = shared_from_this(), gen = generation_](const error_code& ec, const tcp::endpoint&) {
        if (gen != self->generation_) return;
        if (ec) {
          self->fail("cannot connect: " + ec.message());
          return;
        }
        self->on_connected();
      });
}

void PeerLink::on_connected() {
  state_ = State::kHandshaking;
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  if (ctx_.options.unacked_timeout.count() > 0) {
    // Linux-specific; Asio has no portable option for it. Best effort.
    const unsigned timeout_ms = static_cast<unsigned>(ctx_.options.unacked_timeout.count());
    (void)::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms,
                       sizeof timeout_ms);
  }
  const Handshake h{.cluster = ctx_.cluster,
                    .sender = ctx_.self,
                    .receiver = peer_,
                    .protocol_version = kProtocolVersion,
                    .http_address = ctx_.http_address,
                    .peer_address = ctx_.peer_address};
  Result<Bytes> frame = encode_frame(h, ctx_.options.limits);
  if (!frame) {
    fail("cannot encode the handshake: " + frame.status().to_string());
    return;
  }
  writing_.push_back(std::move(frame).value());
  write();
  read();
}

void PeerLink::read() {
  socket_.async_read_some(asio::buffer(read_buf_), [self = shared_from_this(), gen = generation_](
                                                       const error_code& ec, std::size_t n) {
    if (gen != self->generation_) return;
    if (ec) {
      self->fail(ec == asio::error::eof ? "connection closed by the peer"
                                        : "read failed: " + ec.message());
      return;
    }
    self->decoder_.feed(self->read_buf_.data(), n);
    for (;;) {
      Result<std::optional<Frame>> f = self->decoder_.next();
      if (!f) {
        ++self->stats_.decode_errors;
        self->fail("bad frame: " + f.status().message());
        return;
      }
      if (!f.value().has_value()) break;
      self->on_frame(std::move(*std::move(f).value()));
      if (gen != self->generation_) return;
    }
    self->read();
  });
}

void PeerLink::on_frame(Frame f) {
  // Messages flow one way on a connection: the peer answers only the handshake.
  const auto* response = std::get_if<HandshakeResponse>(&f);
  if (state_ != State::kHandshaking || response == nullptr) {
    ++stats_.decode_errors;
    fail(std::string("unexpected ") + frame_type_name(frame_type(f)) + " frame");
    return;
  }
  if (!response->accepted) {
    ++stats_.handshake_refusals;
    fail("refused the handshake: " + response->reason, /*refused=*/true);
    return;
  }
  state_ = State::kReady;
  timer_.cancel();
  backoff_ = ctx_.options.backoff_initial;
  failing_ = false;
  ++stats_.connects;
  ctx_.log.info("transport: connected to " + describe());
  maybe_write();
}

void PeerLink::maybe_write() {
  if (state_ != State::kReady || write_in_flight_) return;
  if (queue_.take_batch(writing_) == 0) return;
  write();
}

void PeerLink::write() {
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const Bytes& frame : writing_)
    buffers.push_back(asio::buffer(frame));
  write_in_flight_ = true;
  asio::async_write(
      socket_, buffers,
      [self = shared_from_this(), gen = generation_](const error_code& ec, std::size_t n) {
        if (gen != self->generation_) return;
        if (ec) {
          self->fail("write failed: " + ec.message());
          return;
        }
        self->write_in_flight_ = false;
        self->stats_.frames_sent += self->writing_.size();
        self->stats_.bytes_sent += n;
        ++self->stats_.writes;
        self->writing_.clear();
        self->maybe_write();
      });
}

void PeerLink::fail(const std::string& why, bool refused) {
  if (state_ == State::kStopped) return;
  const bool established = state_ == State::kReady;
  const std::size_t lost = established && write_in_flight_ ? writing_.size() : 0;
  if (established) {
    ++stats_.disconnects;
  } else {
    ++stats_.dial_failures;
  }
  stats_.drops_disconnected += lost;
  close_connection();
  if (queue_.drop_partial_snapshot()) ++stats_.drops_disconnected;
  const bool waiting = lost > 0 || !queue_.empty();
  // A peer that stays down is retried every backoff_max: warn once, then debug.
  const std::string text =
      "transport: " + describe() + ": " + why + "; backing off " + ms(backoff_);
  if (refused || established || !failing_) {
    ctx_.log.warn(text);
  } else {
    ctx_.log.debug(text);
  }
  failing_ = true;
  start_backoff();
  if (!waiting) return;
  // Posted: the handler may step the Core, which may be what called send().
  asio::post(ctx_.io, [self = shared_from_this()] {
    if (self->state_ == State::kStopped || !self->ctx_.on_unreachable) return;
    self->ctx_.on_unreachable(self->peer_);
  });
}

void PeerLink::close_connection() {
  ++generation_;
  error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  timer_.cancel();
  writing_.clear();
  write_in_flight_ = false;
  decoder_ = FrameDecoder(ctx_.options.limits);
}

void PeerLink::start_backoff() {
  state_ = State::kBackoff;
  timer_.expires_after(backoff_);
  timer_.async_wait([self = shared_from_this(), gen = generation_](const error_code& ec) {
    if (ec || gen != self->generation_ || self->state_ != State::kBackoff) return;
    if (self->queue_.empty()) {
      self->state_ = State::kIdle;
    } else {
      self->dial();
    }
  });
  backoff_ = std::min(backoff_ * 2, ctx_.options.backoff_max);
}

}  // namespace raftlock::raft
