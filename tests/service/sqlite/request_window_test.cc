// RequestWindow (service/request_window.h) against a plain model: random
// adds, prunes and lookups, with windows large enough to grow the table many
// times and prunes that shift probe runs back.
#include "service/request_window.h"

#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <random>
#include <string>

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

}  // namespace
}  // namespace raftlock::service
