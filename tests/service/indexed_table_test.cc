// IndexedTable (service/indexed_table.h): a hash table walked in id order;
// it must answer exactly as a std::map would, through any sequence of
// insertions, erasures, clears and walks.
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
  auto [rec, fresh] = t.emplace("b", Rec{"b", 20});
  CHECK_FALSE(fresh);
  CHECK(rec->value == 2);
  CHECK(t.size() == 3);
  CHECK(t.count("a") == 1);
  CHECK(t.count("d") == 0);
  CHECK(t.find("d") == nullptr);
  CHECK(t.find(std::string("c"))->value == 3);
  t.at("a").value = 10;
  CHECK(t.find("a")->value == 10);
  std::string order;
  for (const auto& [id, r] : t)
    order += id;
  CHECK(order == "abc");
  // A record found before later insertions is still the same record.
  Rec* c = t.find("c");
  for (int i = 0; i < 1000; ++i)
    t.emplace("x" + std::to_string(i), Rec{"x", i});
  CHECK(c == t.find("c"));
  CHECK(t.size() == 1003);
  // The walk follows every change.
  CHECK(t.erase(t.find("b")->id));
  CHECK_FALSE(t.erase("b"));
  CHECK(t.count("b") == 0);
  order.clear();
  for (const auto& [id, r] : t)
    if (id.size() == 1) order += id;
  CHECK(order == "ac");
  t.clear();
  CHECK(t.empty());
  CHECK(t.find("a") == nullptr);
  CHECK(t.begin() == t.end());
}

TEST_CASE("indexed table: cannot be copied; a moved table keeps its index") {
  static_assert(!std::is_copy_constructible_v<IndexedTable<Rec>>);
  static_assert(!std::is_copy_assignable_v<IndexedTable<Rec>>);
  IndexedTable<Rec> a;
  a.emplace("x", Rec{"x", 1});
  a.emplace("y", Rec{"y", 2});
  const Rec* y = a.find("y");
  IndexedTable<Rec> b(std::move(a));
  CHECK(b.find("x")->value == 1);
  CHECK(b.find("y") == y);
  b.erase("x");
  CHECK(b.count("x") == 0);
  IndexedTable<Rec> c;
  c = std::move(b);
  CHECK(c.at("y").value == 2);
  CHECK_THROWS_AS(c.at("x"), std::out_of_range);
  std::swap(c, b);
  CHECK(b.count("y") == 1);
  CHECK(b.size() == 1);
}

// The ids a walk visits, in its order.
template <typename Table>
std::vector<std::string> ids_of(const Table& table) {
  std::vector<std::string> ids;
  for (const auto& [id, r] : table)
    ids.push_back(id);
  return ids;
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
        auto b = ref.find(id);
        REQUIRE((t.find(id) == nullptr) == (b == ref.end()));
        CHECK(t.erase(id) == (b != ref.end()));
        if (b != ref.end()) ref.erase(b);
        break;
      }
      case 7:
        if (rng() % 200 == 0) {
          t.clear();
          ref.clear();
        } else if (rng() % 20 == 0) {  // walks between changes
          REQUIRE(ids_of(t) == ids_of(ref));
        }
        break;
      default: {
        const Rec* a = t.find(id);
        auto b = ref.find(id);
        REQUIRE((a == nullptr) == (b == ref.end()));
        if (b != ref.end()) CHECK(a->value == b->second.value);
      }
    }
    REQUIRE(t.size() == ref.size());
  }
  CHECK(ids_of(t) == ids_of(ref));
}

}  // namespace
}  // namespace raftlock::service
