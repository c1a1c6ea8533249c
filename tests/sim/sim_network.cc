#include "tests/sim/sim_network.h"

namespace raftlock::sim {

void Network::block_between(const std::set<raft::NodeId>& a, const std::set<raft::NodeId>& b,
                            bool both_ways) {
  for (raft::NodeId x : a) {
    for (raft::NodeId y : b) {
      if (x == y) continue;
      block(x, y);
      if (both_ways) block(y, x);
    }
  }
}

std::string Network::describe() const {
  if (blocked_.empty()) return "fully connected";
  std::string out = "blocked";
  for (const auto& [from, to] : blocked_) {
    out += ' ';
    out += std::to_string(from);
    out += '>';
    out += std::to_string(to);
  }
  return out;
}

}  // namespace raftlock::sim
