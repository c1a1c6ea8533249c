// The values the Raft core reads, writes and exchanges: log entries, persistent
// state, configurations, snapshots and messages. Plain data, no behaviour.
//
// Logs are 1-indexed; (index 0, term 0) is the sentinel before the first entry.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace raftlock::raft {

using NodeId = std::uint64_t;  // 0 means "none"
using Term = std::uint64_t;
using Index = std::uint64_t;
using Bytes = std::string;  // opaque payload bytes

inline constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
  kNoop = 0,        // appended by a new leader (§5.4.2, §8); carries no data
  kNormal = 1,      // a state machine command
  kConfChange = 2,  // a single-server membership change (data = encoded ConfChange)
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  Bytes data;

  bool operator==(const Entry&) const = default;
};

// Payload size of an entry, used for the byte limits of messages.
inline std::uint64_t entry_bytes(const Entry& e) {
  return e.data.size() + 24;
}

// Figure 2, "Persistent state on all servers", plus the commit index so that a
// restarted node does not have to rediscover it.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
};

// A cluster configuration: who votes and who only receives the log (§4, §4.2.1).
struct ConfState {
  std::set<NodeId> voters;
  std::set<NodeId> learners;

  bool operator==(const ConfState&) const = default;
  bool contains(NodeId id) const { return voters.count(id) || learners.count(id); }
};

struct SnapshotMeta {
  Index index = 0;  // last index the snapshot covers (lastIncludedIndex, §7)
  Term term = 0;    // term of that entry (lastIncludedTerm)
  ConfState conf;   // configuration as of `index`

  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  Bytes data;  // the state machine's image; opaque to the core

  bool empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

enum class MessageType : std::uint8_t {
  kVote = 1,  // RequestVote (§5.2)
  kVoteResp = 2,
  kPreVote = 3,  // PreVote (§9.6 of the thesis): does not change terms
  kPreVoteResp = 4,
  kAppend = 5,  // AppendEntries (§5.3)
  kAppendResp = 6,
  kHeartbeat = 7,  // AppendEntries without entries; carries commit and read context
  kHeartbeatResp = 8,
  kSnapshot = 9,     // InstallSnapshot (§7)
  kTimeoutNow = 10,  // leadership transfer (§3.10 of the thesis)
  kPropose = 11,     // a follower forwards proposals to the leader
  kReadIndex = 12,   // a follower asks the leader for a read index (§6.4)
  kReadIndexResp = 13,
};

const char* message_type_name(MessageType t);

// One message type for every RPC, as on the wire. Which fields matter depends
// on `type`; the others stay zero/empty.
struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;  // sender's term; 0 for kPropose and kReadIndex, which carry no term

  // kAppend: prevLogTerm/prevLogIndex. kVote/kPreVote: lastLogTerm/lastLogIndex.
  // kAppendResp: index = last index now matching (success) or the rejected prev
  // index (reject). kReadIndexResp: index = the read index.
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;  // kAppend, kPropose
  Index commit = 0;            // kAppend, kHeartbeat: leader's commit index

  bool reject = false;
  // kAppendResp with reject: the follower's hint for the conflict-term fast
  // backup (§5.3): the last index <= the rejected index whose term <= hint_term.
  Index reject_hint = 0;
  Term hint_term = 0;

  Snapshot snapshot;  // kSnapshot
  Bytes context;      // kHeartbeat(+Resp), kReadIndex(+Resp): read request id.
                      // kVote: "transfer" when campaigning after kTimeoutNow.
  bool operator==(const Message&) const = default;
};

// A read the state machine may serve once its applied index reaches `index` (§6.4).
struct ReadState {
  Index index = 0;
  Bytes context;
  bool operator==(const ReadState&) const = default;
};

enum class Role : std::uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* role_name(Role r);

}  // namespace raftlock::raft
