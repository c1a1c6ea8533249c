#include "service/command.h"

namespace raftlock::service {

raft::Bytes encode_command(const std::string& op, const std::string& req, nlohmann::json args) {
  if (!args.is_object()) args = nlohmann::json::object();
  args["op"] = op;
  args["req"] = req;
  return args.dump();
}

Result<Command> decode_command(const raft::Bytes& data) {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    return Status(ErrorCode::kCorruption, "entry is not a command");
  }
  Command c;
  c.op = j["op"].get<std::string>();
  if (j.contains("req") && j["req"].is_string()) c.req = j["req"].get<std::string>();
  c.args = std::move(j);
  return c;
}

}  // namespace raftlock::service
