// The storage seen by Raft: a read-only view for the core (LogView) and a
// write side for the driver (LogStore). The core never writes; it asks the
// driver to, through Ready (ready.h), and the driver calls LogStore::write.
//
// Stored log: a snapshot (possibly empty) covering [1, snapshot.index], then
// the entries (snapshot.index, last_index()]. first_index() == snapshot.index + 1.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft {

struct InitialState {
  HardState hard_state;
  SnapshotMeta snapshot;             // meta of the stored snapshot (index 0 if none)
  std::uint64_t snapshot_bytes = 0;  // the size of its data
};

class LogView {
 public:
  virtual ~LogView() = default;

  virtual InitialState initial_state() const = 0;
  // Index of the first stored entry: snapshot index + 1.
  virtual Index first_index() const = 0;
  // Index of the last stored entry, or the snapshot index when no entries follow it.
  virtual Index last_index() const = 0;
  // Term of entry i. REQUIRES: first_index()-1 <= i <= last_index() for ok;
  // kCompacted below that range, kUnavailable above it. term(snapshot index) is
  // the snapshot's term; term(0) is 0.
  virtual Result<Term> term(Index i) const = 0;
  // Entries [lo, hi), stopping early once max_bytes would be exceeded, but
  // always at least one entry. kCompacted if lo < first_index();
  // kUnavailable if hi > last_index() + 1.
  virtual Result<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max_bytes) const = 0;
  // The stored snapshot, including its data.
  virtual Snapshot snapshot() const = 0;
};

// One atomic, durable write: all of it or nothing survives a crash.
// Applied in this order: install_snapshot, entries, hard_state, compact.
struct StorageWrite {
  // A snapshot received from the leader: replaces the snapshot and drops every
  // entry it covers (entries after it are kept if they match its term at its index,
  // otherwise the whole log is dropped).
  std::optional<Snapshot> install_snapshot;
  // Entries to append. If the first index is <= last_index(), the stored suffix
  // from that index on is replaced (conflict truncation decided by the core).
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  // A snapshot the state machine took locally: stored, and entries up to its
  // index are dropped. Ignored if not newer than the stored snapshot.
  std::optional<Snapshot> compact;

  bool empty() const { return !install_snapshot && entries.empty() && !hard_state && !compact; }
};

// Makes durable every LogStore::write_ordered that returned before sync() was
// called. Thread-safe: it runs on a thread of its own, concurrently with the
// store's writes and with other sync() calls, and touches only the file.
class WriteSyncer {
 public:
  virtual ~WriteSyncer() = default;
  // A failure is fatal for the node, as a failed LogStore::write is.
  virtual Status sync() = 0;
  // Starts writing what the store wrote so far to the disk, without waiting
  // and without making it durable (the next sync() does): by the time a sync
  // thread gets to run, the data is on its way and the sync waits mostly for
  // the disk's flush. Best effort: never a substitute for sync(). Runs on the
  // caller's thread, possibly while another thread is in sync().
  virtual void start() noexcept {}
};

class LogStore : public LogView {
 public:
  // Makes `w` durable. A failure here is fatal for the node (STYLE.md:
  // never retry an fsync); the caller aborts on a non-ok Status.
  virtual Status write(const StorageWrite& w) = 0;

  // Pipelined writes, for a store that can split write() in two: a write that
  // is ordered but not yet durable, and a sync (syncer()) that another thread
  // runs while the next writes are made. write_ordered(w) applies `w` as
  // write() does and reads see it at once; after a crash the store holds the
  // writes made up to some point, all of each or nothing of it (a prefix:
  // never a later write without an earlier one), and at least every write a
  // finished sync() covered. Stores that cannot return nullptr from syncer()
  // and keep write_ordered() == write().
  virtual Status write_ordered(const StorageWrite& w) { return write(w); }
  virtual std::shared_ptr<WriteSyncer> syncer() { return nullptr; }
};

}  // namespace raftlock::raft
