// IndexedTable (service/indexed_table.h): a std::map whose lookups go
// through a hash index; it must answer exactly as the map would, through any
// sequence of insertions, erasures and clears.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "service/indexed_table.h"

namespace raftlock::service {
namespace {

struct Rec {
  std::string id;
  int value = 0;
};

TEST_CASE("indexed table: finds, counts and walks in id order") {
  IndexedTable<Rec> t;
  CHECK(t.empty());
  CHECK(t.emplace("b", Rec{"b", 2}).second);
  CHECK(t.emplace("a", Rec{"a", 1}).second);
  CHECK(t.emplace("c", Rec{"c", 3}).second);
  // An existing id stays as it is.
  auto [it, fresh] = t.emplace("b", Rec{"b", 20});
  CHECK_FALSE(fresh);
  CHECK(it->second.value == 2);
  CHECK(t.size() == 3);
  CHECK(t.count("a") == 1);
  CHECK(t.count("d") == 0);
  CHECK(t.find("d") == t.end());
  CHECK(t.find(std::string("c"))->second.value == 3);
  t.at("a").value = 10;
  CHECK(t.find("a")->second.value == 10);
  std::string order;
  for (const auto& [id, r] : t)
    order += id;
  CHECK(order == "abc");
  t.erase(t.find("b"));
  CHECK(t.count("b") == 0);
  CHECK(t.size() == 2);
  t.clear();
  CHECK(t.empty());
  CHECK(t.find("a") == t.end());
}

TEST_CASE("indexed table: cannot be copied; a moved table keeps its index") {
  static_assert(!std::is_copy_constructible_v<IndexedTable<Rec>>);
  static_assert(!std::is_copy_assignable_v<IndexedTable<Rec>>);
  IndexedTable<Rec> a;
  a.emplace("x", Rec{"x", 1});
  a.emplace("y", Rec{"y", 2});
  IndexedTable<Rec> b(std::move(a));
  CHECK(b.find("x")->second.value == 1);
  b.erase(b.find("x"));
  CHECK(b.count("x") == 0);
  IndexedTable<Rec> c;
  c = std::move(b);
  CHECK(c.at("y").value == 2);
  CHECK_THROWS_AS(c.at("x"), std::out_of_range);
  std::swap(c, b);
  CHECK(b.count("y") == 1);
  CHECK(b.size() == 1);
}

TEST_CASE("indexed table: random operations answer as std::map does") {
  std::mt19937 rng(7);
  IndexedTable<Rec> t;
  std::map<std::string, Rec> ref;
  for (int step = 0; step < 50000; ++step) {
    const std::string id = "s" + std::to_string(rng() % 500);
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const int v = static_cast<int>(rng() % 1000);
        CHECK(t.emplace(id, Rec{id, v}).second == ref.emplace(id, Rec{id, v}).second);
        break;
      }
      case 4:
      case 5:
      case 6: {
        auto a = t.find(id);
        auto b = ref.find(id);
        REQUIRE((a == t.end()) == (b == ref.end()));
        if (b != ref.end()) {
          t.erase(a);
          ref.erase(b);
        }
        break;
      }
      case 7:
        if (rng() % 200 == 0) {
          t.clear();
          ref.clear();
        }
        break;
      default: {
        auto a = t.find(id);
        auto b = ref.find(id);
        REQUIRE((a == t.end()) == (b == ref.end()));
        if (b != ref.end()) CHECK(a->second.value == b->second.value);
      }
    }
    REQUIRE(t.size() == ref.size());
  }
  std::vector<std::string> a, b;
  for (const auto& [id, r] : t)
    a.push_back(id);
  for (const auto& [id, r] : ref)
    b.push_back(id);
  CHECK(a == b);
}

}  // namespace
}  // namespace raftlock::service
