// The commands the service replicates through Raft, and their results.
//
// A command is an operation ("lock.acquire", ...), the request id of the
// client waiting for it, and typed operands. Everything applying it needs
// travels inside it (ids, the leader's clock reading), so every node computes
// the same result (DESIGN.md). The request id lets the node that proposed it
// find the waiting client.
//
// In a kNormal entry's data a command is binary (docs/service.md
// "Commands"): a format byte, an operation code and tagged operands. Entries
// written before that format are JSON objects {"op": "...", "req": "...",
// ...operands}; decode_command reads both, so an old log applies as before.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::service {

struct Command {
  std::string op;
  std::string req;  // request id: "<node id>-<sequence>-<random>"

  // Operands, named as the JSON keys they come from. A string the command
  // does not carry is empty, a number unset.
  std::string id;  // session.create, session.close
  std::string name;
  std::string session;
  std::string kind;  // "lock" | "election"
  std::string mode;  // "exclusive" | "shared"
  std::string value;
  std::string reason;               // lock.cancel: "timeout" | "gone"
  std::vector<std::string> ids;     // session.expire
  std::optional<std::int64_t> now;  // the proposer's wall clock, ms
  std::optional<std::int64_t> ttl_ms;
  std::optional<std::int64_t> lock_delay_ms;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> wait_ms;
  std::optional<std::int64_t> fencing_token;
  std::optional<std::int64_t> term;  // session.expire: the term the leader decided in
};

// The command an object {"op", "req", ...operands} describes. An operand of
// the wrong JSON type is left out (as if absent), and so are keys that are
// not operands: applying never saw them.
Command command_from_json(const nlohmann::json& object);

raft::Bytes encode_command(const Command& c);
// encode_command of command_from_json(args) with `op` and `req`.
raft::Bytes encode_command(const std::string& op, const std::string& req,
                           const nlohmann::json& args);

// Binary or (older entries) JSON. kCorruption if the data is neither.
Result<Command> decode_command(const raft::Bytes& data);

// True if `data` starts as a command of either form does (entries of other
// workloads, in tests, do not); decode_command says whether it is one.
bool looks_like_command(const raft::Bytes& data);

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
