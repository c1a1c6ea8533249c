#include "service/watches.h"

#include <vector>

namespace raftlock::service {

std::uint64_t Watches::add(const std::string& key, std::chrono::milliseconds wait, Fire fire) {
  const std::uint64_t id = next_id_++;
  Watch w;
  w.key = key;
  w.fire = std::move(fire);
  w.timer = std::make_unique<boost::asio::steady_timer>(io_, wait);
  w.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) this->fire(id);
  });
  watches_.emplace(id, std::move(w));
  by_key_.emplace(key, id);
  return id;
}

void Watches::cancel(std::uint64_t id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  auto [a, b] = by_key_.equal_range(it->second.key);
  for (auto i = a; i != b; ++i) {
    if (i->second == id) {
      by_key_.erase(i);
      break;
    }
  }
  it->second.timer->cancel();
  watches_.erase(it);
}

void Watches::fire(std::uint64_t id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  Fire f = std::move(it->second.fire);
  cancel(id);
  f();
}

void Watches::on_effects(const LockEffects& effects) {
  std::vector<std::uint64_t> due;
  if (effects.everything) {
    for (const auto& [id, w] : watches_)
      due.push_back(id);
  } else {
    for (const std::string& key : effects.changed) {
      auto [a, b] = by_key_.equal_range(key);
      for (auto i = a; i != b; ++i)
        due.push_back(i->second);
    }
  }
  for (std::uint64_t id : due)
    fire(id);
}

}  // namespace raftlock::service
