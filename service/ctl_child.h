// The command raftlockctl runs while it holds a lock or leads an election:
// started directly (fork + execvpe, no shell) in its own process group, so a
// signal reaches the command and everything it started; watched through
// SIGCHLD on the io; stopped with SIGTERM and, after a grace period, SIGKILL.
//
// On Linux the command also gets SIGKILL if raftlockctl itself dies: nothing
// would then stop it when the session's lease runs out.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "raft/result.h"

namespace raftlock::service {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class Child {
 public:
  // Called once with the command's exit status in shell form: its exit code,
  // or 128 + signal number when a signal ended it.
  using ExitHandler = std::function<void(int status)>;

  explicit Child(boost::asio::io_context& io);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Starts argv[0] (looked up in PATH) with this process's environment plus
  // `env`. kInvalidArgument when argv is empty, kIo when fork fails. A
  // command that cannot be executed exits 127 (126: not executable).
  Status spawn(const std::vector<std::string>& argv, const EnvVars& env, ExitHandler on_exit);

  bool running() const { return pid_ > 0 && !exited_; }
  pid_t pid() const { return pid_; }

  // Sends `sig` to the command's process group. No-op once it exited.
  void signal(int sig);

  // SIGTERM now, SIGKILL if it has not exited after `grace`.
  void terminate(std::chrono::milliseconds grace);

 private:
  void wait_sigchld();

  boost::asio::signal_set sigchld_;
  boost::asio::steady_timer kill_timer_;
  ExitHandler on_exit_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

}  // namespace raftlock::service
