// raftlockctl elect NAME --value V [--ttl-ms N] [--kill-grace-ms N]
//                   [--session-name S] -- COMMAND ARGS...
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

int ctl_elect(CtlContext& ctx, const Words& args, const Words& command) {
  po::options_description desc("elect options");
  std::int64_t ttl_ms = 0, grace_ms = 0;
  std::string value, session_name;
  desc.add_options()                                                                        //
      ("value", po::value(&value)->required(), "this candidate's value, e.g. its address")  //
      ("ttl-ms", po::value(&ttl_ms)->default_value(10000), "session TTL")                   //
      ("kill-grace-ms", po::value(&grace_ms)->default_value(5000),
       "SIGTERM to SIGKILL delay when leadership is lost")  //
      ("session-name", po::value(&session_name)->default_value(default_session_name()),
       "name shown for the session");
  po::variables_map vm;
  if (!parse_command_args("elect", desc, args, &vm)) return kExitUsage;
  const Words ops = operands(vm);
  if (ops.size() != 1 || command.empty()) {
    std::fprintf(stderr, "usage: raftlockctl elect NAME --value V [options] -- COMMAND ARGS...\n");
    return kExitUsage;
  }
  if (ttl_ms < 1000 || ttl_ms > 86400000 || grace_ms < 0) {
    std::fprintf(stderr,
                 "raftlockctl elect: --ttl-ms must be 1000..86400000, "
                 "--kill-grace-ms >= 0\n");
    return kExitUsage;
  }
  const std::string name = ops[0];

  HoldSpec spec;
  spec.what = "leadership of election " + name;
  spec.ttl_ms = ttl_ms;
  spec.session_name = session_name;
  spec.command = command;
  spec.kill_grace = milliseconds(grace_ms);
  spec.obtain = [&ctx, name, value](const std::string& session,
                                    std::function<void(HoldOutcome)> done) {
    acquire_loop(
        ctx.client, "/v1/elections/" + name + "/campaign",
        json{{"session", session}, {"value", value}}, std::nullopt,
        [name, value, done](AcquireResult r) {
          HoldOutcome o;
          if (r.kind == AcquireResult::Kind::kGranted) {
            const std::string term = std::to_string(r.reply.body.value("term", std::int64_t{0}));
            o.env = {{"RAFTLOCK_ELECTION", name},
                     {"RAFTLOCK_ELECTION_TERM", term},
                     {"RAFTLOCK_ELECTION_VALUE", value},
                     {"RAFTLOCK_FENCING_TOKEN", term}};
          } else if (r.kind == AcquireResult::Kind::kSessionGone) {
            o.exit_code = kExitLost;
            o.message = "the session ended while campaigning in election " + name;
          } else {
            o.exit_code = kExitUsage;
            o.message = "campaigning in election " + name + ": " + std::to_string(r.reply.status) +
                        " " + r.reply.error_code() + ": " + r.reply.error_message();
          }
          done(std::move(o));
        });
  };
  spec.give_back = [&ctx, name](const std::string& session, std::function<void()> done) {
    api::CtlRequest req = api::ctl_request("POST", "/v1/elections/" + name + "/resign",
                                           json{{"session", session}}, ctx.timeout);
    req.retry_timeout = true;
    ctx.client.call(std::move(req), [done](Result<api::CtlReply>) { done(); });
  };
  return HoldRunner(ctx.client, std::move(spec)).run();
}

}  // namespace raftlock::service
