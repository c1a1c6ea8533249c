// Membership changes (conf_change.h): the kConfChange entry encoding, the
// single-server change rules (thesis §4.1, §4.2.1) and the bootstrap write.
#include "raft/conf_change.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "raft/memory_log_store.h"

namespace raftlock::raft {
namespace {

ConfChangeEntry make_entry(ConfChangeType type, NodeId node, Bytes context, std::set<NodeId> voters,
                           std::set<NodeId> learners) {
  return ConfChangeEntry{ConfChange{type, node, std::move(context)},
                         ConfState{std::move(voters), std::move(learners)}};
}

std::vector<ConfChangeEntry> samples() {
  return {
      make_entry(ConfChangeType::kBootstrap, kNoNode, "", {1}, {}),
      make_entry(ConfChangeType::kBootstrap, kNoNode, "", {1, 2, 3}, {}),
      make_entry(ConfChangeType::kAddLearner, 4, "10.0.0.4:7000", {1, 2, 3}, {4}),
      make_entry(ConfChangeType::kAddVoter, 4, "10.0.0.4:7000", {1, 2, 3, 4}, {}),
      make_entry(ConfChangeType::kRemoveNode, 2, std::string("\0\xff\x01", 3), {1, 3, 4}, {5, 6}),
      make_entry(ConfChangeType::kAddVoter, UINT64_MAX, std::string(5000, 'c'),
                 {1, 1ull << 32, UINT64_MAX}, {2, 1ull << 63}),
  };
}

Result<ConfChangeEntry> decode(const Bytes& b) {
  return decode_conf_change_entry(b);
}

// Appends a big-endian integer, to build encodings by hand.
template <typename T>
void put_be(Bytes& out, T v) {
  for (int shift = 8 * (int(sizeof(T)) - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> shift) & 0xff));
  }
}

// A hand-built encoding: version, type, node, context, voters, learners.
Bytes hand_encoded(std::uint8_t version, std::uint8_t type, std::uint64_t node,
                   const std::string& context, const std::vector<std::uint64_t>& voters,
                   const std::vector<std::uint64_t>& learners) {
  Bytes b;
  put_be<std::uint8_t>(b, version);
  put_be<std::uint8_t>(b, type);
  put_be<std::uint64_t>(b, node);
  put_be<std::uint32_t>(b, static_cast<std::uint32_t>(context.size()));
  b += context;
  put_be<std::uint32_t>(b, static_cast<std::uint32_t>(voters.size()));
  for (std::uint64_t v : voters)
    put_be<std::uint64_t>(b, v);
  put_be<std::uint32_t>(b, static_cast<std::uint32_t>(learners.size()));
  for (std::uint64_t v : learners)
    put_be<std::uint64_t>(b, v);
  return b;
}

TEST_CASE("conf change encoding: round trip") {
  for (const ConfChangeEntry& e : samples()) {
    const Bytes b = encode_conf_change_entry(e);
    const Result<ConfChangeEntry> d = decode(b);
    INFO(d.status().to_string());
    REQUIRE(d.is_ok());
    CHECK(*d == e);
  }
}

