// Quorum arithmetic (pitfall 9: "mode" instead of the (n/2+1)-th largest match
// index, counting the leader twice, wrong for 4- and 6-node clusters,
// counting non-voters). Property tests: every match vector up to n = 7 with
// small indexes, compared against a brute force written from the definition.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <vector>

#include "raft/quorum.h"

namespace raftlock::raft {
namespace {

std::set<NodeId> voter_ids(int n) {
  std::set<NodeId> v;
  for (int i = 1; i <= n; ++i)
    v.insert(static_cast<NodeId>(i));
  return v;
}

// Definition (§5.3, §5.4.2): N is replicated on a majority when more than
// half of the voters have match >= N. The answer is the largest such N.
Index brute_quorum_index(int n, const std::vector<int>& match) {  // -1: missing
  Index best = 0;
  for (Index cand = 0; cand <= 8; ++cand) {
    int count = 0;
    for (int m : match)
      count += (m >= 0 && static_cast<Index>(m) >= cand) ? 1 : 0;
    if (2 * count > n) best = cand;
  }
  return best;
}

constexpr NodeId kLearner = 100;  // a non-voter that must never count

TEST_CASE("quorum_index equals the brute-force majority index for every vector up to n=7") {
  // Values per voter: missing (-1), 0, 1, 2, 3.
  long cases = 0;
  for (int n = 1; n <= 7; ++n) {
    const std::set<NodeId> voters = voter_ids(n);
    std::vector<int> match(n, -1);
    int total = 1;
    for (int k = 0; k < n; ++k)
      total *= 5;
    for (int code = 0; code < total; ++code) {
      int c = code;
      std::map<NodeId, Index> m;
      for (int k = 0; k < n; ++k) {
        match[k] = c % 5 - 1;
        c /= 5;
        if (match[k] >= 0) m[static_cast<NodeId>(k + 1)] = static_cast<Index>(match[k]);
      }
      // A learner far ahead must not move the answer.
      m[kLearner] = 50;
      const Index want = brute_quorum_index(n, match);
      const Index got = quorum_index(voters, m);
      if (got != want) {
        std::string v;
        for (int x : match)
          v += std::to_string(x) + " ";
        FAIL_CHECK("n=" << n << " match=[" << v << "] want " << want << " got " << got);
      }
      ++cases;
    }
  }
  CHECK(cases == 5 + 25 + 125 + 625 + 3125 + 15625 + 78125);
}

TEST_CASE("quorum_index: worked examples for even clusters") {
  // 4 voters: the majority is 3, so the answer is the 3rd largest.
  CHECK(quorum_index({1, 2, 3, 4}, {{1, 5}, {2, 5}, {3, 3}, {4, 1}}) == 3);
  CHECK(quorum_index({1, 2, 3, 4}, {{1, 5}, {2, 5}}) == 0);
  // 6 voters: the 4th largest.
  CHECK(quorum_index({1, 2, 3, 4, 5, 6}, {{1, 9}, {2, 8}, {3, 7}, {4, 6}, {5, 1}, {6, 1}}) == 6);
  // "Mode" would say 1 here (akka-raft #42).
  CHECK(quorum_index({1, 2, 3, 4, 5}, {{1, 1}, {2, 1}, {3, 4}, {4, 5}, {5, 6}}) == 4);
  // Empty voter set: documented as 0.
  CHECK(quorum_index({}, {{1, 5}}) == 0);
}

VoteResult brute_vote(int n, const std::vector<int>& votes) {  // -1 none, 0 no, 1 yes
  int yes = 0, no = 0;
  for (int v : votes) {
    yes += v == 1;
    no += v == 0;
  }
  if (2 * yes > n) return VoteResult::kWon;
  if (2 * (n - no) <= n) return VoteResult::kLost;  // even all pending can't win
  return VoteResult::kPending;
}

const char* vr_name(VoteResult r) {
  switch (r) {
    case VoteResult::kPending:
      return "pending";
    case VoteResult::kWon:
      return "won";
    case VoteResult::kLost:
      return "lost";
  }
  return "?";
}

TEST_CASE("vote_result equals the brute-force tally for every vote vector up to n=7") {
  for (int n = 1; n <= 7; ++n) {
    const std::set<NodeId> voters = voter_ids(n);
    int total = 1;
    for (int k = 0; k < n; ++k)
      total *= 3;
    std::vector<int> votes(n);
    for (int code = 0; code < total; ++code) {
      int c = code;
      std::map<NodeId, bool> m;
      for (int k = 0; k < n; ++k) {
        votes[k] = c % 3 - 1;
        c /= 3;
        if (votes[k] >= 0) m[static_cast<NodeId>(k + 1)] = votes[k] == 1;
      }
      for (const bool learner_vote : {true, false}) {
        std::map<NodeId, bool> with_learner = m;
        with_learner[kLearner] = learner_vote;  // answers from non-voters are ignored
        const VoteResult want = brute_vote(n, votes);
        const VoteResult got = vote_result(voters, with_learner);
        if (got != want) {
          std::string v;
          for (int x : votes)
            v += std::to_string(x) + " ";
          FAIL_CHECK("n=" << n << " votes=[" << v << "] learner=" << learner_vote << " want "
                          << vr_name(want) << " got " << vr_name(got));
        }
      }
    }
  }
}

TEST_CASE("has_quorum equals the brute-force majority for every subset up to n=7") {
  for (int n = 1; n <= 7; ++n) {
    const std::set<NodeId> voters = voter_ids(n);
    for (int mask = 0; mask < (1 << n); ++mask) {
      std::set<NodeId> active{kLearner, kLearner + 1, kLearner + 2, kLearner + 3};
      int count = 0;
      for (int k = 0; k < n; ++k) {
        if (mask & (1 << k)) {
          active.insert(static_cast<NodeId>(k + 1));
          ++count;
        }
      }
      CHECK_MESSAGE(has_quorum(voters, active) == (2 * count > n), "n=" << n << " mask=" << mask);
    }
  }
}

}  // namespace
}  // namespace raftlock::raft
