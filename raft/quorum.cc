#include "raft/quorum.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace raftlock::raft {

Index quorum_index(const std::set<NodeId>& voters, const std::map<NodeId, Index>& match) {
  if (voters.empty()) return 0;
  std::vector<Index> m;
  m.reserve(voters.size());
  for (NodeId v : voters) {
    auto it = match.find(v);
    m.push_back(it == match.end() ? 0 : it->second);
  }
  // The (n/2+1)-th largest: every index at or below it is on a majority.
  std::sort(m.begin(), m.end(), std::greater<Index>());
  return m[voters.size() / 2];
}

VoteResult vote_result(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  std::size_t granted = 0;
  std::size_t rejected = 0;
  for (NodeId v : voters) {
    auto it = votes.find(v);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected)++;
  }
  const std::size_t majority = voters.size() / 2 + 1;
  if (granted >= majority) return VoteResult::kWon;
  if (voters.size() - rejected < majority) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool has_quorum(const std::set<NodeId>& voters, const std::set<NodeId>& active) {
  std::size_t n = 0;
  for (NodeId v : voters)
    n += active.count(v);
  return !voters.empty() && n >= voters.size() / 2 + 1;
}

}  // namespace raftlock::raft
