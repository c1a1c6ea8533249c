#include "tests/sim/sim_format.h"

#include "raft/conf_change.h"

namespace raftlock::sim {

const char* change_name(raft::ConfChangeType t) {
  switch (t) {
    case raft::ConfChangeType::kBootstrap:
      return "bootstrap";
    case raft::ConfChangeType::kAddLearner:
      return "add-learner";
    case raft::ConfChangeType::kAddVoter:
      return "add-voter";
    case raft::ConfChangeType::kRemoveNode:
      return "remove";
  }
  return "?";
}

std::string describe_entry(const raft::Entry& e) {
  switch (e.type) {
    case raft::EntryType::kNoop:
      return "noop";
    case raft::EntryType::kNormal:
      return e.data;
    case raft::EntryType::kConfChange: {
      const Result<raft::ConfChangeEntry> cc = raft::decode_conf_change_entry(e.data);
      if (!cc) return "conf <corrupt>";
      return cat("conf ", change_name(cc->change.type), " ", cc->change.node, " -> ",
                 describe(cc->result));
    }
  }
  return "?";
}

std::string describe(const raft::ConfState& c) {
  std::string out = "{";
  bool first = true;
  for (raft::NodeId v : c.voters) {
    if (!first) out += ',';
    out += std::to_string(v);
    first = false;
  }
  if (!c.learners.empty()) {
    out += " learners";
    for (raft::NodeId l : c.learners) {
      out += ' ';
      out += std::to_string(l);
    }
  }
  return out + "}";
}

std::string describe(const raft::Message& m) {
  std::ostringstream out;
  out << raft::message_type_name(m.type) << " " << m.from << "->" << m.to << " t" << m.term;
  switch (m.type) {
    case raft::MessageType::kAppend:
      out << " prev(" << m.index << ",t" << m.log_term << ")";
      if (!m.entries.empty()) {
        out << " [" << m.entries.front().index << ".." << m.entries.back().index << "]";
      }
      out << " commit " << m.commit;
      break;
    case raft::MessageType::kAppendResp:
      out << (m.reject ? " reject " : " ok ") << m.index;
      if (m.reject) out << " hint(" << m.reject_hint << ",t" << m.hint_term << ")";
      break;
    case raft::MessageType::kVote:
    case raft::MessageType::kPreVote:
      out << " last(" << m.index << ",t" << m.log_term << ")";
      if (!m.context.empty()) out << " " << m.context;
      break;
    case raft::MessageType::kVoteResp:
    case raft::MessageType::kPreVoteResp:
      out << (m.reject ? " reject" : " grant");
      break;
    case raft::MessageType::kHeartbeat:
      out << " commit " << m.commit;
      if (!m.context.empty()) out << " ctx " << m.context;
      break;
    case raft::MessageType::kHeartbeatResp:
      if (!m.context.empty()) out << " ctx " << m.context;
      break;
    case raft::MessageType::kSnapshot:
      out << " snap(" << m.snapshot.meta.index << ",t" << m.snapshot.meta.term << ")";
      break;
    case raft::MessageType::kPropose:
      out << " " << m.entries.size() << " entries";
      break;
    case raft::MessageType::kReadIndex:
    case raft::MessageType::kReadIndexResp:
      out << " ctx " << m.context << " index " << m.index;
      break;
    case raft::MessageType::kTimeoutNow:
      break;
  }
  return out.str();
}

}  // namespace raftlock::sim
