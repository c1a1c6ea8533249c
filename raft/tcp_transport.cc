#include "raft/tcp_transport.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "raft/assert.h"
#include "raft/host_port.h"
#include "raft/inbound_connection.h"
#include "raft/peer_link.h"

namespace raftlock::raft {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr std::chrono::milliseconds kAcceptRetry{100};

// "0.0.0.0:p" or "[::]:p": fine to listen on, useless to advertise.
bool dials_nowhere(const std::string& address) {
  const Result<HostPort> hp = parse_host_port(address);
  if (!hp) return false;
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(hp->host, ec);
  return !ec && ip.is_unspecified();
}

}  // namespace

TcpTransport::TcpTransport(asio::io_context& io, NodeId self, std::string cluster,
                           std::string peer_address, std::string http_address, Logger& log,
                           TcpTransportOptions options)
    : ctx_(io, self, std::move(cluster), std::move(peer_address), std::move(http_address), log,
           std::move(options)),
      acceptor_(io),
      accept_retry_(io) {
  RAFTLOCK_ASSERT(self != kNoNode);
  ctx_.on_inbound_handshake = [this](const Handshake& h, std::uint64_t connection) {
    on_inbound_handshake(h, connection);
  };
  ctx_.on_inbound_closed = [this](std::uint64_t connection) { inbound_.erase(connection); };
}

TcpTransport::~TcpTransport() {
  stop();
  *alive_ = false;
}

