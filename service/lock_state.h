// LockState: the lock, session and election rules of raftlock, as a pure,
// deterministic in-memory model (DESIGN.md "The contract users rely on").
//
// apply(index, term, command) is a function of the current state and the
// entry alone: no clocks (time travels in the command's "now", the proposing
// node's wall clock in ms), no randomness (ids travel in the command), and
// ordered containers only. The same class runs inside raftlockd (wrapped by
// SqliteStateMachine, which persists what changed in the same transaction as
// the applied index) and inside the simulation, where its invariants are
// checked after every step.
//
// Objects are keyed "l/<name>" (locks), "e/<name>" (elections) and
// "s/<id>" (sessions, for change notifications).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "service/command.h"
#include "service/indexed_table.h"

namespace raftlock::service {

enum class LockMode { kExclusive, kShared };
enum class LockKind { kLock, kElection };

struct Holder {
  std::string session;
  raft::Index token = 0;  // index of the granting entry
  LockMode mode = LockMode::kExclusive;
  std::string value;  // elections: the leader's value
};

struct Waiter {
  std::string session;
  LockMode mode = LockMode::kExclusive;
  std::int64_t deadline_ms = 0;  // proposer clock; the leader cancels it after this (+ grace)
  std::string value;
  raft::Index since = 0;  // index of the entry that queued it
};

struct LockRecord {
  LockKind kind = LockKind::kLock;
  std::string name;
  std::uint32_t limit = 1;
  std::vector<Holder> holders;  // in grant order
  // FIFO. A vector, not a deque: libstdc++'s deque allocates ~600 bytes even
  // when empty, and most locks have no waiters.
  std::vector<Waiter> waiters;
  raft::Index modify_index = 0;
  std::int64_t delay_until_ms = 0;  // lock delay after an expiry; 0 = none
  bool counted = false;             // LockState's bookkeeping: counted as active

  bool active() const { return !holders.empty() || !waiters.empty(); }
  const Holder* holder(const std::string& session) const;
  const Waiter* waiter(const std::string& session) const;
  // Highest token among current holders (0 when none).
  raft::Index current_token() const;
};

struct SessionRecord {
  std::string id;
  std::string name;
  std::int64_t ttl_ms = 0;
  std::int64_t lock_delay_ms = 0;
  raft::Index create_index = 0;
  raft::Index modify_index = 0;
  std::set<std::string> held;     // keys
  std::set<std::string> waiting;  // keys
};

struct LockLimits {
  std::size_t max_sessions = 100000;
  std::size_t max_locks = 1000000;  // held or waited-on locks and elections
  std::size_t max_waiters_per_lock = 10000;
  std::size_t max_keys_per_session = 10000;  // held + waited-on by one session
};

// What applying produced, for the node's waiting requests and watchers.
struct LockEffects {
  struct Grant {
    std::string key, session;
    raft::Index token = 0;
  };
  struct WaitEnd {
    std::string key, session;
    std::string reason;  // "cancelled", "timeout", "session_ended"
  };
  std::vector<Grant> grants;
  std::vector<WaitEnd> waits_ended;
  std::set<std::string> changed;  // keys whose state (or modify_index) changed
  bool everything = false;        // a snapshot replaced the whole state
  bool empty() const {
    return grants.empty() && waits_ended.empty() && changed.empty() && !everything;
  }
};

class LockState {
 public:
  // How long past its deadline a wait stays queued before the leader's sweep
  // cancels it (the node holding the request normally cancels it at the deadline).
  static constexpr std::int64_t kWaitGraceMs = 2000;
  // An unused lock keeps its modify_index (for blocking queries) this many
  // entries after it became free; then it is forgotten, on every node at the
  // same index.
  static constexpr raft::Index kTombstoneWindow = 100000;

  explicit LockState(LockLimits limits = {}) : limits_(limits) {}

  static std::string lock_key(LockKind kind, const std::string& name);
  static std::string session_key(const std::string& id) { return "s/" + id; }

