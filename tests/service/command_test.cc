// Commands in Raft entries (service/command.h): the binary form carries every
// operand exactly, entries written as JSON before it still decode the same,
// and damaged data is refused, never half-read.
#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "service/command.h"

namespace raftlock::service {
namespace {

using nlohmann::json;

void check_same(const Command& a, const Command& b) {
  CHECK(a.op == b.op);
  CHECK(a.req == b.req);
  CHECK(a.id == b.id);
  CHECK(a.name == b.name);
  CHECK(a.session == b.session);
  CHECK(a.kind == b.kind);
  CHECK(a.mode == b.mode);
  CHECK(a.value == b.value);
  CHECK(a.reason == b.reason);
  CHECK(a.ids == b.ids);
  CHECK(a.now == b.now);
  CHECK(a.ttl_ms == b.ttl_ms);
  CHECK(a.lock_delay_ms == b.lock_delay_ms);
  CHECK(a.limit == b.limit);
  CHECK(a.wait_ms == b.wait_ms);
  CHECK(a.fencing_token == b.fencing_token);
  CHECK(a.term == b.term);
}

Command full_command() {
  Command c;
  c.op = "lock.acquire";
  c.req = "2-17-00aa11bb22cc33dd";
  c.id = "0123456789abcdef";
  c.name = "jobs/nightly";
  c.session = "fedcba9876543210";
  c.kind = "election";
  c.mode = "shared";
  c.value = std::string("host-a\0with a zero byte", 23);
  c.reason = "gone";
  c.ids = {"a", "", std::string(300, 'x')};
  c.now = 1764300000123;
  c.ttl_ms = 86400000;
  c.lock_delay_ms = 0;
  c.limit = 1000000;
  c.wait_ms = -1;
  c.fencing_token = INT64_MIN;
  c.term = INT64_MAX;
  return c;
}

Command decoded(const raft::Bytes& data) {
  Result<Command> c = decode_command(data);
  REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  return std::move(c).value();
}

TEST_CASE("every operand survives the binary form, extremes included") {
  const Command c = full_command();
  const raft::Bytes data = encode_command(c);
  CHECK(static_cast<std::uint8_t>(data[0]) == 0xC1);
  CHECK(looks_like_command(data));
  check_same(decoded(data), c);
}

TEST_CASE("absent operands stay absent: unset numbers are not zero") {
  Command c;
  c.op = "lock.sweep";
  const Command d = decoded(encode_command(c));
  CHECK(d.op == "lock.sweep");
  CHECK(d.req.empty());
  CHECK_FALSE(d.now.has_value());
  CHECK_FALSE(d.fencing_token.has_value());
  CHECK(d.ids.empty());
  c.fencing_token = 0;
  CHECK(decoded(encode_command(c)).fencing_token == std::optional<std::int64_t>(0));
}

TEST_CASE("every operation has a code, and an unknown one travels by name") {
  for (const char* op :
       {"noop", "session.create", "session.close", "session.expire", "lock.acquire", "lock.release",
        "lock.cancel", "lock.sweep", "election.proclaim", "lock.explode", ""}) {
    Command c;
    c.op = op;
    c.req = "1-1-x";
    CHECK(decoded(encode_command(c)).op == op);
  }
  Command known;
  known.op = "lock.release";
  Command unknown;
  unknown.op = "lock.releasf";
  // A known operation is one byte; an unknown one carries its name.
  CHECK(encode_command(unknown).size() == encode_command(known).size() + 1 + 12);
}

TEST_CASE("a JSON entry written before the binary form decodes as the same command") {
  const json args = {{"op", "lock.acquire"}, {"req", "1-5-abc"},  {"kind", "lock"},
                     {"name", "db"},         {"session", "s1"},   {"mode", "exclusive"},
                     {"limit", 3},           {"wait_ms", 2500},   {"value", "v"},
                     {"now", 1764300000000}, {"ids", {"a", "b"}}, {"term", 4}};
  const Command from_json = decoded(args.dump());
  CHECK(from_json.limit == std::optional<std::int64_t>(3));
  CHECK(from_json.ids == std::vector<std::string>{"a", "b"});
  check_same(decoded(encode_command("lock.acquire", "1-5-abc", args)), from_json);
  // The binary form is the smaller one.
  CHECK(encode_command("lock.acquire", "1-5-abc", args).size() < args.dump().size() * 2 / 3);
}

TEST_CASE("operands of the wrong JSON type, and keys that are not operands, are left out") {
  // As applying JSON commands always did: a string limit read as no limit.
  const json args = {{"limit", "3"}, {"name", 7},       {"ids", {"a", 1, "b"}},
                     {"now", 1.5},   {"extra", "drop"}, {"wait_ms", true}};
  const Command c = decoded(encode_command("lock.acquire", "r", args));
  CHECK(c.op == "lock.acquire");
  CHECK(c.req == "r");
  CHECK_FALSE(c.limit.has_value());
  CHECK(c.name.empty());
  CHECK_FALSE(c.now.has_value());
  CHECK_FALSE(c.wait_ms.has_value());
  CHECK(c.ids == std::vector<std::string>{"a", "b"});
  // op and req come from the arguments of encode_command, not from args.
  const Command d = decoded(encode_command("session.close", "r2", {{"op", "noop"}, {"req", "x"}}));
  CHECK(d.op == "session.close");
  CHECK(d.req == "r2");
}

TEST_CASE("data that is not a command is refused") {
  for (const char* bad : {"", "not json", "[1,2]", "{\"req\":\"x\"}", "{\"op\":7}", "\xc1",
                          "\xc1\x05", "\xc1\x63\x00", "\xc1\x05\x01\x63\x00"}) {
    CAPTURE(bad);
    CHECK(decode_command(bad).code() == ErrorCode::kCorruption);
  }
  CHECK_FALSE(looks_like_command(""));
  CHECK_FALSE(looks_like_command("x"));
  CHECK(looks_like_command("{}"));
}

TEST_CASE("a truncated or extended binary command is refused at every length") {
  const raft::Bytes data = encode_command(full_command());
  for (std::size_t n = 0; n < data.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(decode_command(data.substr(0, n)).is_ok());
  }
  CHECK_FALSE(decode_command(data + '\0').is_ok());
  // An operand count above what follows, a length past the end, an
  // eleven-byte varint.
  CHECK_FALSE(decode_command(raft::Bytes("\xc1\x01\x05", 3)).is_ok());
  CHECK_FALSE(decode_command(raft::Bytes("\xc1\x01\x01\x03\x7f"
                                         "ab",
                                         7))
                  .is_ok());
  CHECK_FALSE(decode_command(
                  raft::Bytes("\xc1\x01\x01\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 15))
                  .is_ok());
}

TEST_CASE(
    "random damage to a command decodes to a command or to an error, and a command "
    "decoded from damage encodes back to itself") {
  const raft::Bytes good = encode_command(full_command());
  std::mt19937_64 rng(20261128);
  int decoded_ok = 0;
  for (int round = 0; round < 20000; ++round) {
    raft::Bytes d = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !d.empty(); ++e) {
      const std::size_t at = rng() % d.size();
      switch (rng() % 3) {
        case 0:
          d[at] = static_cast<char>(rng());
          break;
        case 1:
          d.erase(at, 1 + rng() % 4);
          break;
        default:
          d.insert(at, 1, static_cast<char>(rng()));
      }
    }
    Result<Command> c = decode_command(d);
    if (!c) continue;
    ++decoded_ok;
    const raft::Bytes again = encode_command(*c);
    check_same(decoded(again), *c);
  }
  MESSAGE("damaged commands that still decoded: " << decoded_ok);
}

}  // namespace
}  // namespace raftlock::service
