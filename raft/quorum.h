// Majority arithmetic over a set of voters. Learners never count.
#pragma once

#include <map>
#include <set>

#include "raft/types.h"

namespace raftlock::raft {

// The largest index replicated on a majority of `voters` (missing = 0):
// the (n/2+1)-th largest match index. 0 for an empty voter set... never
// happens in a live cluster; callers treat 0 as "nothing committed".
Index quorum_index(const std::set<NodeId>& voters, const std::map<NodeId, Index>& match);

enum class VoteResult { kPending, kWon, kLost };

// Tally of an election: won when a majority granted, lost when a majority
// can no longer grant. Answers from non-voters are ignored.
VoteResult vote_result(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes);

// True if `active` contains a majority of `voters`.
bool has_quorum(const std::set<NodeId>& voters, const std::set<NodeId>& active);

}  // namespace raftlock::raft
