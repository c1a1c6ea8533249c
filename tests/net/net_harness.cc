#include "tests/net/net_harness.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>

namespace raftlock::raft::testing {

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_for(2ms);
  }
  return true;
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  (void)run_until(
      io, [] { return false; }, d);
}

TestNode::TestNode(boost::asio::io_context& io, NodeId id, const std::string& cluster,
                   TcpTransportOptions options, std::uint16_t port)
    : id(id), log(id, LogLevel::kInfo) {
  transport = std::make_unique<TcpTransport>(io, id, cluster, "127.0.0.1:0",
                                             "127.0.0.1:" + std::to_string(8000 + id), log,
                                             std::move(options));
  const Status s = transport->listen("127.0.0.1", port);
  REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  transport->set_handlers(
      [this](Message m) {
        received.push_back(std::move(m));
        if (on_message) on_message(received.back());
      },
      [this](NodeId peer) { unreachable.push_back(peer); });
}

std::vector<Message> TestNode::from(NodeId sender) const {
  std::vector<Message> out;
  for (const Message& m : received) {
    if (m.from == sender) out.push_back(m);
  }
  return out;
}

Message append(NodeId from, NodeId to, Index index, const std::vector<Bytes>& data) {
  Message m{.type = MessageType::kAppend,
            .from = from,
            .to = to,
            .term = 3,
            .log_term = 3,
            .index = index,
            .commit = index};
  Index next = index + 1;
  for (const Bytes& d : data)
    m.entries.push_back(Entry{.term = 3, .index = next++, .data = d});
  return m;
}

Message heartbeat(NodeId from, NodeId to, Index commit) {
  return Message{
      .type = MessageType::kHeartbeat, .from = from, .to = to, .term = 3, .commit = commit};
}

StderrCapture::StderrCapture() {
  std::fflush(stderr);
  file_ = std::tmpfile();
  REQUIRE(file_ != nullptr);
  saved_ = ::dup(2);
  REQUIRE(saved_ >= 0);
  REQUIRE(::dup2(::fileno(file_), 2) >= 0);
}

StderrCapture::~StderrCapture() {
  const std::string captured = text();
  std::fflush(stderr);
  ::dup2(saved_, 2);
  ::close(saved_);
  std::fclose(file_);
  std::fputs(captured.c_str(), stderr);
}

std::string StderrCapture::text() const {
  std::fflush(stderr);
  std::string out;
  const int fd = ::fileno(file_);
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return out;
}

}  // namespace raftlock::raft::testing
