// Records by string id in a hash table, walked in id order (listings,
// checks and the simulation's state hash walk it so). LockState keeps its
// sessions in one: most commands find a session two or three times, and a
// tree of up to 100,000 random ids costs a cache miss at every level of a
// lookup and of an insertion (perf at 64 proposers creating sessions: the
// tree's insertions were a third of the lock model's time on every node).
//
// Finding, inserting and erasing hash. A walk in id order sorts the ids
// once after a change and keeps that order until the next one: walks are
// rare (a listing, a leader's start, a consistency check) next to the
// changes of every command. A walk is invalidated by any change, and even a
// const walk may rebuild the order: one thread at a time (LockState runs on
// the node's io thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace raftlock::service {

template <typename Record>
class IndexedTable {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Record, Hash, std::equal_to<>>;

 public:
  using value_type = typename Map::value_type;  // std::pair<const std::string, Record>

  // Walks the records in id order; invalidated by any change of the table.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = IndexedTable::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;
    const_iterator() = default;
    using Slot = typename std::vector<const value_type*>::const_iterator;
    explicit const_iterator(Slot s) : slot_(s) {}
    const value_type& operator*() const { return **slot_; }
    const value_type* operator->() const { return *slot_; }
    const_iterator& operator++() {
      ++slot_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++slot_;
      return old;
    }
    bool operator==(const const_iterator&) const = default;

   private:
    Slot slot_;
  };

  IndexedTable() = default;
  // Pointers handed out stay valid through insertions and moves of the table
  // (the hash table's nodes do not move); the id order is rebuilt on use.
  IndexedTable(const IndexedTable&) = delete;
  IndexedTable& operator=(const IndexedTable&) = delete;
  IndexedTable(IndexedTable&&) noexcept = default;
  IndexedTable& operator=(IndexedTable&&) noexcept = default;

  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  // Null if there is no record with this id.
  Record* find(std::string_view id) {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  const Record* find(std::string_view id) const {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  std::size_t count(std::string_view id) const { return map_.find(id) == map_.end() ? 0 : 1; }
  Record& at(std::string_view id) {  // throws std::out_of_range, as std::map::at does
    Record* r = find(id);
    if (r == nullptr) throw std::out_of_range("no such id in the table");
    return *r;
  }

  // Like std::map::emplace: an existing id is left as it is.
  std::pair<Record*, bool> emplace(const std::string& id, Record r) {
    auto [it, fresh] = map_.emplace(id, std::move(r));
    if (fresh) sorted_.clear();
    return {&it->second, fresh};
  }
  // Whether a record was erased. `id` may view the erased record's own id.
  bool erase(std::string_view id) {
    auto it = map_.find(id);
    if (it == map_.end()) return false;
    map_.erase(it);
    sorted_.clear();
    return true;
  }
  void clear() {
    map_.clear();
    sorted_.clear();
  }

  const_iterator begin() const {
    order();
    return const_iterator(sorted_.begin());
  }
  const_iterator end() const {
    order();
    return const_iterator(sorted_.end());
  }

 private:
  // sorted_ is empty after a change (or for an empty table) and is rebuilt here.
  void order() const {
    if (sorted_.size() == map_.size()) return;
    sorted_.clear();
    sorted_.reserve(map_.size());
    for (const value_type& v : map_)
      sorted_.push_back(&v);
    std::sort(sorted_.begin(), sorted_.end(),
              [](const value_type* a, const value_type* b) { return a->first < b->first; });
  }

  Map map_;
  mutable std::vector<const value_type*> sorted_;  // id order, or empty after a change
};

}  // namespace raftlock::service
