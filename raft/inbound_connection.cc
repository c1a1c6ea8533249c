#include "raft/inbound_connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "raft/assert.h"
#include "raft/host_port.h"

namespace raftlock::raft {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

InboundConnection::InboundConnection(TransportContext& ctx, std::uint64_t id, tcp::socket socket)
    : ctx_(ctx),
      id_(id),
      socket_(std::move(socket)),
      deadline_(ctx.io),
      decoder_(ctx.options.limits),
      assembler_(ctx.options.snapshot_bytes_max),
      read_buf_(ctx.options.read_buffer_bytes) {
  error_code ec;
  const tcp::endpoint remote = socket_.remote_endpoint(ec);
  remote_ = ec ? std::string("an unknown endpoint")
               : format_host_port(remote.address().to_string(), remote.port());
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
}

std::string InboundConnection::describe() const {
  if (sender_ == kNoNode) return remote_;
  return "node " + std::to_string(sender_) + " (" + remote_ + ")";
}

void InboundConnection::start() {
  deadline_.expires_after(ctx_.options.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return;
    const std::string limit = std::to_string(self->ctx_.options.handshake_timeout.count()) + " ms";
    self->close(
        self->refused_ ? "refusal not written within " + limit : "no handshake within " + limit,
        LogLevel::kWarn);
  });
  read();
}

void InboundConnection::read() {
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec) {
                              if (ec == asio::error::eof) {
                                self->close("closed by the peer", LogLevel::kInfo);
                              } else {
                                self->close("read failed: " + ec.message(), LogLevel::kWarn);
                              }
                              return;
                            }
                            self->unattributed_bytes_ += n;
                            self->decoder_.feed(self->read_buf_.data(), n);
                            for (;;) {
                              Result<std::optional<Frame>> f = self->decoder_.next();
                              if (!f) {
                                self->reject(f.status().message());
                                return;
                              }
                              if (!f.value().has_value()) break;
                              if (!self->on_frame(std::move(*std::move(f).value()))) return;
                            }
                            self->attribute_bytes();
                            self->read();
                          });
}

bool InboundConnection::on_frame(Frame f) {
  if (sender_ == kNoNode) {
    if (const auto* h = std::get_if<Handshake>(&f)) return on_handshake(*h);
    reject(std::string("expected a Handshake, got a ") + frame_type_name(frame_type(f)) + " frame");
    return false;
  }
  ++ctx_.peer(sender_).frames_received;
  if (auto* m = std::get_if<Message>(&f)) return on_message(std::move(*m));
  if (auto* c = std::get_if<SnapshotChunk>(&f)) return on_chunk(std::move(*c));
  reject(std::string("unexpected ") + frame_type_name(frame_type(f)) + " frame");
  return false;
}

std::string InboundConnection::check(const Handshake& h) const {
  if (h.cluster != ctx_.cluster) {
    return "cluster name \"" + h.cluster + "\" differs from this node's \"" + ctx_.cluster + "\"";
  }
  if (h.receiver != ctx_.self) {
    return "receiver id " + std::to_string(h.receiver) + " is not this node's id " +
           std::to_string(ctx_.self);
  }
  if (h.sender == kNoNode || h.sender == ctx_.self) {
    return "sender id " + std::to_string(h.sender) + " is invalid";
  }
  if (h.protocol_version < kProtocolVersion) {
    return "protocol version " + std::to_string(h.protocol_version) +
           " unsupported (this node speaks " + std::to_string(kProtocolVersion) + ")";
  }
  return "";
}

bool InboundConnection::on_handshake(const Handshake& h) {
  if (std::string reason = check(h); !reason.empty()) {
    ++ctx_.stats.handshakes_refused;
    refused_ = true;
    ctx_.log.warn("transport: refused the handshake of node " + std::to_string(h.sender) +
                  " from " + remote_ + ": " + reason);
    respond(HandshakeResponse{.accepted = false, .reason = std::move(reason)});
    return false;  // read no further; closed once the refusal is written
  }
  sender_ = h.sender;
  deadline_.cancel();
  ++ctx_.peer(sender_).frames_received;
  respond(HandshakeResponse{.accepted = true});
  ctx_.log.info("transport: accepted a connection from " + describe());
  if (ctx_.on_inbound_handshake) ctx_.on_inbound_handshake(h, id_);
  return !closed_;
}

void InboundConnection::respond(const HandshakeResponse& r) {
  Result<Bytes> frame = encode_frame(r, ctx_.options.limits);
  RAFTLOCK_ASSERT_MSG(frame.is_ok(), frame.status().to_string().c_str());  // reasons are short
  response_ = std::move(frame).value();
  asio::async_write(socket_, asio::buffer(response_),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        self->close("cannot write the handshake response: " + ec.message(),
                                    LogLevel::kWarn);
                      } else if (self->refused_) {
                        self->close("handshake refused", LogLevel::kDebug);
                      }
                    });
}

bool InboundConnection::on_message(Message m) {
  if (m.from != sender_ || m.to != ctx_.self) {
    reject(std::string(message_type_name(m.type)) + " from node " + std::to_string(m.from) +
           " to node " + std::to_string(m.to) + " on a connection from node " +
           std::to_string(sender_) + " to node " + std::to_string(ctx_.self));
    return false;
  }
  Result<Message> whole = assembler_.finish(std::move(m));
  if (!whole) {
    reject(whole.status().message());
    return false;
  }
  ++ctx_.peer(sender_).messages_delivered;
  if (ctx_.on_message) ctx_.on_message(std::move(whole).value());
  return !closed_;  // the handler may have stopped the transport
}

bool InboundConnection::on_chunk(SnapshotChunk c) {
  if (c.from != sender_ || c.to != ctx_.self) {
    reject("snapshot chunk from node " + std::to_string(c.from) + " to node " +
           std::to_string(c.to) + " on a connection from node " + std::to_string(sender_));
    return false;
  }
  if (Status s = assembler_.add(std::move(c)); !s) {
    reject(s.message());
    return false;
  }
  return true;
}

void InboundConnection::reject(const std::string& why) {
  ++ctx_.stats.decode_errors;
  if (sender_ != kNoNode) ++ctx_.peer(sender_).decode_errors;
  close("bad frame: " + why, LogLevel::kWarn);
}

void InboundConnection::attribute_bytes() {
  if (sender_ == kNoNode) return;
  ctx_.peer(sender_).bytes_received += unattributed_bytes_;
  unattributed_bytes_ = 0;
}

void InboundConnection::close(const std::string& why, LogLevel level) {
  if (closed_) return;
  closed_ = true;
  attribute_bytes();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  deadline_.cancel();
  ctx_.log.log(level, "transport: closed the connection from " + describe() + ": " + why);
  if (ctx_.on_inbound_closed) ctx_.on_inbound_closed(id_);
}

}  // namespace raftlock::raft
