#include "service/state_machine.h"

#include <malloc.h>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "raft/assert.h"
#include "service/sm_image.h"

namespace raftlock::service {

using nlohmann::json;
using raft::Entry;
using raft::EntryType;
using raft::Index;

namespace {

void must(const Status& s, const char* what) {
  RAFTLOCK_ASSERT_MSG(s.is_ok(), (std::string(what) + ": " + s.to_string()).c_str());
}

std::vector<Member> read_members(storage::Database& db) {
  std::vector<Member> out;
  auto st = db.prepare("SELECT id, peer, http, voter FROM sm_members ORDER BY id");
  must(st.status(), "prepare members");
  storage::Statement& s = st.value();
  while (true) {
    auto row = s.step();
    must(row.status(), "read members");
    if (!*row) break;
    out.push_back(
        Member{s.column_uint64(0), s.column_text(1), s.column_text(2), s.column_int64(3) != 0});
  }
  return out;
}

// Adds what `more` did after `into` (both of one batch, in order).
void merge_effects(LockEffects& into, LockEffects more) {
  if (into.empty()) {
    into = std::move(more);
    return;
  }
  for (LockEffects::Grant& g : more.grants)
    into.grants.push_back(std::move(g));
  for (LockEffects::WaitEnd& w : more.waits_ended)
    into.waits_ended.push_back(std::move(w));
  into.changed.merge(more.changed);
  into.everything = into.everything || more.everything;
}

}  // namespace

// The state machine's commits need no fsync of their own: they go into the
// same WAL file as the log store's, which syncs that file for every write
// that must be durable. The WAL keeps commits in order, so that sync also
// makes every earlier state machine frame durable, and a power loss can only
// drop the newest applies -- of entries still in the log (a compaction is
// written, and synced, after them), which are applied again on restart.
Result<std::unique_ptr<SqliteStateMachine>> SqliteStateMachine::open(const std::string& path,
                                                                     LockLimits limits) {
  auto db = storage::Database::open(path);
  if (!db) return db.status();
  Status nosync = db.value()->exec("PRAGMA synchronous=NORMAL");
  if (!nosync) return nosync;
  std::unique_ptr<SqliteStateMachine> sm(
      new SqliteStateMachine(std::move(db).value(), nullptr, limits));
  Status s = sm->load();
  if (!s) return s;
  return sm;
}

Result<std::unique_ptr<SqliteStateMachine>> SqliteStateMachine::open_shared(storage::Database& db,
                                                                            LockLimits limits) {
  std::unique_ptr<SqliteStateMachine> sm(new SqliteStateMachine(nullptr, &db, limits));
  Status s = sm->load();
  if (!s) return s;
  return sm;
}

Status SqliteStateMachine::load() {
  auto applied = db_->query_int64("SELECT applied_index FROM sm_meta WHERE id = 1");
  if (applied) {
    applied_ = static_cast<Index>(*applied);
  } else if (applied.code() == ErrorCode::kUnavailable) {
    applied_ = 0;
  } else {
    return applied.status();
  }
  written_ = applied_;
  return load_tables();
}

Status SqliteStateMachine::load_tables() {
  state_.clear();
  auto ss = db_->prepare(
      "SELECT id, name, ttl_ms, lock_delay_ms, create_index, modify_index FROM sm_sessions");
  if (!ss) return ss.status();
  while (true) {
    auto row = ss.value().step();
    if (!row) return row.status();
    if (!*row) break;
    storage::Statement& q = ss.value();
    SessionRecord s;
    s.id = q.column_text(0);
    s.name = q.column_text(1);
    s.ttl_ms = q.column_int64(2);
    s.lock_delay_ms = q.column_int64(3);
    s.create_index = q.column_uint64(4);
    s.modify_index = q.column_uint64(5);
    state_.load_session(std::move(s));
  }
  auto ls = db_->prepare("SELECT key, data FROM sm_locks");
  if (!ls) return ls.status();
  while (true) {
    auto row = ls.value().step();
    if (!row) return row.status();
    if (!*row) break;
    auto l = LockState::decode_lock(ls.value().column_text(1));
    if (!l) return l.status();
    for (const Holder& h : l->holders) {
      if (state_.find_session(h.session) == nullptr)
        return Status(ErrorCode::kCorruption, "lock row names unknown session " + h.session);
    }
    for (const Waiter& w : l->waiters) {
      if (state_.find_session(w.session) == nullptr)
        return Status(ErrorCode::kCorruption, "lock row names unknown session " + w.session);
    }
    state_.load_lock(std::move(l).value());
  }
  state_.finish_load();
  requests_.clear();
  auto rs = db_->prepare("SELECT req, applied_index FROM sm_requests ORDER BY applied_index");
  if (!rs) return rs.status();
  while (true) {
    auto row = rs.value().step();
    if (!row) return row.status();
    if (!*row) break;
    requests_.add(rs.value().column_text(0), rs.value().column_uint64(1));
  }
  return Status::ok();
}

void SqliteStateMachine::check(const Status& s, const char* what) const {
  // The state machine cannot continue after a failed write: its effects and
  // applied index would disagree with the log. Abort; a restart recovers.
  RAFTLOCK_ASSERT_MSG(s.is_ok(), (std::string(what) + ": " + s.to_string()).c_str());
}

SqliteStateMachine::CachedStatement SqliteStateMachine::cached(const char* sql) const {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto st = db_->prepare_persistent(sql);
    check(st.status(), sql);
    it = statements_.emplace(sql, std::move(st).value()).first;
  }
  return CachedStatement{&it->second};
}

