// Runs coroutines concurrently on one executor and waits for all of them:
// the join that Boost 1.74's Asio lacks (its awaitable operators came later).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <exception>
#include <memory>

namespace raftlock::bench {

class TaskGroup {
 public:
  explicit TaskGroup(boost::asio::any_io_executor ex)
      : ex_(ex), state_(std::make_shared<State>(ex)) {}

  // Starts `task`; what it references must outlive it. An exception it ends
  // with is kept (the first one) and rethrown by wait().
  void spawn(boost::asio::awaitable<void> task) {
    ++state_->running;
    boost::asio::co_spawn(ex_, std::move(task), [s = state_](std::exception_ptr e) {
      if (e && !s->first_error) s->first_error = e;
      if (--s->running == 0) s->done.cancel();
    });
  }

  // Returns once every spawned task has finished.
  boost::asio::awaitable<void> wait() {
    while (state_->running > 0) {
      state_->done.expires_at(boost::asio::steady_timer::time_point::max());
      boost::system::error_code ec;  // operation_aborted: the last task finished
      co_await state_->done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    if (auto e = std::exchange(state_->first_error, nullptr)) std::rethrow_exception(e);
  }

 private:
  struct State {
    explicit State(boost::asio::any_io_executor ex) : done(ex) {}
    boost::asio::steady_timer done;
    std::size_t running = 0;
    std::exception_ptr first_error;
  };
  boost::asio::any_io_executor ex_;
  std::shared_ptr<State> state_;
};

}  // namespace raftlock::bench