TEST_CASE("conf change encoding: version 1 layout is big-endian and fixed width") {
  const ConfChangeEntry e =
      make_entry(ConfChangeType::kAddLearner, 0x0102030405060708, "ab", {1, 2}, {0x0a});
  const Bytes want = hand_encoded(1, 1, 0x0102030405060708, "ab", {1, 2}, {0x0a});
  CHECK(encode_conf_change_entry(e) == want);
  CHECK(want.size() == 1 + 1 + 8 + 4 + 2 + 4 + 16 + 4 + 8);
  CHECK(want.substr(2, 8) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST_CASE("conf change encoding: every truncation is corruption") {
  for (const ConfChangeEntry& e : samples()) {
    const Bytes b = encode_conf_change_entry(e);
    for (std::size_t n = 0; n < b.size(); ++n) {
      INFO("prefix of " << n << " of " << b.size() << " bytes");
      CHECK(decode(b.substr(0, n)).code() == ErrorCode::kCorruption);
    }
  }
}

TEST_CASE("conf change encoding: malformed input is corruption") {
  const Bytes good = hand_encoded(1, 2, 4, "x", {1, 4}, {5});
  REQUIRE(decode(good).is_ok());

  SUBCASE("trailing bytes") {
    CHECK(decode(good + '\0').code() == ErrorCode::kCorruption);
  }
  SUBCASE("unknown version") {
    CHECK(decode(hand_encoded(0, 2, 4, "x", {1, 4}, {5})).code() == ErrorCode::kCorruption);
    CHECK(decode(hand_encoded(2, 2, 4, "x", {1, 4}, {5})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("unknown change type") {
    CHECK(decode(hand_encoded(1, 4, 4, "x", {1, 4}, {5})).code() == ErrorCode::kCorruption);
    CHECK(decode(hand_encoded(1, 255, 4, "x", {1, 4}, {5})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("voters not strictly ascending") {
    CHECK(decode(hand_encoded(1, 2, 4, "", {4, 1}, {})).code() == ErrorCode::kCorruption);
    CHECK(decode(hand_encoded(1, 2, 4, "", {4, 4}, {})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("learners not strictly ascending") {
    CHECK(decode(hand_encoded(1, 2, 4, "", {1}, {6, 5})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("node 0 in a set") {
    CHECK(decode(hand_encoded(1, 2, 4, "", {0, 1}, {})).code() == ErrorCode::kCorruption);
    CHECK(decode(hand_encoded(1, 2, 4, "", {1}, {0})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("a node both voter and learner") {
    CHECK(decode(hand_encoded(1, 2, 4, "", {1, 4}, {4})).code() == ErrorCode::kCorruption);
  }
  SUBCASE("lengths far beyond the data") {
    // Context length, voter count and learner count set to 0xffffffff in turn.
    Bytes b = hand_encoded(1, 2, 4, "", {}, {});
    for (std::size_t at : {std::size_t{10}, std::size_t{14}, std::size_t{18}}) {
      Bytes bad = b;
      for (std::size_t k = 0; k < 4; ++k)
        bad[at + k] = '\xff';
      CHECK(decode(bad).code() == ErrorCode::kCorruption);
    }
    // A voter count one larger than the ids that follow.
    Bytes v = hand_encoded(1, 2, 4, "", {1, 2}, {});
    v[17] = 3;
    CHECK(decode(v).code() == ErrorCode::kCorruption);
  }
}

// The encoding is canonical, so anything that decodes must encode back to the
// same bytes; everything else must be kCorruption, never a crash or a read out
// of bounds (run under ASan/UBSan to check the latter).
void check_decodes_canonically_or_corrupt(const Bytes& b) {
  const Result<ConfChangeEntry> d = decode(b);
  if (d.is_ok()) {
    CHECK(encode_conf_change_entry(*d) == b);
  } else {
    CHECK(d.code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("conf change encoding: random garbage is corruption, never a crash") {
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    Bytes b(rng() % 80, '\0');
    for (char& c : b)
      c = static_cast<char>(byte(rng));
    if (round % 2 == 0 && !b.empty()) b[0] = 1;  // get past the version check
    check_decodes_canonically_or_corrupt(b);
  }
}

TEST_CASE("conf change encoding: mutated valid encodings decode or are corruption") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const ConfChangeEntry& e : samples()) {
    const Bytes good = encode_conf_change_entry(e);
    for (int round = 0; round < 2000; ++round) {
      Bytes b = good;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k)
        b[rng() % b.size()] = static_cast<char>(byte(rng));
      check_decodes_canonically_or_corrupt(b);
    }
  }
}

// --- apply_conf_change: single-server changes (T§4.1) ----------------------

ConfState conf(std::set<NodeId> voters, std::set<NodeId> learners = {}) {
  return ConfState{std::move(voters), std::move(learners)};
}

ConfChange change(ConfChangeType type, NodeId node) {
  return ConfChange{type, node, ""};
}

void check_applies(const ConfState& from, const ConfChange& cc, const ConfState& want) {
  const Result<ConfState> r = apply_conf_change(from, cc);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  CHECK(*r == want);
}

void check_rejected(const ConfState& from, const ConfChange& cc) {
  CHECK(apply_conf_change(from, cc).code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("apply_conf_change: add learner") {
  check_applies(conf({1, 2, 3}), change(ConfChangeType::kAddLearner, 4), conf({1, 2, 3}, {4}));
  check_applies(conf({1}, {4}), change(ConfChangeType::kAddLearner, 5), conf({1}, {4, 5}));
  check_rejected(conf({1, 2, 3}), change(ConfChangeType::kAddLearner, 2));  // a voter
  check_rejected(conf({1}, {4}), change(ConfChangeType::kAddLearner, 4));   // already a learner
}

TEST_CASE("apply_conf_change: add voter") {
  check_applies(conf({1, 2, 3}), change(ConfChangeType::kAddVoter, 4), conf({1, 2, 3, 4}));
  // §4.2.1: a learner that has caught up is promoted.
  check_applies(conf({1, 2, 3}, {4, 5}), change(ConfChangeType::kAddVoter, 4),
                conf({1, 2, 3, 4}, {5}));
  check_rejected(conf({1, 2, 3}), change(ConfChangeType::kAddVoter, 3));
}

TEST_CASE("apply_conf_change: remove node") {
  check_applies(conf({1, 2, 3}), change(ConfChangeType::kRemoveNode, 2), conf({1, 3}));
  check_applies(conf({1, 2}, {4}), change(ConfChangeType::kRemoveNode, 4), conf({1, 2}));
  check_applies(conf({1}, {4}), change(ConfChangeType::kRemoveNode, 4), conf({1}));
  check_rejected(conf({1, 2, 3}), change(ConfChangeType::kRemoveNode, 9));  // a stranger
  // With no voter left nothing could ever be committed again.
  check_rejected(conf({1}), change(ConfChangeType::kRemoveNode, 1));
  check_rejected(conf({1}, {2}), change(ConfChangeType::kRemoveNode, 1));
}

TEST_CASE("apply_conf_change: node 0 and bootstrap are rejected") {
  for (ConfChangeType t : {ConfChangeType::kAddLearner, ConfChangeType::kAddVoter,
                           ConfChangeType::kRemoveNode, ConfChangeType::kBootstrap}) {
    check_rejected(conf({1, 2, 3}), change(t, kNoNode));
  }
  check_rejected(conf({1, 2, 3}), change(ConfChangeType::kBootstrap, 4));
}

TEST_CASE("apply_conf_change: the input is not modified") {
  const ConfState before = conf({1, 2}, {3});
  ConfState c = before;
  (void)apply_conf_change(c, change(ConfChangeType::kAddVoter, 3));
  (void)apply_conf_change(c, change(ConfChangeType::kRemoveNode, 1));
  CHECK(c == before);
}

// --- bootstrap_write ---------------------------------------------------------

TEST_CASE("bootstrap_write: entry 1 of term 1 holding the voters, committed") {
  const ConfState voters = conf({1, 2, 3});
  const StorageWrite w = bootstrap_write(voters);

  CHECK_FALSE(w.install_snapshot);
  CHECK_FALSE(w.compact);
  REQUIRE(w.hard_state);
  CHECK(*w.hard_state == HardState{1, kNoNode, 1});
  REQUIRE(w.entries.size() == 1);
  const Entry& e = w.entries[0];
  CHECK(e.term == 1);
  CHECK(e.index == 1);
  CHECK(e.type == EntryType::kConfChange);
  const Result<ConfChangeEntry> d = decode(e.data);
  REQUIRE(d.is_ok());
  CHECK(d->change == ConfChange{ConfChangeType::kBootstrap, kNoNode, ""});
  CHECK(d->result == voters);

  // Every founding member writes the same bytes.
  CHECK(bootstrap_write(conf({1, 2, 3})).entries == w.entries);

  MemoryLogStore store;
  REQUIRE(store.write(w).is_ok());
  CHECK(store.first_index() == 1);
  CHECK(store.last_index() == 1);
  CHECK(*store.term(1) == 1);
  CHECK(store.initial_state().hard_state == HardState{1, kNoNode, 1});
}

}  // namespace
}  // namespace raftlock::raft