  // Applies one command of the entry at `index` (created in leader term
  // `term`). Unknown ops answer invalid_command and change nothing. With
  // `answer` false (nobody on this node waits for the result) a grant's or a
  // new session's result has no body; the state and the effects are the same
  // either way.
  CommandResult apply(raft::Index index, raft::Term term, const Command& c, bool answer = true);
  // Forgets tombstones that left the window; call once per applied batch.
  void prune(raft::Index applied);

  const LockRecord* find_lock(const std::string& key) const;
  const SessionRecord* find_session(const std::string& id) const;
  const std::map<std::string, LockRecord>& locks() const { return locks_; }
  const IndexedTable<SessionRecord>& sessions() const { return sessions_; }
  std::size_t active_locks() const { return active_; }
  std::size_t waiter_count() const;
  // True if a sweep at `now_ms` would cancel a wait or end a lock delay.
  bool sweep_due(std::int64_t now_ms) const;

  // JSON shapes of API.md, shared by results and GETs.
  nlohmann::json lock_json(const LockRecord& l, std::int64_t now_ms) const;
  nlohmann::json election_json(const LockRecord& l) const;
  nlohmann::json session_json(const SessionRecord& s) const;
  // The answer to a granted acquire or campaign (API.md), for holder `h` of `l`.
  nlohmann::json grant_body(const LockRecord& l, const Holder& h) const;
  // The refusal of an acquire that was not granted: 409 lock_held with the
  // holders (a lock) or the leader (an election); `l` may be null.
  CommandResult held_error(raft::Index index, const Command& c, const LockRecord* l) const;

  // Persistence (SqliteStateMachine): changed keys since the last call
  // ("l/..", "e/..", "s/..") and the effects for waiting requests.
  LockEffects take_effects();
  static std::string encode_lock(const LockRecord& l);
  static Result<LockRecord> decode_lock(const std::string& data);
  // Loading: add every record, then finish_load() rebuilds the indexes.
  void clear();
  void load_session(SessionRecord s);
  void load_lock(LockRecord l);
  void finish_load();

  // Every structural rule (holders within limits, indexes consistent);
  // "" when all hold. For tests and the simulation.
  std::string check_invariants() const;

 private:
  struct Ctx {
    raft::Index index;
    raft::Term term;
    const Command& c;
    std::int64_t now;
    bool answer;
  };
  CommandResult granted(const Ctx& x, const LockRecord& l, const Holder& h) const;
  CommandResult create_session(Ctx& x);
  CommandResult close_session(Ctx& x);
  CommandResult expire_sessions(Ctx& x);
  CommandResult acquire(Ctx& x);
  CommandResult release(Ctx& x);
  CommandResult cancel_wait(Ctx& x);
  CommandResult proclaim(Ctx& x);
  CommandResult sweep(Ctx& x);

  // With `defer_grants`, the locks to grant are added to it instead of granted.
  nlohmann::json end_session(Ctx& x, const std::string& id, bool expired,
                             std::set<std::string>* defer_grants = nullptr);
  void grant_waiters(LockRecord& l, const std::string& key, raft::Index index, std::int64_t now);
  bool admits(const LockRecord& l, LockMode mode) const;
  void touch_lock(LockRecord& l, const std::string& key, raft::Index index);
  void touch_session(SessionRecord& s, raft::Index index);
  void remove_waiter(LockRecord& l, const std::string& key, const std::string& session,
                     const std::string& reason);
  nlohmann::json holders_json(const LockRecord& l) const;

  LockLimits limits_;
  std::map<std::string, LockRecord> locks_;                     // by key, tombstones included
  IndexedTable<SessionRecord> sessions_;                        // by id
  std::set<std::string> timed_;                                 // keys with waiters or a lock delay
  std::deque<std::pair<raft::Index, std::string>> tombstones_;  // (modify_index, key)
  std::size_t active_ = 0;                                      // active locks
  LockEffects effects_;
};

const char* mode_name(LockMode m);
const char* kind_name(LockKind k);  // "lock" or "election", as commands name them

}  // namespace raftlock::service