void SqliteStateMachine::apply(std::span<const Entry> entries) {
  std::vector<CommandResult> results;
  LockEffects effects;
  std::size_t applied = 0;
  for (const Entry& e : entries) {
    if (e.index <= applied_) continue;  // applied before a restart
    RAFTLOCK_ASSERT_MSG(e.index == applied_ + 1, "entries applied out of order");
    ++applied;
    if (e.type == EntryType::kConfChange) {
      apply_conf_entry(e, effects);
      continue;
    }
    if (e.type == EntryType::kNormal) results.push_back(apply_command(e));
    applied_ = e.index;
  }
  if (applied_ > kRequestWindow && requests_.prune_through(applied_ - kRequestWindow)) {
    // Deterministic pruning: every node forgets the same requests at the same index.
    prune_requests_through_ = applied_ - kRequestWindow;
  }
  state_.prune(applied_);
  collect_effects(effects);
  // The answers leave before the rows are written: the entries are committed,
  // so their results are final whether or not this node's copy of them
  // survives a crash (a restart applies them again, to the same end).
  if (on_result_) {
    for (const CommandResult& r : results)
      on_result_(r);
  }
  if (on_effects_ && !effects.empty()) on_effects_(effects);
  after_apply(applied);
}

void SqliteStateMachine::collect_effects(LockEffects& into) {
  LockEffects more = state_.take_effects();
  dirty_.insert(more.changed.begin(), more.changed.end());  // rows to write
  merge_effects(into, std::move(more));
}

void SqliteStateMachine::apply_conf_entry(const Entry& e, LockEffects& effects) {
  // The member list is read from its table, so a configuration entry is
  // written at once, together with everything applied before it.
  collect_effects(effects);
  begin_apply();
  write_pending();
  apply_conf_change(e.index, e.data);
  applied_ = e.index;
  store_applied_index();
  end_apply();
}

