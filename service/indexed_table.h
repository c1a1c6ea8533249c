// A map by string id, ordered (listings, checks and the simulation's state
// hash walk it in id order), with a hash index beside it: finding a record
// costs one hash lookup instead of a descent through a tree of up to 100,000
// nodes with a cache miss at every level. LockState keeps its sessions in
// one: most commands find a session two or three times, and perf at 64
// proposers creating sessions had the tree's lookups at ~20% of every node's
// CPU.
//
// The subset of std::map's interface LockState uses; find, count and at go
// through the index, insertion also descends the tree (once).
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace raftlock::service {

template <typename Record>
class IndexedTable {
 public:
  using Map = std::map<std::string, Record>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  IndexedTable() = default;
  // A copy's index would point into the original; moving keeps the map's
  // nodes (and so the index's views and iterators) where they are.
  IndexedTable(const IndexedTable&) = delete;
  IndexedTable& operator=(const IndexedTable&) = delete;
  IndexedTable(IndexedTable&&) noexcept = default;
  IndexedTable& operator=(IndexedTable&&) noexcept = default;

  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  iterator find(std::string_view id) {
    auto it = index_.find(id);
    return it == index_.end() ? map_.end() : it->second;
  }
  const_iterator find(std::string_view id) const {
    auto it = index_.find(id);
    return it == index_.end() ? map_.end() : const_iterator(it->second);
  }
  std::size_t count(std::string_view id) const { return index_.count(id); }
  Record& at(std::string_view id) {  // throws std::out_of_range, as std::map::at does
    auto it = index_.find(id);
    if (it == index_.end()) throw std::out_of_range("no such id in the table");
    return it->second->second;
  }

  // Like std::map::emplace: an existing id is left as it is.
  std::pair<iterator, bool> emplace(const std::string& id, Record r) {
    auto [it, fresh] = map_.emplace(id, std::move(r));
    // The index's key views the map node's own string, which never moves.
    if (fresh) index_.emplace(std::string_view(it->first), it);
    return {it, fresh};
  }
  void erase(iterator it) {
    index_.erase(std::string_view(it->first));
    map_.erase(it);
  }
  void clear() {
    index_.clear();
    map_.clear();
  }

 private:
  Map map_;
  std::unordered_map<std::string_view, iterator> index_;
};

}  // namespace raftlock::service
