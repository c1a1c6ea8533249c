// Watches: blocking queries (API.md "Blocking queries"). A GET with
// ?index=N waits until the object it reads changes (a lock's or election's
// holders, waiters or value; a session's holds and waits, or its end) or its
// wait ends, then answers the state as it is then. Keys are LockState keys
// ("l/<name>", "e/<name>", "s/<id>").
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "service/lock_state.h"

namespace raftlock::service {

class Watches {
 public:
  using Fire = std::function<void()>;

  explicit Watches(boost::asio::io_context& io) : io_(io) {}

  // Calls `fire` once: when `key` changes or after `wait`. Returns an id for cancel().
  std::uint64_t add(const std::string& key, std::chrono::milliseconds wait, Fire fire);
  void cancel(std::uint64_t id);
  void on_effects(const LockEffects& effects);
  std::size_t size() const { return watches_.size(); }

 private:
  struct Watch {
    std::string key;
    Fire fire;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  void fire(std::uint64_t id);

  boost::asio::io_context& io_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Watch> watches_;
  std::multimap<std::string, std::uint64_t> by_key_;
};

}  // namespace raftlock::service
