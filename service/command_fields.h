// The operands of a command (service/command.h) with their JSON keys and
// binary tags, shared by the JSON reader (command.cc) and the binary codec
// (command_codec.cc). Not part of the command's interface.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/command.h"

namespace raftlock::service::command_detail {

struct StringField {
  const char* key;
  std::uint8_t tag;
  std::string Command::*member;
};

struct IntField {
  const char* key;
  std::uint8_t tag;
  std::optional<std::int64_t> Command::*member;
};

// Tags are part of the log's format: never renumber one, only add.
inline constexpr std::array<StringField, 8> kStringFields{{
    {"req", 1, &Command::req},
    {"id", 2, &Command::id},
    {"name", 3, &Command::name},
    {"session", 4, &Command::session},
    {"kind", 5, &Command::kind},
    {"mode", 6, &Command::mode},
    {"value", 7, &Command::value},
    {"reason", 8, &Command::reason},
}};

inline constexpr std::array<IntField, 7> kIntFields{{
    {"now", 16, &Command::now},
    {"ttl_ms", 17, &Command::ttl_ms},
    {"lock_delay_ms", 18, &Command::lock_delay_ms},
    {"limit", 19, &Command::limit},
    {"wait_ms", 20, &Command::wait_ms},
    {"fencing_token", 21, &Command::fencing_token},
    {"term", 22, &Command::term},
}};

inline constexpr std::uint8_t kIdsTag = 32;  // "ids": a list of strings

// Operation codes; the position is the code. Code 0 means the operation's
// name follows as a string (an operation this table does not know).
inline constexpr std::array<std::string_view, 10> kOps{{
    "",
    "noop",
    "session.create",
    "session.close",
    "session.expire",
    "lock.acquire",
    "lock.release",
    "lock.cancel",
    "lock.sweep",
    "election.proclaim",
}};

// The first byte of a binary command. A JSON command starts with '{' (or
// white space), so the two never collide.
inline constexpr std::uint8_t kBinaryFormat = 0xC1;

Result<Command> decode_binary(std::string_view data);

}  // namespace raftlock::service::command_detail
