#include "service/command.h"

#include <utility>

#include "service/command_fields.h"

namespace raftlock::service {

using namespace command_detail;

Command command_from_json(const nlohmann::json& object) {
  Command c;
  if (!object.is_object()) return c;
  auto op = object.find("op");
  if (op != object.end() && op->is_string()) c.op = op->get<std::string>();
  for (const StringField& f : kStringFields) {
    auto it = object.find(f.key);
    if (it != object.end() && it->is_string()) c.*f.member = it->get<std::string>();
  }
  for (const IntField& f : kIntFields) {
    auto it = object.find(f.key);
    if (it != object.end() && it->is_number_integer()) c.*f.member = it->get<std::int64_t>();
  }
  auto ids = object.find("ids");
  if (ids != object.end() && ids->is_array()) {
    for (const nlohmann::json& id : *ids)
      if (id.is_string()) c.ids.push_back(id.get<std::string>());
  }
  return c;
}

raft::Bytes encode_command(const std::string& op, const std::string& req,
                           const nlohmann::json& args) {
  Command c = command_from_json(args);
  c.op = op;
  c.req = req;
  return encode_command(c);
}

Result<Command> decode_command(const raft::Bytes& data) {
  if (!data.empty() && static_cast<std::uint8_t>(data[0]) == kBinaryFormat) {
    return decode_binary(data);
  }
  // An entry written before the binary format.
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    return Status(ErrorCode::kCorruption, "entry is not a command");
  }
  return command_from_json(j);
}

bool looks_like_command(const raft::Bytes& data) {
  return !data.empty() && (data[0] == '{' || static_cast<std::uint8_t>(data[0]) == kBinaryFormat);
}

}  // namespace raftlock::service
