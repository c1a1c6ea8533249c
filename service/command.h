// The commands the service replicates through Raft, and their results.
//
// A command is a JSON object in the data of a kNormal entry:
//   {"op": "...", "req": "<request id>", ...operands}
// Everything applying it needs travels inside it (ids, the leader's clock
// reading), so every node computes the same result (DESIGN.md). The request
// id lets the node that proposed it find the waiting client.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::service {

struct Command {
  std::string op;
  std::string req;      // request id: "<node id>-<sequence>-<random>"
  nlohmann::json args;  // the whole object (op and req included)
};

raft::Bytes encode_command(const std::string& op, const std::string& req, nlohmann::json args);
Result<Command> decode_command(const raft::Bytes& data);

// What applying an entry produced. `ok` false carries an API error code.
struct CommandResult {
  raft::Index index = 0;
  std::string req;
  bool ok = true;
  std::string error_code;  // e.g. "session_not_found"
  std::string error_message;
  nlohmann::json body = nlohmann::json::object();
};

}  // namespace raftlock::service
