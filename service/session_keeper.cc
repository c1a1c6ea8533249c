#include "service/session_keeper.h"

#include <vector>

namespace raftlock::service {

namespace {
constexpr std::size_t kMaxExpiriesPerEntry = 1000;
constexpr auto kResendAfter = std::chrono::milliseconds(1000);
constexpr auto kSweepEvery = std::chrono::milliseconds(200);
}  // namespace

SessionKeeper::SessionKeeper(boost::asio::io_context& io, raft::Node& node, Proposals& proposals,
                             Reads& reads, const SqliteStateMachine& sm, Logger& log,
                             std::chrono::milliseconds check_every)
    : io_(io),
      node_(node),
      proposals_(proposals),
      reads_(reads),
      sm_(sm),
      log_(log),
      every_(check_every),
      timer_(io) {}

void SessionKeeper::start() {
  stopped_ = false;
  schedule();
}

void SessionKeeper::stop() {
  stopped_ = true;
  timer_.cancel();
}

void SessionKeeper::schedule() {
  if (stopped_) return;
  timer_.expires_after(every_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    tick();
    schedule();
  });
}

void SessionKeeper::forget() {
  term_ = 0;
  counting_ = false;
  deadline_.clear();
  due_.clear();
  expiry_sent_.clear();
}

void SessionKeeper::set_deadline(const std::string& id, Clock::time_point at) {
  auto it = deadline_.find(id);
  if (it != deadline_.end()) {
    if (it->second >= at) return;  // deadlines only move later
    due_.erase({it->second, id});
    it->second = at;
  } else {
    deadline_.emplace(id, at);
  }
  due_.emplace(at, id);
  expiry_sent_.erase(id);
}

void SessionKeeper::begin_grace() {
  // Every session gets a full ttl from now: its keepalives may have gone to
  // the previous leader until a moment ago.
  counting_ = true;
  const Clock::time_point now = Clock::now();
  for (const auto& [id, s] : sm_.locks().sessions())
    set_deadline(id, now + std::chrono::milliseconds(s.ttl_ms));
  log_.info("leading: " + std::to_string(deadline_.size()) +
            " session(s) given a full ttl of grace");
}

std::optional<std::int64_t> SessionKeeper::keepalive(const std::string& id,
                                                     Clock::time_point received) {
  const SessionRecord* s = sm_.locks().find_session(id);
  if (s == nullptr) return std::nullopt;
  const Clock::time_point until = received + std::chrono::milliseconds(s->ttl_ms);
  if (term_ != 0) set_deadline(id, until);
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  return std::max<std::int64_t>(0, left);
}

void SessionKeeper::on_effects(const LockEffects& effects) {
  if (term_ == 0) return;
  if (effects.everything) {
    if (counting_) begin_grace();
    return;
  }
  const Clock::time_point now = Clock::now();
  for (const std::string& key : effects.changed) {
    if (key.compare(0, 2, "s/") != 0) continue;
    const std::string id = key.substr(2);
    const SessionRecord* s = sm_.locks().find_session(id);
    auto it = deadline_.find(id);
    if (s == nullptr) {
      if (it != deadline_.end()) {
        due_.erase({it->second, id});
        deadline_.erase(it);
      }
      expiry_sent_.erase(id);
    } else if (it == deadline_.end()) {
      set_deadline(id, now + std::chrono::milliseconds(s->ttl_ms));  // a new session
    }
  }
}

void SessionKeeper::tick() {
  const raft::CoreStatus st = node_.status();
  if (st.role != raft::Role::kLeader) {
    if (term_ != 0) forget();
    return;
  }
  if (st.term != term_) {
    forget();
    term_ = st.term;
  }
  if (!counting_) {
    if (!confirming_) {
      confirming_ = true;
      // A ReadIndex is answered once this term's first entry has committed.
      reads_.linearizable(std::chrono::milliseconds(2000), [this, term = term_](Status s) {
        confirming_ = false;
        if (s && term == term_ && !counting_) begin_grace();
      });
    }
    return;
  }
  const Clock::time_point now = Clock::now();
  std::vector<std::string> expire;
  for (const auto& [at, id] : due_) {
    if (at > now || expire.size() >= kMaxExpiriesPerEntry) break;
    auto sent = expiry_sent_.find(id);
    if (sent != expiry_sent_.end() && now - sent->second < kResendAfter) continue;
    expire.push_back(id);
  }
  if (!expire.empty()) {
    for (const std::string& id : expire)
      expiry_sent_[id] = now;
    expiries_proposed_ += expire.size();
    log_.info("expiring " + std::to_string(expire.size()) + " session(s), first " + expire.front());
    Command c;
    c.op = "session.expire";
    c.ids = std::move(expire);
    c.term = static_cast<std::int64_t>(term_);
    proposals_.propose(std::move(c), std::chrono::milliseconds(2000), [](const CommandResult&) {});
  }
  if (now - sweep_sent_ >= kSweepEvery && sm_.locks().sweep_due(wall_clock_ms())) {
    sweep_sent_ = now;
    Command c;
    c.op = "lock.sweep";
    proposals_.propose(std::move(c), std::chrono::milliseconds(2000), [](const CommandResult&) {});
  }
}

}  // namespace raftlock::service
