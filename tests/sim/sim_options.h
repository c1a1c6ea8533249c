// The command line of raft_sim (Boost.Program_options).
//
//   raft_sim --seed N [--trace]      one seed, optionally with a per-event trace
//   raft_sim --seeds A:B             seeds A..B inclusive
//   --nodes 3|5                      cluster size (default: chosen by each seed)
//   --steps N                        workload actions before healing (default 300)
//   --workload raft|locks            add lock clients and leader duties (default raft)
//   --mutation NAME                  break a Raft rule in every Core (config.h), or
//                                    a lock rule in the replicas (lock_*, sim_lock_replica.h)
//   --expect-failure                 exit 0 iff some seed fails (proves a check bites)
//   --expect-invariant NAME          the same, and the first failure must be of NAME
#pragma once

#include <cstdint>
#include <string>

#include "raft/config.h"
#include "raft/result.h"
#include "tests/sim/sim_lock_replica.h"

namespace raftlock::sim {

struct SimOptions {
  std::uint64_t first_seed = 1;
  std::uint64_t last_seed = 1;  // inclusive
  int nodes = 0;                // 0: per seed
  int steps = 300;
  std::string mutation;  // "" for none
  raft::Mutations mutations;
  bool locks = false;  // --workload locks
  LockMutations lock_mutations;
  // Test-only driver bug (--mutation driver_sends_before_sync): a pipelined
  // node sends what should wait for its write as soon as it takes the Ready.
  bool driver_sends_before_sync = false;
  bool expect_failure = false;
  std::string expect_invariant;  // --expect-invariant: the failure must be this one
  bool trace = false;
  bool help = false;
  std::string usage;  // filled when help is set
};

// kInvalidArgument with a message naming the bad flag.
Result<SimOptions> parse_options(int argc, const char* const* argv);

// The Mutations switch for NAME (the field names of raft::Mutations).
Result<raft::Mutations> mutation_by_name(const std::string& name);

}  // namespace raftlock::sim