void SqliteStateMachine::apply_conf_change(Index index, const raft::Bytes& data) {
  (void)index;
  auto cc = raft::decode_conf_change_entry(data);
  RAFTLOCK_ASSERT_MSG(cc.is_ok(), "undecodable configuration entry");
  // Addresses travel in the change's context: {"peer": "h:p", "http": "h:p"},
  // or for the founding entry {"members": [{"id", "peer", "http"}...]}.
  json ctx = json::parse(cc->change.context, nullptr, false);
  auto upsert = [&](raft::NodeId id, const std::string& peer, const std::string& http) {
    auto st = db_->prepare(
        "INSERT INTO sm_members (id, peer, http, voter) VALUES (?1, ?2, ?3, 0) "
        "ON CONFLICT (id) DO UPDATE SET peer = CASE WHEN excluded.peer = '' THEN peer ELSE "
        "excluded.peer END, http = CASE WHEN excluded.http = '' THEN http ELSE excluded.http END");
    check(st.status(), "prepare member");
    check(st.value().bind_uint64(1, id), "bind");
    check(st.value().bind_text(2, peer), "bind");
    check(st.value().bind_text(3, http), "bind");
    check(st.value().run(), "upsert member");
  };
  auto str = [](const json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  if (cc->change.type == raft::ConfChangeType::kBootstrap && ctx.is_object() &&
      ctx.contains("members") && ctx["members"].is_array()) {
    for (const json& m : ctx["members"]) {
      if (m.contains("id") && m["id"].is_number_unsigned()) {
        upsert(m["id"].get<raft::NodeId>(), str(m, "peer"), str(m, "http"));
      }
    }
  } else if (cc->change.type != raft::ConfChangeType::kBootstrap &&
             cc->change.type != raft::ConfChangeType::kRemoveNode) {
    upsert(cc->change.node, str(ctx, "peer"), str(ctx, "http"));
  }
  // The member list follows the resulting configuration exactly.
  check(db_->exec("UPDATE sm_members SET voter = 0"), "reset voters");
  for (raft::NodeId id : cc->result.voters) {
    upsert(id, "", "");
    auto st = db_->prepare("UPDATE sm_members SET voter = 1 WHERE id = ?1");
    check(st.status(), "prepare voter");
    check(st.value().bind_uint64(1, id), "bind");
    check(st.value().run(), "set voter");
  }
  for (raft::NodeId id : cc->result.learners)
    upsert(id, "", "");
  std::string ids;
  auto add_id = [&ids](raft::NodeId id) {
    if (!ids.empty()) ids.push_back(',');
    ids.append(std::to_string(static_cast<std::int64_t>(id)));
  };
  for (raft::NodeId id : cc->result.voters)
    add_id(id);
  for (raft::NodeId id : cc->result.learners)
    add_id(id);
  check(db_->exec("DELETE FROM sm_members WHERE id NOT IN (" + ids + ")"), "drop removed members");
  ++members_version_;
}

CommandResult SqliteStateMachine::apply_command(const Entry& e) {
  auto c = decode_command(e.data);
  if (!c) {
    CommandResult r;
    r.index = e.index;
    r.ok = false;
    r.error_code = "invalid_command";
    r.error_message = c.status().message();
    return r;
  }
  if (!c->req.empty()) {
    // A command re-proposed after a leader change (or retried) takes effect once.
    if (auto earlier = earlier_result(c->req)) return *earlier;
  }
  CommandResult r = state_.apply(e.index, e.term, *c, !wanted_ || wanted_(c->req));
  if (!c->req.empty()) remember_result(r);
  return r;
}

std::optional<CommandResult> SqliteStateMachine::earlier_result(const std::string& req) const {
  const std::optional<Index> at = requests_.find(req);
  if (!at) return std::nullopt;
  // A second copy of a command (re-proposed after a leader change) changes
  // nothing. Its result is not needed: the node that proposed it answered
  // its client when the first copy was applied, and no request waits for
  // the copy any more.
  CommandResult r;
  r.index = *at;
  r.req = req;
  r.body = json{{"duplicate", true}};
  return r;
}

std::vector<Member> SqliteStateMachine::members() const {
  return read_members(*db_);
}

raft::Bytes SqliteStateMachine::build_image(storage::Database& db, Index applied,
                                            std::size_t size_hint) {
  raft::Bytes image = build_sm_image(db, applied, size_hint);
  RAFTLOCK_ASSERT_MSG(!image.empty(), "cannot read the state machine tables for a snapshot");
  return image;
}

std::size_t SqliteStateMachine::image_size_hint() const {
  return last_image_bytes_ + last_image_bytes_ / 8;  // room for some growth
}

raft::Bytes SqliteStateMachine::snapshot_image() {
  flush();
  raft::Bytes image = build_image(*db_, applied_, image_size_hint());
  last_image_bytes_ = image.size();
  return image;
}

void SqliteStateMachine::snapshot_image_async(ImageHandler done) {
  flush();  // the image is read from the tables
  if (executor_ == nullptr) {
    done(applied_, snapshot_image());
    return;
  }
  if (snap_thread_.joinable()) snap_thread_.join();  // the previous one has finished
  if (!snap_db_) {
    auto db = storage::Database::open(db_->path());
    check(db.status(), "open snapshot connection");
    snap_db_ = std::move(db).value();
    // It only scans the tables once per image: a small page cache is enough,
    // and keeps the image's memory peak down (the node connection has 16 MiB).
    check(snap_db_->exec("PRAGMA cache_size=-2048"), "snapshot connection cache size");
  }
  // A WAL read transaction sees the database as of its first read: pin it now,
  // on this thread, where the applied index is known.
  check(snap_db_->begin(storage::TransactionMode::kDeferred), "begin snapshot read");
  auto pinned = snap_db_->query_int64("SELECT applied_index FROM sm_meta WHERE id = 1");
  const Index at = pinned ? static_cast<Index>(*pinned) : 0;
  RAFTLOCK_ASSERT_MSG(at == applied_, "snapshot read does not see the applied state");
  storage::Database* db = snap_db_.get();
  boost::asio::io_context* io = executor_;
  const std::size_t hint = image_size_hint();
  snap_thread_ =
      std::thread([this, db, io, at, hint, done = std::move(done), alive = alive_]() mutable {
        raft::Bytes image = build_image(*db, at, hint);
        must(db->commit(), "end snapshot read");
        boost::asio::post(
            *io, [this, done = std::move(done), at, image = std::move(image), alive]() mutable {
              if (*alive) {
                last_image_bytes_ = image.size();
                done(at, std::move(image));
              }
              // Building the image allocated many small blocks; hand the free ones
              // back (glibc's malloc; tcmalloc returns freed spans by itself,
              // service/allocator.h).
              malloc_trim(0);
            });
      });
}

SqliteStateMachine::~SqliteStateMachine() {
  *alive_ = false;
  if (snap_thread_.joinable()) snap_thread_.join();
  flush();
}

void SqliteStateMachine::restore(const raft::Snapshot& snapshot) {
  // The image replaces everything, including what was not written yet.
  dirty_.clear();
  new_requests_.clear();
  prune_requests_through_ = 0;
  pending_entries_ = 0;
  begin_apply();
  check(restore_sm_image(*db_, snapshot.data), "restore snapshot image");
  applied_ = snapshot.meta.index;
  last_image_bytes_ = snapshot.data.size();  // the size hint of this node's next image
  ++members_version_;
  store_applied_index();
  end_apply();
  check(load_tables(), "load restored state");
  if (on_effects_) {
    LockEffects all;
    all.everything = true;
    on_effects_(all);
  }
}

}  // namespace raftlock::service
