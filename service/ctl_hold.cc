#include "service/ctl_hold.h"

#include <csignal>
#include <cstdio>

#include "service/ctl_exit.h"

namespace raftlock::service {

using std::chrono::milliseconds;

namespace {

constexpr milliseconds kCreateTotal{15000};  // to create the session, across endpoints
constexpr milliseconds kCloseTotal{5000};    // to close it after a normal run
constexpr milliseconds kCloseLostTotal{1000};

}  // namespace

HoldRunner::HoldRunner(api::CtlClient& client, HoldSpec spec)
    : client_(client),
      io_(client.io()),
      spec_(std::move(spec)),
      lease_(client, spec_.ttl_ms, spec_.session_name),
      child_(io_),
      signals_(io_, SIGINT, SIGTERM) {}

int HoldRunner::run() {
  wait_signal();
  lease_.create(kCreateTotal, [this](Status s) { on_created(std::move(s)); });
  io_.restart();
  io_.run();
  return exit_code_;
}

void HoldRunner::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    on_signal(sig);
    if (phase_ != Phase::kDone) wait_signal();
  });
}

void HoldRunner::on_signal(int sig) {
  switch (phase_) {
    case Phase::kCreating:
      return finish(128 + sig);
    case Phase::kObtaining:
      // Closing the session also cancels its wait on the server.
      phase_ = Phase::kStopping;
      return close_and_finish(128 + sig, kCloseLostTotal);
    case Phase::kRunning:
      return child_.signal(sig);
    case Phase::kStopping:
      return finish(128 + sig);  // a second signal: do not wait any longer
    case Phase::kDone:
      return;
  }
}

void HoldRunner::on_created(Status s) {
  if (phase_ != Phase::kCreating) return;
  if (!s) {
    std::fprintf(stderr, "raftlockctl: cannot create a session: %s\n", s.message().c_str());
    return finish(kExitUsage);
  }
  lease_.keep([this](const std::string& reason) { on_lost(reason); });
  phase_ = Phase::kObtaining;
  spec_.obtain(lease_.id(), [this](HoldOutcome o) { on_obtained(std::move(o)); });
}

void HoldRunner::on_obtained(HoldOutcome o) {
  if (phase_ != Phase::kObtaining) return;
  if (o.exit_code != 0) {
    std::fprintf(stderr, "raftlockctl: %s\n", o.message.c_str());
    phase_ = Phase::kStopping;
    return close_and_finish(o.exit_code, kCloseLostTotal);
  }
  o.env.emplace_back("RAFTLOCK_SESSION", lease_.id());
  Status s = child_.spawn(spec_.command, o.env, [this](int st) { on_child_exit(st); });
  if (!s) {
    std::fprintf(stderr, "raftlockctl: %s\n", s.message().c_str());
    phase_ = Phase::kStopping;
    return spec_.give_back(lease_.id(), [this]() { close_and_finish(kExitUsage, kCloseTotal); });
  }
  phase_ = Phase::kRunning;
}

void HoldRunner::on_lost(const std::string& reason) {
  std::fprintf(stderr, "raftlockctl: %s lost: %s\n", spec_.what.c_str(), reason.c_str());
  lost_ = true;
  if (phase_ == Phase::kRunning) {
    std::fprintf(stderr, "raftlockctl: stopping the command (SIGTERM, SIGKILL after %lld ms)\n",
                 static_cast<long long>(spec_.kill_grace.count()));
    return child_.terminate(spec_.kill_grace);
  }
  if (phase_ == Phase::kObtaining) {
    phase_ = Phase::kStopping;
    close_and_finish(kExitLost, kCloseLostTotal);
  }
}

void HoldRunner::on_child_exit(int status) {
  if (phase_ != Phase::kRunning) return;
  phase_ = Phase::kStopping;
  if (lost_) return close_and_finish(kExitLost, kCloseLostTotal);
  lease_.stop();
  spec_.give_back(lease_.id(), [this, status]() { close_and_finish(status, kCloseTotal); });
}

void HoldRunner::close_and_finish(int code, milliseconds total) {
  lease_.close(total, [this, code]() { finish(code); });
}

void HoldRunner::finish(int code) {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  exit_code_ = code;
  io_.stop();
}

}  // namespace raftlock::service
