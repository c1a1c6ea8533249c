// LockWorkload: lock-service clients and the leaders' timer duties, run with
// `raft_sim --workload locks` on top of the Raft workload and the faults.
//
// Clients (3..6 per run) each keep at most one session: they create it, send
// keepalives to the current leader every ttl/3 (lost with the network's drop
// rate), try-lock and wait on a mutex, a read-write lock and a semaphore,
// release (with their token, without one, or with a wrong one), cancel waits
// (also at their deadline, through the node holding the wait), campaign,
// proclaim and resign in an election, close their session, or go silent
// (stop keepaliving and acting) so the leader must expire the session.
// Every request is a command proposed at a random up node (followers
// forward); its answer is the result of the entry as applied by that node,
// in the same incarnation, within 300 ms (else "timeout": outcome unknown).
//
// Each node that believes it leads runs the leader duty with its volatile
// state (lost on a crash, reset on a new term): it records the keepalives it
// receives; once the first entry of its term is applied, every session gets a
// full TTL from then; a session not heard from for its TTL is expired by
// proposing session.expire {ids, term: the leader's current term}, sometimes
// a few ms after deciding (by then it may have been deposed and the proposal
// forwarded into a later term: the replicas' term guard must then expire
// nothing); lock.sweep is proposed when the replica has waits past their
// deadline or lock delays that ended.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "raft/types.h"
#include "tests/sim/sim_event_queue.h"
#include "tests/sim/sim_lock_replica.h"

namespace raftlock::sim {

class Cluster;
class SimNode;

struct LockStats {
  std::uint64_t requests = 0;  // client commands proposed
  std::uint64_t refused = 0;   // refused at once by the node (no leader)
  std::uint64_t answered = 0;  // client commands answered
  std::uint64_t sessions_created = 0;
  std::uint64_t keepalives = 0;  // delivered to a leader
  std::uint64_t expiry_proposals = 0;
  std::uint64_t sweep_proposals = 0;
};

class LockWorkload {
 public:
  // One client action.
  void act(Cluster& c);
  // Every workload step: keepalives, wait deadlines, deferred proposals, the
  // leader duty of every node that believes it leads.
  void duties(Cluster& c);
  // Node `n` applied `e` with `o` (o.command is true).
  void on_applied(Cluster& c, SimNode& n, const raft::Entry& e, const LockOutcome& o);
  const LockStats& stats() const { return stats_; }

 private:
  enum class Phase { kNone, kCreating, kLive, kSilent };
  struct Wait {
    raft::NodeId at = 0;
    std::uint64_t incarnation = 0;
    TimeMs deadline = 0;
    std::string kind, name;
  };
  struct Client {
    int id = 0;
    Phase phase = Phase::kNone;
    std::string session;
    std::int64_t ttl_ms = 0;
    TimeMs last_keepalive = 0, silent_since = 0;
    bool busy = false;                        // a request other than a cancel is out
    std::map<std::string, raft::Index> held;  // key -> token, as the client believes
    std::map<std::string, Wait> waits;        // key -> its queued wait
  };
  struct Pending {
    int client = 0;
    raft::NodeId at = 0;
    std::uint64_t incarnation = 0;
    TimeMs sent = 0;
    std::string op, kind, name, session;
    bool main = true;     // occupies the client's request slot
    TimeMs deadline = 0;  // lock.acquire: when its wait would end
  };
  struct Duty {
    std::uint64_t incarnation = 0;
    raft::Term term = 0;
    bool ready = false;                      // the first entry of its term is applied here
    std::map<std::string, TimeMs> heard;     // session -> last keepalive (or grace start)
    std::map<std::string, TimeMs> proposed;  // session -> when its expiry was proposed
    TimeMs last_sweep = 0;
  };
  struct Deferred {
    TimeMs at = 0;
    raft::NodeId node = 0;
    std::uint64_t incarnation = 0;
    raft::Bytes data;
  };

  void start(Cluster& c);
  void request(Cluster& c, Client& cl, const std::string& op, nlohmann::json args,
               const std::string& kind, const std::string& name, bool main = true,
               raft::NodeId at = raft::kNoNode);
  void client_action(Cluster& c, Client& cl);
  void on_result(Cluster& c, Client& cl, const Pending& p, const LockOutcome& o);
  Duty& duty_of(SimNode& n, raft::Term term);
  void leader_duty(Cluster& c, SimNode& n);
  void end_session(Client& cl);

  bool started_ = false;
  std::vector<Client> clients_;
  std::map<std::string, Pending> pending_;  // by request id
  std::map<raft::NodeId, Duty> duties_;
  std::vector<Deferred> deferred_;
  LockStats stats_;
};

}  // namespace raftlock::sim
