// Small formatting helpers shared by the checker, the trace and the reports.
#pragma once

#include <sstream>
#include <string>

#include "raft/conf_change.h"
#include "raft/types.h"

namespace raftlock::sim {

// Concatenates the stream representations of its arguments.
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// "kAppend 1->2 t3 prev(5,t2) [6..8] commit 5" and similar one-liners.
std::string describe(const raft::Message& m);
// "add-learner", "add-voter", "remove", "bootstrap".
const char* change_name(raft::ConfChangeType t);
// "{1,2,3}" or "{1,2,3 learners 4}".
std::string describe(const raft::ConfState& c);
// Payload of an entry for humans: "p17", "noop", "conf add-learner 4".
std::string describe_entry(const raft::Entry& e);

}  // namespace raftlock::sim
