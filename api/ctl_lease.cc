#include "api/ctl_lease.h"

#include <algorithm>

namespace raftlock::api {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kRetryPause{100};  // between failed keepalive rounds

}  // namespace

Lease::Lease(CtlClient& client, std::int64_t ttl_ms, std::string name)
    : client_(client),
      ttl_ms_(ttl_ms),
      name_(std::move(name)),
      keepalive_timer_(client.io()),
      expiry_timer_(client.io()) {}

Lease::~Lease() {
  *alive_ = false;
}

void Lease::create(milliseconds total, std::function<void(Status)> done) {
  const auto sent = CtlClock::now();
  CtlRequest req =
      ctl_request("POST", "/v1/sessions", json{{"ttl_ms", ttl_ms_}, {"name", name_}}, total);
  // A repeated create after a lost answer leaves an unused session that
  // expires after its TTL: harmless, so 504 is retried too.
  req.retry_timeout = true;
  auto alive = alive_;
  client_.call(std::move(req), [this, alive, sent, done](Result<CtlReply> r) {
    if (!*alive) return;
    if (!r) return done(r.status());
    if (r->status != 201 || !r->body.contains("session")) {
      return done(Status(ErrorCode::kInvalidArgument,
                         "creating the session: " + std::to_string(r->status) + " " +
                             r->error_code() + ": " + r->error_message()));
    }
    id_ = r->body["session"].get<std::string>();
    // The session's TTL starts when the leader applies it, after `sent`.
    valid_until_ = sent + milliseconds(ttl_ms_);
    done(Status::ok());
  });
}

void Lease::keep(LostHandler on_lost) {
  on_lost_ = std::move(on_lost);
  running_ = true;
  arm_expiry();
  schedule_keepalive(CtlClock::now() + milliseconds(ttl_ms_ / 3));
}

void Lease::stop() {
  running_ = false;
  ++generation_;
  keepalive_timer_.cancel();
  expiry_timer_.cancel();
}

void Lease::close(milliseconds total, std::function<void()> done) {
  stop();
  if (id_.empty()) return done();
  auto alive = alive_;
  client_.call(ctl_request("DELETE", "/v1/sessions/" + id_, std::nullopt, total),
               [alive, done](Result<CtlReply>) {
                 if (*alive) done();
               });
}

void Lease::schedule_keepalive(CtlClock::time_point at) {
  keepalive_timer_.expires_at(at);
  const std::uint64_t gen = generation_;
  keepalive_timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || gen != generation_ || !running_) return;
    send_keepalive();
  });
}

void Lease::send_keepalive() {
  const auto sent = CtlClock::now();
  if (sent >= valid_until_) return declare_lost("the lease ran out before a keepalive answered");
  CtlRequest req = ctl_request("POST", "/v1/sessions/" + id_ + "/keepalive");
  req.deadline = valid_until_;
  req.attempt_timeout = milliseconds(std::clamp<std::int64_t>(ttl_ms_ / 3, 300, 3000));
  req.retry_timeout = true;
  const std::uint64_t gen = generation_;
  auto alive = alive_;
  client_.call(std::move(req), [this, alive, gen, sent](Result<CtlReply> r) {
    if (!*alive || gen != generation_ || !running_) return;
    if (r && r->status == 404) return declare_lost("the session expired or was closed");
    if (r && r->status == 200 && r->body.contains("remaining_ms") &&
        r->body["remaining_ms"].is_number_integer()) {
      const auto remaining = r->body["remaining_ms"].get<std::int64_t>();
      valid_until_ = std::max(valid_until_, sent + milliseconds(remaining));
      arm_expiry();
      const auto interval = milliseconds(
          std::max<std::int64_t>(50, std::min<std::int64_t>(ttl_ms_ / 3, remaining / 2)));
      return schedule_keepalive(sent + interval);
    }
    // No usable answer (every endpoint down, no leader, or an odd status):
    // keep trying while the lease lasts; the expiry timer ends it otherwise.
    schedule_keepalive(CtlClock::now() + kRetryPause);
  });
}

void Lease::arm_expiry() {
  expiry_timer_.expires_at(valid_until_);
  const std::uint64_t gen = generation_;
  expiry_timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || gen != generation_ || !running_) return;
    if (CtlClock::now() >= valid_until_) {
      declare_lost("no keepalive succeeded before the lease ran out");
    }
  });
}

void Lease::declare_lost(const std::string& reason) {
  if (lost_) return;
  lost_ = true;
  stop();
  if (on_lost_) on_lost_(reason);
}

}  // namespace raftlock::api