Status TcpTransport::listen(const std::string& host, std::uint16_t port) {
  RAFTLOCK_ASSERT(!acceptor_.is_open());
  const std::string where = format_host_port(host, port);
  if (stopped_) return Status(ErrorCode::kInvalidArgument, "transport stopped");
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(host, ec), port);
  if (ec) {
    // A name: resolved once, at start-up.
    tcp::resolver resolver(ctx_.io);
    const auto results = resolver.resolve(
        host, std::to_string(port), tcp::resolver::numeric_service | tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status(ErrorCode::kIo, "cannot resolve " + where + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  auto failed = [&](const char* what) {
    error_code ignored;
    acceptor_.close(ignored);
    return Status(ErrorCode::kIo,
                  std::string("cannot ") + what + " " + where + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return failed("open a socket for");
  // A restarted node binds its port again while old connections linger in TIME_WAIT.
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) return failed("configure");
  if (acceptor_.bind(endpoint, ec)) return failed("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return failed("listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return failed("find the port of");

  const Result<HostPort> advertised = parse_host_port(ctx_.peer_address);
  if (ctx_.peer_address.empty()) {
    ctx_.peer_address = format_host_port(host, port_);
  } else if (advertised && advertised->port == 0) {
    ctx_.peer_address = format_host_port(advertised->host, port_);
  }
  ctx_.log.info("transport: listening for peers on " + format_host_port(host, port_) +
                ", advertising " + ctx_.peer_address);
  if (dials_nowhere(ctx_.peer_address)) {
    ctx_.log.warn("transport: advertising " + ctx_.peer_address +
                  ", which peers cannot dial; pass the address they should use");
  }
  accept();
  return Status::ok();
}

void TcpTransport::accept() {
  acceptor_.async_accept([this, alive = alive_](const error_code& ec, tcp::socket socket) {
    if (!*alive || stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      ctx_.log.warn("transport: accept failed: " + ec.message());
      accept_retry_.expires_after(kAcceptRetry);
      accept_retry_.async_wait([this, alive](const error_code& wait_ec) {
        if (!*alive || stopped_ || wait_ec) return;
        accept();
      });
      return;
    }
    if (inbound_.size() >= ctx_.options.inbound_connections_max) {
      ++ctx_.stats.rejected_over_limit;
      ctx_.log.warn("transport: refused a connection: " + std::to_string(inbound_.size()) +
                    " inbound connections open, the limit");
      error_code ignored;
      socket.close(ignored);
    } else {
      ++ctx_.stats.accepted;
      auto connection =
          std::make_shared<InboundConnection>(ctx_, next_connection_++, std::move(socket));
      inbound_.emplace(connection->id(), connection);
      connection->start();
    }
    accept();
  });
}

void TcpTransport::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (auto& [id, link] : links_)
    link->shutdown();
  links_.clear();
  // close() erases from inbound_ through on_inbound_closed: iterate a copy.
  const auto inbound = std::exchange(inbound_, {});
  for (const auto& [id, connection] : inbound) {
    connection->close("transport stopped", LogLevel::kDebug);
  }
}

void TcpTransport::send(const Message& m) {
  if (stopped_) return;
  if (m.from != ctx_.self) {
    ++ctx_.stats.drops_invalid;
    ctx_.log.warn("transport: dropped " + std::string(message_type_name(m.type)) + " from node " +
                  std::to_string(m.from) + ": not from this node");
    return;
  }
  const auto it = links_.find(m.to);
  if (it == links_.end()) {
    ++ctx_.stats.drops_no_peer;
    ctx_.log.debug("transport: dropped " + std::string(message_type_name(m.type)) + " to node " +
                   std::to_string(m.to) + ": address unknown");
    return;
  }
  if (!holding_) {
    it->second->send(m);
    return;
  }
  if (it->second->queue(m) && std::find(held_.begin(), held_.end(), it->second) == held_.end()) {
    held_.push_back(it->second);
  }
}

void TcpTransport::release() {
  holding_ = false;
  std::vector<std::shared_ptr<PeerLink>> links = std::exchange(held_, {});
  if (stopped_) return;
  for (const std::shared_ptr<PeerLink>& link : links)
    link->flush();
}

void TcpTransport::set_peer(NodeId id, const std::string& address) {
  if (stopped_ || id == kNoNode || id == ctx_.self) return;
  if (Result<HostPort> hp = parse_host_port(address); !hp) {
    ctx_.log.warn("transport: node " + std::to_string(id) + ": " + hp.status().message());
  }
  const auto it = links_.find(id);
  if (it == links_.end()) {
    links_.emplace(id, std::make_shared<PeerLink>(ctx_, id, address));
  } else {
    it->second->set_address(address);
  }
}

void TcpTransport::remove_peer(NodeId id) {
  const auto it = links_.find(id);
  if (it != links_.end()) {
    it->second->shutdown();
    links_.erase(it);
  }
  peer_http_.erase(id);
}

void TcpTransport::set_handlers(MessageHandler on_message, UnreachableHandler on_unreachable) {
  ctx_.on_message = std::move(on_message);
  ctx_.on_unreachable = std::move(on_unreachable);
}

void TcpTransport::on_inbound_handshake(const Handshake& h, std::uint64_t connection) {
  if (h.http_address.empty()) {
    peer_http_.erase(h.sender);
  } else {
    peer_http_[h.sender] = h.http_address;
  }
  // A node that just joined is not in this node's configuration yet: without
  // its address the replies it waits for would be dropped. A configured
  // address wins over an advertised one.
  if (!h.peer_address.empty() && links_.find(h.sender) == links_.end()) {
    ctx_.log.info("transport: node " + std::to_string(h.sender) + " advertises " + h.peer_address +
                  "; replying there");
    set_peer(h.sender, h.peer_address);
  }
  // The peer dials one connection to this node: older ones are dead or dying
  // (it restarted, or lost them), and would only hold descriptors.
  std::vector<std::shared_ptr<InboundConnection>> older;
  for (const auto& [id, c] : inbound_) {
    if (id != connection && c->sender() == h.sender) older.push_back(c);
  }
  for (const auto& c : older)
    c->close("replaced by a newer connection", LogLevel::kInfo);
}

std::optional<std::string> TcpTransport::peer_http(NodeId id) const {
  const auto it = peer_http_.find(id);
  if (it == peer_http_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> TcpTransport::peer_address(NodeId id) const {
  const auto it = links_.find(id);
  if (it == links_.end()) return std::nullopt;
  return it->second->address();
}

PeerStats TcpTransport::peer_stats(NodeId id) const {
  PeerStats out;
  if (const auto it = ctx_.peers.find(id); it != ctx_.peers.end()) out = it->second;
  if (const auto it = links_.find(id); it != links_.end()) {
    out.queued_frames = it->second->queue().frames();
    out.queued_bytes = it->second->queue().bytes();
    out.queued_snapshots = it->second->queue().snapshots();
  }
  return out;
}

std::map<NodeId, PeerStats> TcpTransport::all_peer_stats() const {
  std::map<NodeId, PeerStats> out;
  for (const auto& [id, stats] : ctx_.peers)
    out[id] = peer_stats(id);
  for (const auto& [id, link] : links_)
    out[id] = peer_stats(id);
  return out;
}

}  // namespace raftlock::raft
