// Leader election (§5.2, §5.4.1) with PreVote (T§9.6).
#include "raft/core.h"
#include "raft/quorum.h"

namespace raftlock::raft {

void Core::start_election(bool pre_vote, bool transfer) {
  Term vote_term;
  MessageType type;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = term_ + 1;  // the term we would campaign in; ours stays unchanged
    type = MessageType::kPreVote;
  } else {
    become_candidate();
    vote_term = term_;
    type = MessageType::kVote;
  }
  const int result = poll(id_, true);
  if (result > 0) {
    // A single-voter cluster wins at once.
    if (pre_vote) {
      start_election(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId v : conf().voters) {
    if (v == id_) continue;
    Message m{.type = type, .to = v, .term = vote_term};
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (transfer) m.context = kTransferContext;
    send(std::move(m));
  }
}

void Core::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  // §5.2: at most one vote per term, first-come-first-served. A pre-vote for a
  // later term promises nothing, so it may be granted freely.
  bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) || (pre && m.term > term_);
  if (cfg_.mutations.grant_two_votes_per_term && !pre && leader_ == kNoNode) can_vote = true;
  // §5.4.1: only for a candidate whose log is at least as up-to-date as ours.
  const bool up_to_date =
      log_.is_up_to_date(m.index, m.log_term) || cfg_.mutations.ignore_log_up_to_date;
  const MessageType resp = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  if (can_vote && up_to_date) {
    // Answer in the term of the request, so the (pre-)candidate counts it.
    send(Message{.type = resp, .to = m.from, .term = m.term});
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    send(Message{.type = resp, .to = m.from, .reject = true});
  }
}

void Core::handle_vote_response(const Message& m) {
  const bool pre = m.type == MessageType::kPreVoteResp;
  if ((pre && role_ != Role::kPreCandidate) || (!pre && role_ != Role::kCandidate)) return;
  const int result = poll(m.from, !m.reject);
  if (result > 0) {
    if (pre) {
      start_election(false, false);
    } else {
      become_leader();
    }
  } else if (result < 0) {
    // Lost: wait as a follower for a leader or the next timeout.
    become_follower(term_, kNoNode);
  }
}

int Core::poll(NodeId id, bool granted) {
  // A set of voters, not a counter: duplicated answers count once.
  votes_.emplace(id, granted);
  switch (vote_result(conf().voters, votes_)) {
    case VoteResult::kWon:
      return 1;
    case VoteResult::kLost:
      return -1;
    case VoteResult::kPending:
      return 0;
  }
  return 0;
}

}  // namespace raftlock::raft
