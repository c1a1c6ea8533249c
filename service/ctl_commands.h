// raftlockctl's commands (docs/cli.md). Each takes the words after its name
// (options and operands) and, for lock and elect, the command to run (the
// words after "--"), and returns the process exit code (ctl_exit.h).
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "api/ctl_client.h"

namespace raftlock::service {

struct CtlContext {
  api::CtlClient& client;
  bool json = false;                         // --json: print the API's JSON
  std::chrono::milliseconds timeout{10000};  // --timeout-ms: per administrative request
};

using Words = std::vector<std::string>;

int ctl_lock(CtlContext& ctx, const Words& args, const Words& command);
int ctl_elect(CtlContext& ctx, const Words& args, const Words& command);
int ctl_observe(CtlContext& ctx, const Words& args);
// leader, status, members, transfer-leadership, locks, elections, sessions.
int ctl_admin(CtlContext& ctx, const std::string& name, const Words& args);
// Sends one request (failing over between endpoints; a 409 with Retry-After
// is asked again until --timeout-ms). On success (2xx) stores the body in
// `out` and returns -1; else prints the problem and returns the exit code
// (77 when no endpoint answered, 1 when the service refused).
int ctl_send(CtlContext& ctx, const std::string& method, const std::string& target,
             std::optional<nlohmann::json> body, nlohmann::json* out);
bool is_admin_command(const std::string& name);

// Parses `args` against `desc`, the operands (non-option words) landing in
// "operands" as a vector<string>. Prints the problem and returns false on
// an error.
bool parse_command_args(const std::string& cmd,
                        const boost::program_options::options_description& desc, const Words& args,
                        boost::program_options::variables_map* vm);

// The operands parse_command_args collected.
Words operands(const boost::program_options::variables_map& vm);

}  // namespace raftlock::service
