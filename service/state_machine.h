// The replicated state machine of raftlock over SQLite (DESIGN.md).
//
// apply() runs a batch of committed entries on the in-memory model; their
// rows are written later, in ONE SQLite transaction that also records the
// applied index, so every entry takes effect exactly once, even across
// crashes. Applying is deterministic: no clocks, no randomness; all inputs
// travel inside the entries (command.h).
//
// Write-behind (set_write_behind): the rows of many batches are written
// together -- each changed session or lock row once, however often it changed
// -- at most `interval` after the first unwritten apply, or once `max_entries`
// are pending, and always before a snapshot image, a configuration entry, a
// restore and at destruction. The tables then lag the model by at most that
// much; a crash loses only rows of entries that are still in the log (a
// compaction follows a written snapshot), and a restart applies them again.
// Without write-behind every batch is written as it is applied.
//
// Tables (storage/schema.cc, migrations 2-4): sm_meta (applied index),
// sm_members (cluster members and their addresses, from configuration
// entries), sm_requests (ids of recent commands, so a command proposed twice
// takes effect once; looked up in memory, request_window.h), sm_sessions and
// sm_locks.
//
// The lock rules live in LockState (lock_state.h), a pure in-memory model
// that serves every read; this class writes what the batches changed (rows
// of sm_sessions and sm_locks) and reloads the model from the tables on open
// and after a snapshot restore.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "raft/conf_change.h"
#include "raft/state_machine.h"
#include "service/command.h"
#include "service/lock_state.h"
#include "service/request_window.h"
#include "storage/database.h"

namespace raftlock::service {

struct Member {
  raft::NodeId id = 0;
  std::string peer;  // host:port of the peer protocol
  std::string http;  // host:port of the HTTP API ("" if not known yet)
  bool voter = false;
};

class SqliteStateMachine final : public raft::StateMachine {
 public:
  // How many entries a request id is remembered for: a retry of a command
  // within this window returns the first result instead of applying again.
  static constexpr raft::Index kRequestWindow = 20000;

  using ResultHandler = std::function<void(const CommandResult&)>;
  using EffectsHandler = std::function<void(const LockEffects&)>;

  // Opens the state machine's view of the node database at `path` (which the
  // log store has already migrated).
  static Result<std::unique_ptr<SqliteStateMachine>> open(const std::string& path,
                                                          LockLimits limits = {});
  // Shares the log store's connection `db` (which outlives the state
  // machine), with its synchronous=NORMAL: the state machine's commits become
  // durable with the log store's next sync of the WAL.
  static Result<std::unique_ptr<SqliteStateMachine>> open_shared(storage::Database& db,
                                                                 LockLimits limits = {});

  raft::Index applied_index() const override { return applied_; }
  void apply(std::span<const raft::Entry> entries) override;
  raft::Bytes snapshot_image() override;
  // Pins a read transaction on a second connection at the current applied
  // index, then serializes the tables on a worker thread (SQLite WAL keeps
  // that view consistent while this node goes on applying). Synchronous
  // until set_executor() is called.
  void snapshot_image_async(ImageHandler done) override;
  void set_executor(boost::asio::io_context& io) { executor_ = &io; }
  // Writes rows behind the applies (see the top of this file); needs
  // set_executor() first. max_entries 0 turns it off.
  void set_write_behind(std::chrono::milliseconds interval, std::size_t max_entries);
  // Writes what is applied but not yet written; a no-op when nothing is.
  void flush();
  // The applied index the tables hold (== applied_index() after flush()).
  raft::Index written_index() const { return written_; }
  ~SqliteStateMachine() override;
  void restore(const raft::Snapshot& snapshot) override;

  // Called once per command entry of each applied batch, as soon as the
  // model has applied the batch (before its rows are written: the entries are
  // committed, so the results are final either way). Handlers must not apply
  // or restore re-entrantly.
  void on_result(ResultHandler h) { on_result_ = std::move(h); }
  // Whether a request waits on this node for the result of command `req`;
  // results nobody waits for are built without their body (LockState::apply).
  // Unset: every result gets its body.
  void on_wanted(std::function<bool(const std::string& req)> h) { wanted_ = std::move(h); }
  // Called after each applied batch's results (and after a restore, with
  // every key changed).
  void on_effects(EffectsHandler h) { on_effects_ = std::move(h); }
  const LockState& locks() const { return state_; }

  std::vector<Member> members() const;
  // Changes whenever the member list may have changed (a configuration entry
  // applied, a snapshot restored), so callers re-read it only then.
  std::uint64_t members_version() const { return members_version_; }

 private:
  SqliteStateMachine(std::unique_ptr<storage::Database> owned, storage::Database* shared,
                     LockLimits limits)
      : owned_(std::move(owned)), db_(shared ? shared : owned_.get()), state_(limits) {}
  void begin_apply();
  void end_apply();
  void write_pending();
  void write_row(const std::string& key);
  void after_apply(std::size_t entries);
  void apply_conf_entry(const raft::Entry& e, LockEffects& effects);
  // Takes the model's effects since the last call: their keys become rows to
  // write, the rest joins `into` (the batch's effects).
  void collect_effects(LockEffects& into);
  static raft::Bytes build_image(storage::Database& db, raft::Index applied,
                                 std::size_t size_hint = 0);
  std::size_t image_size_hint() const;
  Status load();
  Status load_tables();
  CommandResult apply_command(const raft::Entry& e);
  std::optional<CommandResult> earlier_result(const std::string& req) const;
  void remember_result(const CommandResult& r);
  void apply_conf_change(raft::Index index, const raft::Bytes& data);
  void check(const Status& s, const char* what) const;
  void store_applied_index();
  // Statements of the apply path, prepared once per connection.
  struct CachedStatement {
    storage::Statement* stmt;
    Status status() const { return Status::ok(); }
    storage::Statement& value() const { return *stmt; }
  };
  CachedStatement cached(const char* sql) const;

  std::unique_ptr<storage::Database> owned_;  // null when sharing the log store's
  storage::Database* db_;
  // By the address of the SQL text: every caller passes a string literal.
  mutable std::map<const char*, storage::Statement> statements_;
  raft::Index applied_ = 0;
  raft::Index written_ = 0;  // applied index of the tables
  // Applied, not yet written (write-behind): changed session/lock keys, new
  // request ids, the newest request-window prune, the entries since the write.
  std::unordered_set<std::string> dirty_;
  std::vector<std::pair<raft::Index, std::string>> new_requests_;
  raft::Index prune_requests_through_ = 0;
  std::size_t pending_entries_ = 0;
  std::chrono::milliseconds flush_interval_{0};
  std::size_t flush_entries_ = 0;  // 0: write every batch
  std::unique_ptr<boost::asio::steady_timer> flush_timer_;
  bool flush_armed_ = false;
  std::uint64_t members_version_ = 1;
  boost::asio::io_context* executor_ = nullptr;
  std::unique_ptr<storage::Database> snap_db_;  // used only by the snapshot worker
  std::size_t last_image_bytes_ = 0;            // the size hint of the next image
  std::thread snap_thread_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ResultHandler on_result_;
  std::function<bool(const std::string&)> wanted_;
  EffectsHandler on_effects_;
  LockState state_;
  RequestWindow requests_;  // mirrors sm_requests
};

}  // namespace raftlock::service
