#include "service/lock_waits.h"

#include <utility>
#include <vector>

namespace raftlock::service {

namespace {

Command acquire_command(const AcquireRequest& r) {
  Command c;
  c.op = "lock.acquire";
  c.kind = kind_name(r.kind);
  c.name = r.name;
  c.session = r.session;
  c.mode = mode_name(r.mode);
  c.limit = r.limit;
  c.wait_ms = r.wait_ms;
  c.value = r.value;
  return c;
}

}  // namespace

LockWaits::LockWaits(boost::asio::io_context& io, Proposals& proposals, StateView state,
                     std::chrono::milliseconds proposal_timeout)
    : io_(io),
      proposals_(proposals),
      state_(std::move(state)),
      proposal_timeout_(proposal_timeout) {}

std::uint64_t LockWaits::acquire(const AcquireRequest& req, Done done, Queued queued) {
  const std::uint64_t id = next_id_++;
  Ticket t;
  t.req = req;
  t.key = LockState::lock_key(req.kind, req.name);
  t.done = std::move(done);
  t.on_queued = std::move(queued);
  t.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.wait_ms);
  tickets_.emplace(id, std::move(t));
  proposals_.propose(acquire_command(req), proposal_timeout_,
                     [this, id](const CommandResult& r) { on_acquired(id, r); });
  return id;
}

void LockWaits::on_acquired(std::uint64_t id, const CommandResult& r) {
  auto it = tickets_.find(id);
  if (it == tickets_.end()) return;
  Ticket& t = it->second;
  if (!r.ok || !r.body.contains("queued")) return finish(id, r);
  t.queued = true;
  by_wait_.emplace(WaitKey{t.key, t.req.session}, id);
  if (t.gone) return give_up(id, "gone");
  t.timer = std::make_unique<boost::asio::steady_timer>(io_, t.deadline);
  t.timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) give_up(id, "timeout");
  });
  if (t.on_queued) std::exchange(t.on_queued, nullptr)(id);
}

void LockWaits::gone(std::uint64_t id) {
  auto it = tickets_.find(id);
  if (it == tickets_.end()) return;
  it->second.gone = true;
  if (it->second.queued) give_up(id, "gone");
}

std::size_t LockWaits::live_on(const WaitKey& wk, std::uint64_t except) const {
  std::size_t n = 0;
  auto [a, b] = by_wait_.equal_range(wk);
  for (auto it = a; it != b; ++it) {
    if (it->second != except && !tickets_.at(it->second).gone) ++n;
  }
  return n;
}

void LockWaits::give_up(std::uint64_t id, const char* reason) {
  auto it = tickets_.find(id);
  if (it == tickets_.end() || it->second.ending) return;
  Ticket& t = it->second;
  const WaitKey wk{t.key, t.req.session};
  if (live_on(wk, id) > 0) {
    // Another request still waits on the same queue place: only this one ends.
    const LockState& st = state_();
    return finish(id, st.held_error(0, Command{}, st.find_lock(t.key)));
  }
  t.ending = true;
  if (t.timer) t.timer->cancel();
  Command cancel;
  cancel.op = "lock.cancel";
  cancel.kind = kind_name(t.req.kind);
  cancel.name = t.req.name;
  cancel.session = t.req.session;
  cancel.reason = reason;
  proposals_.propose(std::move(cancel), proposal_timeout_, [this, id, wk](const CommandResult& r) {
    // The answer for this request, and for the others on the
    // same wait whose clients went away.
    std::vector<std::uint64_t> gone;
    auto [a, b] = by_wait_.equal_range(wk);
    for (auto i = a; i != b; ++i)
      if (i->second != id && tickets_.at(i->second).gone) gone.push_back(i->second);
    finish(id, r);
    for (std::uint64_t g : gone)
      finish(g, r);
  });
}

void LockWaits::finish(std::uint64_t id, const CommandResult& r) {
  auto it = tickets_.find(id);
  if (it == tickets_.end()) return;
  Done done = std::move(it->second.done);
  if (it->second.timer) it->second.timer->cancel();
  const WaitKey wk{it->second.key, it->second.req.session};
  auto [a, b] = by_wait_.equal_range(wk);
  for (auto i = a; i != b; ++i) {
    if (i->second == id) {
      by_wait_.erase(i);
      break;
    }
  }
  tickets_.erase(it);
  done(r);
}

void LockWaits::finish_wait(const WaitKey& wk, const CommandResult& r) {
  std::vector<std::uint64_t> ids;
  auto [a, b] = by_wait_.equal_range(wk);
  for (auto i = a; i != b; ++i)
    ids.push_back(i->second);
  for (std::uint64_t id : ids)
    finish(id, r);
}

void LockWaits::on_effects(const LockEffects& effects) {
  const LockState& st = state_();
  auto refusal = [&](const std::string& key, const std::string& session) {
    if (st.find_session(session) == nullptr) {
      CommandResult r;
      r.ok = false;
      r.error_code = "session_not_found";
      r.error_message = "session " + session + " ended while waiting";
      return r;
    }
    return st.held_error(0, Command{}, st.find_lock(key));
  };
  auto grant = [&](const std::string& key, const std::string& session) {
    const LockRecord* l = st.find_lock(key);
    const Holder* h = l ? l->holder(session) : nullptr;
    if (h == nullptr) return refusal(key, session);  // granted, then released in the same batch
    CommandResult r;
    r.index = h->token;
    r.body = st.grant_body(*l, *h);
    return r;
  };
  if (effects.everything) {
    // A snapshot replaced the state: answer every queued wait from it.
    std::vector<WaitKey> keys;
    for (const auto& [wk, id] : by_wait_)
      keys.push_back(wk);
    for (const WaitKey& wk : keys) {
      const LockRecord* l = st.find_lock(wk.first);
      if (l != nullptr && l->holder(wk.second) != nullptr) {
        finish_wait(wk, grant(wk.first, wk.second));
      } else if (l == nullptr || l->waiter(wk.second) == nullptr) {
        finish_wait(wk, refusal(wk.first, wk.second));
      }
    }
    return;
  }
  for (const LockEffects::Grant& g : effects.grants) {
    const WaitKey wk{g.key, g.session};
    if (by_wait_.count(wk) != 0) finish_wait(wk, grant(g.key, g.session));
  }
  for (const LockEffects::WaitEnd& w : effects.waits_ended) {
    const WaitKey wk{w.key, w.session};
    std::vector<std::uint64_t> ids;
    auto [a, b] = by_wait_.equal_range(wk);
    for (auto i = a; i != b; ++i) {
      // A request whose own lock.cancel is in flight is answered by its result.
      if (!tickets_.at(i->second).ending) ids.push_back(i->second);
    }
    const CommandResult r = refusal(w.key, w.session);
    for (std::uint64_t id : ids)
      finish(id, r);
  }
}

}  // namespace raftlock::service
