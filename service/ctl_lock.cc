// raftlockctl lock NAME [--ttl-ms N] [--wait-ms N] [--limit N] [--shared]
//                  [--kill-grace-ms N] [--session-name S] -- COMMAND ARGS...
#include <cstdio>

#include "service/ctl_acquire.h"
#include "service/ctl_commands.h"
#include "service/ctl_exit.h"
#include "service/ctl_hold.h"
#include "service/ctl_session_name.h"

namespace raftlock::service {

namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

int ctl_lock(CtlContext& ctx, const Words& args, const Words& command) {
  po::options_description desc("lock options");
  std::int64_t ttl_ms = 0, wait_ms = 0, limit = 0, grace_ms = 0;
  std::string session_name;
  desc.add_options()                                                       //
      ("ttl-ms", po::value(&ttl_ms)->default_value(10000), "session TTL")  //
      ("wait-ms", po::value(&wait_ms)->default_value(-1),
       "give up (exit 75) if not acquired within this; -1 waits forever")                     //
      ("limit", po::value(&limit)->default_value(1), "holders allowed (a semaphore if > 1)")  //
      ("shared", "take a shared (read) lock")                                                 //
      ("kill-grace-ms", po::value(&grace_ms)->default_value(5000),
       "SIGTERM to SIGKILL delay when the lock is lost")  //
      ("session-name", po::value(&session_name)->default_value(default_session_name()),
       "name shown for the session");
  po::variables_map vm;
  if (!parse_command_args("lock", desc, args, &vm)) return kExitUsage;
  const Words ops = operands(vm);
  if (ops.size() != 1 || command.empty()) {
    std::fprintf(stderr, "usage: raftlockctl lock NAME [options] -- COMMAND ARGS...\n");
    return kExitUsage;
  }
  if (ttl_ms < 1000 || ttl_ms > 86400000 || limit < 1 || grace_ms < 0 || wait_ms < -1) {
    std::fprintf(stderr,
                 "raftlockctl lock: --ttl-ms must be 1000..86400000, --limit >= 1, "
                 "--wait-ms >= -1, --kill-grace-ms >= 0\n");
    return kExitUsage;
  }
  const std::string name = ops[0];
  const bool shared = vm.count("shared") > 0;
  std::optional<milliseconds> wait;
  if (wait_ms >= 0) wait = milliseconds(wait_ms);
  auto token = std::make_shared<std::int64_t>(0);

  HoldSpec spec;
  spec.what = "lock " + name;
  spec.ttl_ms = ttl_ms;
  spec.session_name = session_name;
  spec.command = command;
  spec.kill_grace = milliseconds(grace_ms);
  spec.obtain = [&ctx, name, shared, limit, wait, wait_ms, token](
                    const std::string& session, std::function<void(HoldOutcome)> done) {
    json body = {{"session", session}, {"limit", limit}, {"mode", shared ? "shared" : "exclusive"}};
    acquire_loop(
        ctx.client, "/v1/locks/" + name + "/acquire", body, wait,
        [name, wait_ms, token, done](AcquireResult r) {
          HoldOutcome o;
          switch (r.kind) {
            case AcquireResult::Kind::kGranted:
              *token = r.reply.body.value("fencing_token", std::int64_t{0});
              o.env = {{"RAFTLOCK_LOCK", name}, {"RAFTLOCK_FENCING_TOKEN", std::to_string(*token)}};
              break;
            case AcquireResult::Kind::kNotWithinWait:
              o.exit_code = kExitNotAcquired;
              o.message =
                  "lock " + name + " not acquired within " + std::to_string(wait_ms) + " ms";
              break;
            case AcquireResult::Kind::kSessionGone:
              o.exit_code = kExitLost;
              o.message = "the session ended while waiting for lock " + name;
              break;
            case AcquireResult::Kind::kRefused:
              o.exit_code = kExitUsage;
              o.message = "acquiring lock " + name + ": " + std::to_string(r.reply.status) + " " +
                          r.reply.error_code() + ": " + r.reply.error_message();
              break;
          }
          done(std::move(o));
        });
  };
  spec.give_back = [&ctx, name, token](const std::string& session, std::function<void()> done) {
    api::CtlRequest req =
        api::ctl_request("POST", "/v1/locks/" + name + "/release",
                         json{{"session", session}, {"fencing_token", *token}}, ctx.timeout);
    req.retry_timeout = true;
    ctx.client.call(std::move(req), [done](Result<api::CtlReply>) { done(); });
  };
  return HoldRunner(ctx.client, std::move(spec)).run();
}

}  // namespace raftlock::service
