#include "service/ctl_acquire.h"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>

namespace raftlock::service {

using api::CtlClock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kUnreachablePause{200};

struct Loop : std::enable_shared_from_this<Loop> {
  api::CtlClient& client;
  std::string path;
  nlohmann::json body;
  std::optional<CtlClock::time_point> until;
  std::function<void(AcquireResult)> done;
  std::unique_ptr<boost::asio::steady_timer> timer;

  Loop(api::CtlClient& c, std::string p, nlohmann::json b) : client(c), path(p), body(b) {}

  void next() {
    milliseconds chunk = kAcquireChunk;
    if (until) {
      const auto left = std::chrono::duration_cast<milliseconds>(*until - CtlClock::now());
      chunk = std::clamp(left, milliseconds(0), kAcquireChunk);
    }
    body["wait_ms"] = chunk.count();
    api::CtlRequest req = api::ctl_request("POST", path, body, chunk + 3 * kAcquireSlack);
    req.attempt_timeout = chunk + kAcquireSlack;
    req.retry_timeout = true;
    client.call(std::move(req), [self = shared_from_this()](Result<api::CtlReply> r) {
      self->answered(std::move(r));
    });
  }

  void answered(Result<api::CtlReply> r) {
    if (!r) {
      // Nothing reachable right now: try again; the lease watchdog ends the
      // run if this lasts longer than the session can survive.
      timer = std::make_unique<boost::asio::steady_timer>(client.io(), kUnreachablePause);
      timer->async_wait(
          [self = shared_from_this()](const boost::system::error_code&) { self->next(); });
      return;
    }
    AcquireResult out;
    out.reply = std::move(r).value();
    const std::string code = out.reply.error_code();
    if (out.reply.status == 200) {
      out.kind = AcquireResult::Kind::kGranted;
    } else if (out.reply.status == 409 && code == "lock_held") {
      if (!until || CtlClock::now() < *until) return next();
      out.kind = AcquireResult::Kind::kNotWithinWait;
    } else if (out.reply.status == 404 && code == "session_not_found") {
      out.kind = AcquireResult::Kind::kSessionGone;
    } else if (out.reply.status == 504) {
      return next();
    } else {
      out.kind = AcquireResult::Kind::kRefused;
    }
    done(std::move(out));
  }
};

}  // namespace

void acquire_loop(api::CtlClient& client, std::string path, nlohmann::json body,
                  std::optional<milliseconds> wait, std::function<void(AcquireResult)> done) {
  auto loop = std::make_shared<Loop>(client, std::move(path), std::move(body));
  if (wait) loop->until = CtlClock::now() + *wait;
  loop->done = std::move(done);
  loop->next();
}

}  // namespace raftlock::service
