#include "storage/sqlite_log_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "raft/assert.h"
#include "storage/log_rows.h"
#include "storage/wal_syncer.h"

namespace raftlock::storage {

using raft::Entry;
using raft::EntryType;
using raft::Index;
using raft::Snapshot;
using raft::SnapshotMeta;
using raft::StorageWrite;
using raft::Term;

namespace {

Status invalid(const std::string& msg) {
  return Status(ErrorCode::kInvalidArgument, msg);
}

Status corruption(const std::string& path, const std::string& msg) {
  return Status(ErrorCode::kCorruption, path + ": " + msg);
}

// log_store.h: a write failure is fatal for the node, whatever SQLite said.
Status as_io(const Status& s) {
  return Status(ErrorCode::kIo, "sqlite log store write: " + s.to_string());
}

}  // namespace

// What validate() decided, for apply() and the cache update.
struct SqliteLogStore::Plan {
  bool install_keeps_entries = false;
  bool truncate = false;  // the entries replace a stored suffix
  bool compact = false;   // the compaction is newer than the snapshot
};

SqliteLogStore::SqliteLogStore(std::unique_ptr<Database> db, std::unique_ptr<LogStatements> st,
                               const SqliteLogStoreOptions& options)
    : db_(std::move(db)),
      st_(std::move(st)),
      cache_(options.tail_cache_entries_max, options.tail_cache_bytes_max) {}

// Here, where LogStatements is complete. Members go in reverse order of
// declaration: the statements (st_) are finalized before the connection (db_).
SqliteLogStore::~SqliteLogStore() = default;

raft::InitialState SqliteLogStore::initial_state() const {
  return {hard_state_, cache_.snapshot_meta(), snapshot_bytes_};
}

Index SqliteLogStore::first_index() const {
  return cache_.first_index();
}

Index SqliteLogStore::last_index() const {
  return cache_.last_index();
}

Result<Term> SqliteLogStore::term(Index i) const {
  return cache_.term(i);
}

Result<std::vector<Entry>> SqliteLogStore::entries(Index lo, Index hi,
                                                   std::uint64_t max_bytes) const {
  if (lo > hi) {
    return invalid("entries: lo " + std::to_string(lo) + " > hi " + std::to_string(hi));
  }
  if (lo < first_index()) {
    return Status(ErrorCode::kCompacted, "entries: lo " + std::to_string(lo) +
                                             " is before first index " +
                                             std::to_string(first_index()));
  }
  if (hi > last_index() + 1) {
    return Status(ErrorCode::kUnavailable, "entries: hi " + std::to_string(hi) +
                                               " is after last index " +
                                               std::to_string(last_index()) + " + 1");
  }
  if (lo == hi) return std::vector<Entry>();
  std::optional<std::vector<Entry>> cached = cache_.tail_entries(lo, hi, max_bytes);
  if (cached) return std::move(*cached);
  return read_entries(lo, hi, max_bytes);
}

Result<std::vector<Entry>> SqliteLogStore::read_entries(Index lo, Index hi,
                                                        std::uint64_t max_bytes) const {
  Statement& st = st_->select_entries;
  ResetOnExit reset(st);
  Status s = st.bind_uint64(1, lo);
  if (s.is_ok()) s = st.bind_uint64(2, hi);
  if (!s.is_ok()) return s;
  std::vector<Entry> out;
  std::uint64_t total_bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Result<bool> row = st.step();
    if (!row.is_ok()) return row.status();
    if (!*row || st.column_uint64(0) != i) {
      return corruption(db_->path(), "log entry " + std::to_string(i) + " is missing");
    }
    const std::uint64_t bytes = entry_bytes_with_data(st.column_bytes(3));
    if (!out.empty() && total_bytes + bytes > max_bytes) break;  // always at least one
    total_bytes += bytes;
    const std::int64_t type = st.column_int64(2);
    const Result<Term> cached_term = cache_.term(i);
    if (!valid_entry_type(type) || !cached_term.is_ok() || *cached_term != st.column_uint64(1)) {
      return corruption(db_->path(), "log entry " + std::to_string(i) + " changed on disk");
    }
    Entry e{st.column_uint64(1), i, static_cast<EntryType>(type), st.column_blob(3)};
    out.push_back(std::move(e));
  }
  return out;
}

