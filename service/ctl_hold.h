// What `raftlockctl lock` and `raftlockctl elect` share: create a session,
// keep it alive, obtain something with it (a lock grant, a leadership), run
// the command while holding it, stop the command when the session is lost,
// then give the hold back and close the session.
//
// Signals: SIGINT and SIGTERM received while the command runs are forwarded
// to it (its exit then ends the run as usual); received before, they close
// the session and end raftlockctl with 128 + signal.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/ctl_client.h"
#include "api/ctl_lease.h"
#include "service/ctl_child.h"

namespace raftlock::service {

// How an attempt to obtain the hold ended.
struct HoldOutcome {
  int exit_code = 0;    // 0: held; else the exit code to end with
  std::string message;  // why not held (printed)
  EnvVars env;          // for the command, when held
};

struct HoldSpec {
  std::string what;  // "lock NAME" / "election NAME", for messages
  std::int64_t ttl_ms = 10000;
  std::string session_name;
  std::vector<std::string> command;
  std::chrono::milliseconds kill_grace{5000};
  // Obtains the hold for `session`; calls done exactly once.
  std::function<void(const std::string& session, std::function<void(HoldOutcome)> done)> obtain;
  // Gives it back (best effort); calls done exactly once.
  std::function<void(const std::string& session, std::function<void()> done)> give_back;
};

class HoldRunner {
 public:
  HoldRunner(api::CtlClient& client, HoldSpec spec);

  // Runs everything on the client's io; returns the exit code.
  int run();

 private:
  enum class Phase { kCreating, kObtaining, kRunning, kStopping, kDone };

  void on_created(Status s);
  void on_obtained(HoldOutcome o);
  void on_lost(const std::string& reason);
  void on_child_exit(int status);
  void on_signal(int sig);
  void wait_signal();
  void close_and_finish(int code, std::chrono::milliseconds total);
  void finish(int code);

  api::CtlClient& client_;
  boost::asio::io_context& io_;
  HoldSpec spec_;
  api::Lease lease_;
  Child child_;
  boost::asio::signal_set signals_;
  Phase phase_ = Phase::kCreating;
  bool lost_ = false;
  int exit_code_ = 0;
};

}  // namespace raftlock::service
