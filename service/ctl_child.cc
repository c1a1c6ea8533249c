#include "service/ctl_child.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace raftlock::service {

Child::Child(boost::asio::io_context& io) : sigchld_(io, SIGCHLD), kill_timer_(io) {}

Status Child::spawn(const std::vector<std::string>& argv, const EnvVars& env, ExitHandler on_exit) {
  if (argv.empty()) return Status(ErrorCode::kInvalidArgument, "no command given");
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are made.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    const std::string key(*e, eq ? static_cast<std::size_t>(eq - *e) : std::strlen(*e));
    bool replaced = false;
    for (const auto& [k, v] : env)
      replaced |= k == key;
    if (!replaced) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy)
    args.push_back(s.data());
  args.push_back(nullptr);

  on_exit_ = std::move(on_exit);
  wait_sigchld();  // registered before fork: an instant exit is not missed
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status(ErrorCode::kIo, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);  // raftlockctl died before prctl
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvpe(args[0], args.data(), envp.data());
    const int err = errno;
    const char* msg = std::strerror(err);
    (void)!write(2, "raftlockctl: cannot execute ", 28);
    (void)!write(2, args[0], std::strlen(args[0]));
    (void)!write(2, ": ", 2);
    (void)!write(2, msg, std::strlen(msg));
    (void)!write(2, "\n", 1);
    _exit(err == ENOENT ? 127 : 126);
  }
  setpgid(pid, pid);  // also in the parent, so signal() works at once
  pid_ = pid;
  return Status::ok();
}

void Child::wait_sigchld() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (pid_ <= 0) return wait_sigchld();
    int wstatus = 0;
    const pid_t r = waitpid(pid_, &wstatus, WNOHANG);
    if (r != pid_) return wait_sigchld();
    exited_ = true;
    kill_timer_.cancel();
    int status = 0;
    if (WIFEXITED(wstatus)) status = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) status = 128 + WTERMSIG(wstatus);
    if (on_exit_) on_exit_(status);
  });
}

void Child::signal(int sig) {
  if (!running()) return;
  // The group first; if the command left it (setsid), the process itself.
  if (kill(-pid_, sig) != 0) kill(pid_, sig);
}

void Child::terminate(std::chrono::milliseconds grace) {
  if (!running()) return;
  signal(SIGTERM);
  kill_timer_.expires_after(grace);
  kill_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running()) return;
    std::fprintf(stderr, "raftlockctl: command did not exit after SIGTERM; sending SIGKILL\n");
    signal(SIGKILL);
  });
}

}  // namespace raftlock::service
