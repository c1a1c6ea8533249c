// A session held by raftlockctl: created once, kept alive every ttl/3, and
// declared lost as soon as the client can no longer be sure it exists.
//
// Each keepalive answer's remaining_ms is counted from when the answer was
// sent (API.md), which is after this client sent the request, so
// send time + remaining_ms is a moment before which the session certainly
// has not expired (on this host's monotonic clock). The lease is lost when
// a keepalive answers 404, or when that moment passes without a newer
// successful keepalive; whatever the session holds must then be assumed
// taken by someone else.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/ctl_client.h"

namespace raftlock::api {

class Lease {
 public:
  using LostHandler = std::function<void(const std::string& reason)>;

  // REQUIRES: 1000 <= ttl_ms <= 86400000 (the API's range).
  Lease(CtlClient& client, std::int64_t ttl_ms, std::string name);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // POST /v1/sessions, retried across endpoints for up to `total`.
  void create(std::chrono::milliseconds total, std::function<void(Status)> done);

  // Starts the keepalive loop. `on_lost` is called at most once.
  // REQUIRES: create succeeded.
  void keep(LostHandler on_lost);

  // Stops keepalives and the loss timer (no on_lost after this).
  void stop();

  // Stops, then DELETE /v1/sessions/{id} (best effort, up to `total`).
  void close(std::chrono::milliseconds total, std::function<void()> done);

  const std::string& id() const { return id_; }
  std::int64_t ttl_ms() const { return ttl_ms_; }
  bool lost() const { return lost_; }
  // Until when the session is certainly alive.
  CtlClock::time_point valid_until() const { return valid_until_; }

 private:
  void send_keepalive();
  void schedule_keepalive(CtlClock::time_point at);
  void arm_expiry();
  void declare_lost(const std::string& reason);

  CtlClient& client_;
  const std::int64_t ttl_ms_;
  const std::string name_;
  std::string id_;
  CtlClock::time_point valid_until_{};
  boost::asio::steady_timer keepalive_timer_;
  boost::asio::steady_timer expiry_timer_;
  LostHandler on_lost_;
  bool running_ = false;
  bool lost_ = false;
  std::uint64_t generation_ = 0;  // bumped by stop(): late answers are ignored
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace raftlock::api
