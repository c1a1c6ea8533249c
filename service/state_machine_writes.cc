// SqliteStateMachine: writing the applied state into its tables, one
// transaction per write, behind the applies (state_machine.h).
#include "raft/assert.h"
#include "service/state_machine.h"

namespace raftlock::service {

using raft::Index;

void SqliteStateMachine::set_write_behind(std::chrono::milliseconds interval,
                                          std::size_t max_entries) {
  RAFTLOCK_ASSERT_MSG(executor_ != nullptr || max_entries == 0,
                      "write-behind needs an executor for its timer");
  flush_interval_ = interval;
  flush_entries_ = max_entries;
  if (executor_ != nullptr && !flush_timer_)
    flush_timer_ = std::make_unique<boost::asio::steady_timer>(*executor_);
}

void SqliteStateMachine::after_apply(std::size_t entries) {
  if (written_ == applied_) {  // e.g. the batch ended with a configuration entry
    pending_entries_ = 0;
    return;
  }
  pending_entries_ += entries;
  if (flush_entries_ == 0 || pending_entries_ >= flush_entries_) {
    flush();
    return;
  }
  if (flush_armed_) return;
  flush_armed_ = true;
  flush_timer_->expires_after(flush_interval_);
  flush_timer_->async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive) return;
    flush_armed_ = false;
    if (!ec) flush();
  });
}

void SqliteStateMachine::flush() {
  if (written_ == applied_) return;
  begin_apply();
  write_pending();
  store_applied_index();
  end_apply();
}

void SqliteStateMachine::begin_apply() {
  // synchronous=NORMAL on either connection (open(); the log store's, which
  // syncs the WAL itself): the commit needs no fsync of its own.
  check(db_->begin(storage::TransactionMode::kImmediate), "begin apply");
}

void SqliteStateMachine::end_apply() {
  check(db_->commit(), "commit apply");
}

void SqliteStateMachine::store_applied_index() {
  auto st = cached(
      "INSERT INTO sm_meta (id, applied_index) VALUES (1, ?1) "
      "ON CONFLICT (id) DO UPDATE SET applied_index = excluded.applied_index");
  check(st.value().bind_uint64(1, applied_), "bind");
  check(st.value().run(), "store applied index");
  written_ = applied_;
}

void SqliteStateMachine::write_pending() {
  // Each changed row once, as the model has it now: the same rows as writing
  // every batch on its own would have left.
  for (const std::string& key : dirty_)
    write_row(key);
  dirty_.clear();
  auto remember =
      cached("INSERT INTO sm_requests (applied_index, req, result) VALUES (?1, ?2, '')");
  for (const auto& [index, req] : new_requests_) {
    if (index <= prune_requests_through_) continue;  // already out of the window
    check(remember.value().bind_uint64(1, index), "bind");
    check(remember.value().bind_text(2, req), "bind");
    check(remember.value().run(), "remember request");
  }
  new_requests_.clear();
  if (prune_requests_through_ > 0) {
    auto prune = cached("DELETE FROM sm_requests WHERE applied_index <= ?1");
    check(prune.value().bind_uint64(1, prune_requests_through_), "bind");
    check(prune.value().run(), "prune requests");
    prune_requests_through_ = 0;
  }
  pending_entries_ = 0;
}

void SqliteStateMachine::write_row(const std::string& key) {
  if (key.compare(0, 2, "s/") == 0) {
    const std::string id = key.substr(2);
    const SessionRecord* s = state_.find_session(id);
    if (s == nullptr) {
      auto del = cached("DELETE FROM sm_sessions WHERE id = ?1");
      check(del.value().bind_text(1, id), "bind");
      check(del.value().run(), "delete session");
      return;
    }
    auto up = cached(
        "INSERT INTO sm_sessions (id, name, ttl_ms, lock_delay_ms, create_index, modify_index) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET "
        "modify_index = excluded.modify_index");
    storage::Statement& q = up.value();
    check(q.bind_text(1, s->id), "bind");
    check(q.bind_text(2, s->name), "bind");
    check(q.bind_int64(3, s->ttl_ms), "bind");
    check(q.bind_int64(4, s->lock_delay_ms), "bind");
    check(q.bind_uint64(5, s->create_index), "bind");
    check(q.bind_uint64(6, s->modify_index), "bind");
    check(q.run(), "store session");
    return;
  }
  const LockRecord* l = state_.find_lock(key);
  if (l == nullptr) {
    auto del = cached("DELETE FROM sm_locks WHERE key = ?1");
    check(del.value().bind_text(1, key), "bind");
    check(del.value().run(), "delete lock");
    return;
  }
  const std::string data = LockState::encode_lock(*l);
  auto up = cached(
      "INSERT INTO sm_locks (key, data) VALUES (?1, ?2) "
      "ON CONFLICT (key) DO UPDATE SET data = excluded.data");
  check(up.value().bind_text(1, key), "bind");
  check(up.value().bind_text(2, data), "bind");
  check(up.value().run(), "store lock");
}

void SqliteStateMachine::remember_result(const CommandResult& r) {
  new_requests_.emplace_back(r.index, r.req);
  requests_.add(r.req, r.index);
}

}  // namespace raftlock::service
