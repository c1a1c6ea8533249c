#include "raft/types.h"

namespace raftlock::raft {

const char* message_type_name(MessageType t) {
  switch (t) {
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResp:
      return "VoteResp";
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResp:
      return "PreVoteResp";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResp:
      return "AppendResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResp:
      return "HeartbeatResp";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kPropose:
      return "Propose";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResp:
      return "ReadIndexResp";
  }
  return "Unknown";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

}  // namespace raftlock::raft