Snapshot SqliteLogStore::snapshot() const {
  Snapshot s;
  s.meta = cache_.snapshot_meta();
  Statement& st = st_->select_snapshot_data;
  ResetOnExit reset(st);
  const Result<bool> row = st.step();
  RAFTLOCK_ASSERT_MSG(row.is_ok(), row.status().to_string().c_str());
  if (*row) s.data = st.column_blob(0);
  return s;
}

// Mirrors MemoryLogStore::write: every part is checked against the state the
// earlier parts leave behind before anything is changed.
Status SqliteLogStore::validate(const StorageWrite& w, Plan* plan) const {
  Index snap_index = cache_.snapshot_meta().index;
  Term snap_term = cache_.snapshot_meta().term;
  Index last = cache_.last_index();
  if (w.install_snapshot) {
    const SnapshotMeta& m = w.install_snapshot->meta;
    // Going back would forget entries that are known to be committed.
    if (m.index < snap_index) {
      return invalid("install_snapshot: index " + std::to_string(m.index) +
                     " is older than the stored snapshot " + std::to_string(snap_index));
    }
    if (m.index > kLogIndexMax) return invalid("install_snapshot: index is 2^63 or more");
    const Result<Term> t = cache_.term(m.index);
    plan->install_keeps_entries = t.is_ok() && *t == m.term;
    snap_index = m.index;
    snap_term = m.term;
    if (!plan->install_keeps_entries) last = m.index;
  }
  // Term of index i (snap_index <= i <= last) once the entries are applied.
  auto planned_term = [&](Index i) -> Term {
    if (i == snap_index) return snap_term;
    if (!w.entries.empty() && i >= w.entries.front().index) {
      return w.entries[i - w.entries.front().index].term;
    }
    return *cache_.term(i);  // a stored entry the write keeps
  };
  if (!w.entries.empty()) {
    const Index first = w.entries.front().index;
    if (first <= snap_index) {
      // Entries up to the snapshot are committed and compacted; the core never
      // rewrites them (it only appends above its commit index).
      return invalid("entries: first index " + std::to_string(first) +
                     " is not after the snapshot index " + std::to_string(snap_index));
    }
    if (first > last + 1) {
      return invalid("entries: first index " + std::to_string(first) +
                     " leaves a gap after last index " + std::to_string(last));
    }
    Term prev_term = first - 1 == snap_index ? snap_term : *cache_.term(first - 1);
    for (std::size_t k = 0; k < w.entries.size(); ++k) {
      const Entry& e = w.entries[k];
      if (e.index != first + k) {
        return invalid("entries: index " + std::to_string(e.index) + " at position " +
                       std::to_string(k) + " is not contiguous with " + std::to_string(first));
      }
      if (e.term < prev_term) {
        return invalid("entries: term " + std::to_string(e.term) + " at index " +
                       std::to_string(e.index) + " is lower than the term " +
                       std::to_string(prev_term) + " before it");
      }
      if (!valid_entry_type(static_cast<std::int64_t>(e.type))) {
        return invalid("entries: unknown type at index " + std::to_string(e.index));
      }
      prev_term = e.term;
    }
    if (w.entries.back().index > kLogIndexMax) return invalid("entries: index is 2^63 or more");
    plan->truncate = first <= last;
    last = w.entries.back().index;
  }
  if (w.compact && w.compact->meta.index > snap_index) {
    const SnapshotMeta& c = w.compact->meta;
    if (c.index > last) {
      return invalid("compact: index " + std::to_string(c.index) + " is after last index " +
                     std::to_string(last));
    }
    if (planned_term(c.index) != c.term) {
      return invalid("compact: term " + std::to_string(c.term) + " differs from the term " +
                     std::to_string(planned_term(c.index)) + " of entry " +
                     std::to_string(c.index));
    }
    plan->compact = true;
  }
  return Status::ok();
}

Status SqliteLogStore::write(const StorageWrite& w) {
  return write_with(w, true);
}

