#include "service/proposals.h"

#include <chrono>
#include <cstdio>

namespace raftlock::service {

CommandResult error_result(const std::string& code, const std::string& message) {
  CommandResult r;
  r.ok = false;
  r.error_code = code;
  r.error_message = message;
  return r;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Proposals::Proposals(boost::asio::io_context& io, raft::Node& node, std::size_t pending_max)
    : io_(io), node_(node), pending_max_(pending_max), rng_(std::random_device{}()) {}

std::string Proposals::random_id() {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
  return buf;
}

void Proposals::propose(Command c, std::chrono::milliseconds timeout, Done done) {
  if (waiters_.size() >= pending_max_) {
    done(error_result("overloaded", "too many requests in flight on this node"));
    return;
  }
  c.req = std::to_string(node_.id()) + "-" + std::to_string(++seq_) + "-" + random_id();
  // The proposer's clock reading travels in the entry: applying never reads a clock.
  if (!c.now) c.now = wall_clock_ms();
  raft::Bytes data = encode_command(c);
  std::string req = std::move(c.req);
  Status s = node_.propose(data);
  if (!s.is_ok()) {
    // Refused before anything entered the log: safe to report as not applied.
    done(error_result(s.code() == ErrorCode::kLimitExceeded ? "overloaded" : "no_leader",
                      s.message()));
    return;
  }
  Waiter w;
  w.done = std::move(done);
  w.data = std::move(data);
  w.start = std::chrono::steady_clock::now();
  w.timer = std::make_unique<boost::asio::steady_timer>(io_, timeout);
  w.timer->async_wait([this, req](const boost::system::error_code& ec) {
    if (ec) return;
    finish(req, error_result("timeout",
                             "the commit was not seen in time; the outcome is "
                             "unknown and a retry is safe"));
  });
  waiters_.emplace(std::move(req), std::move(w));
}

void Proposals::on_result(const CommandResult& r) {
  if (r.req.empty()) return;
  if (on_latency_) {
    auto it = waiters_.find(r.req);
    if (it != waiters_.end()) {
      on_latency_(std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.start)
                      .count());
    }
  }
  finish(r.req, r);
}

void Proposals::on_leader_change() {
  for (const auto& [req, w] : waiters_)
    (void)node_.propose(w.data);
}

void Proposals::finish(const std::string& req, const CommandResult& r) {
  auto it = waiters_.find(req);
  if (it == waiters_.end()) return;
  Done done = std::move(it->second.done);
  it->second.timer->cancel();
  waiters_.erase(it);
  done(r);
}

}  // namespace raftlock::service
