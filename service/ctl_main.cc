// raftlockctl: the command-line client of a raftlock cluster (docs/cli.md).
//
//   raftlockctl [--endpoints URL,...] [--json] [--timeout-ms N] COMMAND ...
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "api/ctl_client.h"
#include "service/ctl_commands.h"
#include "service/ctl_exit.h"

namespace {

namespace po = boost::program_options;
using raftlock::service::Words;

constexpr const char* kUsage =
    "usage: raftlockctl [--endpoints URL,URL,...] [--json] [--timeout-ms N] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  lock NAME [--ttl-ms N] [--wait-ms N] [--limit N] [--shared] [--kill-grace-ms N]\n"
    "       -- COMMAND ARGS...     run COMMAND while holding lock NAME\n"
    "  elect NAME --value V [--ttl-ms N] [--kill-grace-ms N]\n"
    "       -- COMMAND ARGS...     run COMMAND while leader of election NAME\n"
    "  observe NAME                print each leader change of election NAME (JSON lines)\n"
    "  leader                      the cluster's leader node\n"
    "  status [--cluster]          the answering node's Raft status (--cluster: every member's)\n"
    "  members [list | add ID PEER HTTP | remove ID]\n"
    "  transfer-leadership [ID]\n"
    "  locks [--prefix P]          held or waited-on locks\n"
    "  elections                   elections and their leaders\n"
    "  sessions                    open sessions\n"
    "\n"
    "Endpoints default to $RAFTLOCK_ENDPOINTS, then http://127.0.0.1:8080.\n"
    "Exit codes: 0 ok, 1 refused by the service, 75 lock not acquired within\n"
    "--wait-ms, 76 session lost (lock or leadership gone), 77 usage or connection\n"
    "error; lock and elect otherwise exit with COMMAND's status.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace raftlock;
  Words words(argv + 1, argv + argc), command;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--") {
      command.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
      words.resize(i);
      break;
    }
  }

  po::options_description globals("global options");
  std::string endpoints;
  std::int64_t timeout_ms = 0;
  globals.add_options()                                                              //
      ("help,h", "show this help")                                                   //
      ("endpoints", po::value(&endpoints), "comma-separated http://host:port list")  //
      ("json", "print the API's JSON instead of tables")                             //
      ("timeout-ms", po::value(&timeout_ms)->default_value(10000),
       "how long an administrative request may take, across endpoints");
  po::variables_map vm;
  Words rest;
  try {
    auto parsed = po::command_line_parser(words).options(globals).allow_unregistered().run();
    po::store(parsed, vm);
    po::notify(vm);
    rest = po::collect_unrecognized(parsed.options, po::include_positional);
  } catch (const po::error& e) {
    std::fprintf(stderr, "raftlockctl: %s\n%s", e.what(), kUsage);
    return service::kExitUsage;
  }
  if (vm.count("help")) {
    std::printf("%s", kUsage);
    return service::kExitOk;
  }
  std::string name;
  for (auto it = rest.begin(); it != rest.end(); ++it) {
    if (!it->empty() && (*it)[0] != '-') {
      name = *it;
      rest.erase(it);
      break;
    }
  }
  if (name.empty()) {
    std::fprintf(stderr, "%s", kUsage);
    return service::kExitUsage;
  }
  auto eps = api::resolve_endpoints(endpoints);
  if (!eps) {
    std::fprintf(stderr, "raftlockctl: %s\n", eps.status().message().c_str());
    return service::kExitUsage;
  }
  if (timeout_ms <= 0) {
    std::fprintf(stderr, "raftlockctl: --timeout-ms must be positive\n");
    return service::kExitUsage;
  }
  if (!command.empty() && name != "lock" && name != "elect") {
    std::fprintf(stderr, "raftlockctl: only lock and elect take a command after --\n");
    return service::kExitUsage;
  }

  boost::asio::io_context io(1);
  api::CtlClient client(io, std::move(eps).value());
  service::CtlContext ctx{client, vm.count("json") > 0, std::chrono::milliseconds(timeout_ms)};
  if (name == "lock") return service::ctl_lock(ctx, rest, command);
  if (name == "elect") return service::ctl_elect(ctx, rest, command);
  if (name == "observe") return service::ctl_observe(ctx, rest);
  if (service::is_admin_command(name)) return service::ctl_admin(ctx, name, rest);
  std::fprintf(stderr, "raftlockctl: unknown command '%s'\n%s", name.c_str(), kUsage);
  return service::kExitUsage;
}