Status SqliteLogStore::write_ordered(const StorageWrite& w) {
  return write_with(w, false);
}

std::shared_ptr<raft::WriteSyncer> SqliteLogStore::syncer() {
  return syncer_;
}

Status SqliteLogStore::write_with(const StorageWrite& w, bool durable) {
  if (w.empty()) return Status::ok();
  Plan plan;
  const Status valid = validate(w, &plan);
  if (!valid.is_ok()) return valid;

  // The connection commits with synchronous=NORMAL (open()): no fsync here;
  // a durable write syncs the WAL itself, an ordered one leaves that to the
  // caller's syncer.
  Transaction tx(*db_);
  Status s = tx.begin(TransactionMode::kImmediate);
  if (s.is_ok()) s = apply(w, plan);
  if (s.is_ok()) s = tx.commit();
  if (s.is_ok() && durable) s = syncer_->sync();  // the one fsync of this write
  if (!s.is_ok()) return as_io(s);

  // Written: now the in-memory view follows, in the same order.
  if (w.install_snapshot) {
    cache_.install(w.install_snapshot->meta);
    snapshot_bytes_ = w.install_snapshot->data.size();
  }
  cache_.append(w.entries);
  if (w.hard_state) hard_state_ = *w.hard_state;
  if (plan.compact) {
    cache_.compact(w.compact->meta);
    snapshot_bytes_ = w.compact->data.size();
  }
  return Status::ok();
}

Status SqliteLogStore::apply(const StorageWrite& w, const Plan& plan) {
  Status s;
  if (w.install_snapshot) {
    if (plan.install_keeps_entries) {
      s = st_->delete_through.bind_uint64(1, w.install_snapshot->meta.index);
      if (s.is_ok()) s = st_->delete_through.run();
    } else {
      s = st_->delete_all.run();
    }
    if (s.is_ok()) s = put_snapshot(*w.install_snapshot);
    if (!s.is_ok()) return s;
  }
  if (!w.entries.empty()) {
    if (plan.truncate) {
      s = st_->delete_from.bind_uint64(1, w.entries.front().index);
      if (s.is_ok()) s = st_->delete_from.run();
      if (!s.is_ok()) return s;
    }
    Statement& insert = st_->insert_entry;
    for (const Entry& e : w.entries) {
      s = insert.bind_uint64(1, e.index);
      if (s.is_ok()) s = insert.bind_uint64(2, e.term);
      if (s.is_ok()) s = insert.bind_int64(3, static_cast<std::int64_t>(e.type));
      if (s.is_ok()) s = insert.bind_blob(4, e.data);
      if (s.is_ok()) s = insert.run();
      if (!s.is_ok()) return s;
    }
  }
  if (w.hard_state) {
    Statement& put = st_->put_hard_state;
    s = put.bind_uint64(1, w.hard_state->term);
    if (s.is_ok()) s = put.bind_uint64(2, w.hard_state->vote);
    if (s.is_ok()) s = put.bind_uint64(3, w.hard_state->commit);
    if (s.is_ok()) s = put.run();
    if (!s.is_ok()) return s;
  }
  if (plan.compact) {
    s = st_->delete_through.bind_uint64(1, w.compact->meta.index);
    if (s.is_ok()) s = st_->delete_through.run();
    if (s.is_ok()) s = put_snapshot(*w.compact);
  }
  return s;
}

Status SqliteLogStore::put_snapshot(const Snapshot& snap) {
  const std::string voters = encode_node_ids(snap.meta.conf.voters);
  const std::string learners = encode_node_ids(snap.meta.conf.learners);
  Statement& put = st_->put_snapshot;
  Status s = put.bind_uint64(1, snap.meta.index);
  if (s.is_ok()) s = put.bind_uint64(2, snap.meta.term);
  if (s.is_ok()) s = put.bind_blob(3, voters);
  if (s.is_ok()) s = put.bind_blob(4, learners);
  if (s.is_ok()) s = put.bind_blob(5, snap.data);
  if (s.is_ok()) s = put.run();
  return s;
}

}  // namespace raftlock::storage
