#include "service/request_window.h"

#include <functional>
#include <string_view>

#include "raft/assert.h"

namespace raftlock::service {

namespace {

std::uint64_t default_hash(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

RequestWindow::RequestWindow(std::size_t initial_slots, Hash hash)
    : slots_(initial_slots), initial_slots_(initial_slots), hash_(hash ? hash : default_hash) {
  RAFTLOCK_ASSERT(initial_slots >= 2 && (initial_slots & (initial_slots - 1)) == 0);
}

const std::string& RequestWindow::id_at(std::uint64_t order) const {
  return by_order_[static_cast<std::size_t>(order - 1 - dropped_)].second;
}

const RequestWindow::Slot* RequestWindow::find_slot(std::uint64_t h, std::string_view req) const {
  for (std::size_t i = home(h);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& s = slots_[i];
    if (s.order == 0) return nullptr;
    if (s.hash == h && id_at(s.order) == req) return &s;
  }
}

std::optional<raft::Index> RequestWindow::find(const std::string& req) const {
  const Slot* s = find_slot(hash_(req), req);
  if (s == nullptr) return std::nullopt;
  return by_order_[static_cast<std::size_t>(s->order - 1 - dropped_)].first;
}

void RequestWindow::add(std::string req, raft::Index index) {
  RAFTLOCK_ASSERT_MSG(by_order_.empty() || by_order_.back().first < index,
                      "request ids added out of index order");
  if (2 * (by_order_.size() + 1) > slots_.size()) grow();
  const std::uint64_t h = hash_(req);
  // A second copy of an id (never applied twice, but tolerated) keeps the
  // first one's index, and has no slot of its own.
  const bool again = find_slot(h, req) != nullptr;
  by_order_.emplace_back(index, std::move(req));
  if (!again) place(Slot{h, dropped_ + by_order_.size()});
}

void RequestWindow::place(Slot s) {
  std::size_t i = home(s.hash);
  while (slots_[i].order != 0)
    i = (i + 1) & (slots_.size() - 1);
  slots_[i] = s;
}

bool RequestWindow::prune_through(raft::Index index) {
  bool any = false;
  while (!by_order_.empty() && by_order_.front().first <= index) {
    const std::uint64_t order = dropped_ + 1;
    std::size_t i = home(hash_(by_order_.front().second));
    while (slots_[i].order != order && slots_[i].order != 0)
      i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].order == order) erase_slot(i);  // else a second copy (add)
    by_order_.pop_front();
    ++dropped_;
    any = true;
  }
  return any;
}

// Backward-shift deletion: the slots after `i` up to the next empty one move
// back if `i` lies on their probe path, so no lookup ever stops early at a
// hole and no tombstones pile up.
void RequestWindow::erase_slot(std::size_t i) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t j = (i + 1) & mask; slots_[j].order != 0; j = (j + 1) & mask) {
    const std::size_t k = home(slots_[j].hash);
    // The element at j may move to i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
}

void RequestWindow::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.order != 0) place(s);
  }
}

std::string RequestWindow::check_invariants() const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t used = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.order == 0) continue;
    ++used;
    if (s.order <= dropped_ || s.order > dropped_ + by_order_.size()) {
      return "slot " + std::to_string(i) + " names a position outside the window";
    }
    if (hash_(id_at(s.order)) != s.hash) return "slot " + std::to_string(i) + ": wrong hash";
    for (std::size_t k = home(s.hash); k != i; k = (k + 1) & mask) {
      if (slots_[k].order == 0) {
        return "slot " + std::to_string(i) + " is cut off from its home by an empty slot";
      }
    }
  }
  // Ids with a slot: each found at its own position (a second copy of an id
  // has none, and neither has one whose first copy was pruned: add()).
  std::size_t distinct = 0;
  for (std::size_t p = 0; p < by_order_.size(); ++p) {
    const Slot* s = find_slot(hash_(by_order_[p].second), by_order_[p].second);
    if (s != nullptr && s->order == dropped_ + p + 1) ++distinct;
  }
  if (used != distinct) {
    return std::to_string(used) + " slots used for " + std::to_string(distinct) + " distinct ids";
  }
  return "";
}

void RequestWindow::clear() {
  by_order_.clear();
  dropped_ = 0;
  slots_.assign(initial_slots_, Slot{});
}

}  // namespace raftlock::service
