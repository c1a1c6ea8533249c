// raftlockctl observe NAME: one JSON line per leader change of an election,
// from blocking GETs (?index=&wait_ms=), until SIGINT or SIGTERM.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>

#include "service/ctl_commands.h"
#include "service/ctl_exit.h"

namespace raftlock::service {

namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t kWatchWaitMs = 30000;
constexpr milliseconds kUnreachablePause{200};

class Observer {
 public:
  Observer(api::CtlClient& client, std::string name) : client_(client), name_(std::move(name)) {}

  int run() {
    boost::asio::signal_set signals(client_.io(), SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) finish(kExitOk);
    });
    poll();
    client_.io().restart();
    client_.io().run();
    return exit_code_;
  }

 private:
  void poll() {
    std::string target = "/v1/elections/" + name_;
    if (index_ >= 0) {
      target += "?index=" + std::to_string(index_) + "&wait_ms=" + std::to_string(kWatchWaitMs);
    }
    api::CtlRequest req =
        api::ctl_request("GET", target, std::nullopt, milliseconds(kWatchWaitMs + 30000));
    req.attempt_timeout = milliseconds(kWatchWaitMs + 10000);
    req.retry_timeout = true;
    client_.call(std::move(req), [this](Result<api::CtlReply> r) { answered(std::move(r)); });
  }

  void answered(Result<api::CtlReply> r) {
    if (!r) {
      timer_.expires_after(kUnreachablePause);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) poll();
      });
      return;
    }
    if (r->status != 200 || !r->body.is_object()) {
      std::fprintf(stderr, "raftlockctl observe: %d %s: %s\n", r->status, r->error_code().c_str(),
                   r->error_message().c_str());
      return finish(kExitRefused);
    }
    const json& b = r->body;
    const json leader = b.value("leader", json(nullptr));
    if (!printed_ || leader != last_leader_) {
      json line = {{"election", name_},
                   {"leader", leader},
                   {"modify_index", b.value("modify_index", std::int64_t{0})}};
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
      printed_ = true;
      last_leader_ = leader;
    }
    index_ = b.value("modify_index", std::int64_t{0});
    poll();
  }

  void finish(int code) {
    exit_code_ = code;
    client_.io().stop();
  }

  api::CtlClient& client_;
  std::string name_;
  boost::asio::steady_timer timer_{client_.io()};
  std::int64_t index_ = -1;
  bool printed_ = false;
  json last_leader_;
  int exit_code_ = kExitOk;
};

}  // namespace

int ctl_observe(CtlContext& ctx, const Words& args) {
  po::options_description desc("observe options");
  po::variables_map vm;
  if (!parse_command_args("observe", desc, args, &vm)) return kExitUsage;
  const Words ops = operands(vm);
  if (ops.size() != 1) {
    std::fprintf(stderr, "usage: raftlockctl observe NAME\n");
    return kExitUsage;
  }
  return Observer(ctx.client, ops[0]).run();
}

}  // namespace raftlock::service
