// Command-line parsing shared by raftlockctl's commands.
#include <cstdio>

#include "service/ctl_commands.h"

namespace raftlock::service {

namespace po = boost::program_options;

bool parse_command_args(const std::string& cmd, const po::options_description& desc,
                        const Words& args, po::variables_map* vm) {
  po::options_description all;
  all.add(desc);
  all.add_options()("operands", po::value<Words>(), "");
  po::positional_options_description pos;
  pos.add("operands", -1);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), *vm);
    po::notify(*vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "raftlockctl %s: %s\n", cmd.c_str(), e.what());
    return false;
  }
  return true;
}

Words operands(const po::variables_map& vm) {
  return vm.count("operands") ? vm["operands"].as<Words>() : Words{};
}

}  // namespace raftlock::service
