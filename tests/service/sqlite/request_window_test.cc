// RequestWindow (service/request_window.h): against a plain model (random
// adds, prunes and lookups), with ids placed on chosen slots so that probe
// runs wrap past the table's end, and with a window of thousands of ids that
// grows the table several times.
#include "service/request_window.h"

#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <random>
#include <string>
#include <string_view>

namespace raftlock::service {
namespace {

TEST_CASE("request window: finds what the model finds through adds, prunes and growth") {
  std::mt19937_64 rng(20261127);
  RequestWindow w;
  std::map<std::string, raft::Index> model;               // id -> first index
  std::deque<std::pair<raft::Index, std::string>> order;  // as added
  raft::Index index = 0;
  std::uint64_t next_id = 0;
  for (int step = 0; step < 200000; ++step) {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    if (r < 55) {
      index += 1 + rng() % 3;
      // Ids that share long prefixes, as request ids of one client do.
      std::string id = "client-7f3a:" + std::to_string(next_id++);
      order.emplace_back(index, id);
      model.emplace(id, index);
      w.add(id, index);
    } else if (r < 60 && !order.empty()) {
      const raft::Index through = order[rng() % order.size()].first;
      while (!order.empty() && order.front().first <= through) {
        auto it = model.find(order.front().second);
        if (it != model.end() && it->second == order.front().first) model.erase(it);
        order.pop_front();
      }
      w.prune_through(through);
    } else {
      const std::string id =
          "client-7f3a:" + std::to_string(next_id == 0 ? 0 : rng() % (next_id + 10));
      const auto it = model.find(id);
      const std::optional<raft::Index> got = w.find(id);
      REQUIRE(got.has_value() == (it != model.end()));
      if (got) REQUIRE(*got == it->second);
    }
    REQUIRE(w.size() == order.size());
  }
  w.prune_through(index);
  CHECK(w.size() == 0);
  CHECK(!w.find("client-7f3a:1").has_value());
}

TEST_CASE("request window: an id added twice keeps its first index until that one is pruned") {
  RequestWindow w;
  w.add("a", 1);
  w.add("b", 2);
  w.add("a", 3);
  CHECK(w.find("a") == raft::Index{1});
  CHECK(w.prune_through(1));
  CHECK(!w.find("a").has_value());  // as before: the first copy's entry is gone
  CHECK(w.find("b") == raft::Index{2});
  CHECK(w.prune_through(3));
  CHECK(w.size() == 0);
  w.add("c", 4);
  CHECK(w.find("c") == raft::Index{4});
  w.clear();
  CHECK(!w.find("c").has_value());
}

// Ids "h<home>:<n>" hash to <home>: the test chooses where each id lands.
std::uint64_t chosen_home(std::string_view id) {
  return std::stoull(std::string(id.substr(1, id.find(':') - 1)));
}

TEST_CASE("request window: probe runs that wrap past the last slot survive erasing around them") {
  // 16 slots: runs that start at slots 14 and 15 wrap to 0, 1, 2; erasing at
  // 15, then 0, then 1 must shift the later ids back across the end.
  RequestWindow w(16, chosen_home);
  raft::Index index = 0;
  const char* ids[] = {"h15:a", "h15:b", "h14:c", "h0:d", "h15:e", "h1:f", "h0:g"};
  for (const char* id : ids)
    w.add(id, ++index);
  REQUIRE(w.slots() == 16);
  REQUIRE(w.check_invariants().empty());
  for (raft::Index through = 1; through <= 7; ++through) {
    CHECK(w.prune_through(through));
    INFO("after pruning through " << through);
    REQUIRE(w.check_invariants() == "");
    for (raft::Index k = 1; k <= 7; ++k) {
      const std::optional<raft::Index> got = w.find(ids[k - 1]);
      CHECK(got.has_value() == (k > through));
      if (got) CHECK(*got == k);
    }
  }
}

TEST_CASE("request window: a window of thousands of ids grows the table; live ids stay found") {
  std::mt19937_64 rng(7);
  RequestWindow w(16);
  std::deque<std::pair<raft::Index, std::string>> live;
  raft::Index index = 0;
  for (int step = 0; step < 60000; ++step) {
    const std::string id = "c:" + std::to_string(step);
    w.add(id, ++index);
    live.emplace_back(index, id);
    if (live.size() > 5000) {  // hold about 5,000 ids, pruning in uneven steps
      const raft::Index through = live[rng() % 64].first;
      w.prune_through(through);
      while (!live.empty() && live.front().first <= through)
        live.pop_front();
    }
    const auto& probe = live[rng() % live.size()];
    REQUIRE(w.find(probe.second) == probe.first);
    if (step % 5000 == 0) REQUIRE(w.check_invariants() == "");
  }
  CHECK(w.slots() >= 8192);
  CHECK(w.check_invariants() == "");
  CHECK(!w.find("c:0").has_value());
}

}  // namespace
}  // namespace raftlock::service
