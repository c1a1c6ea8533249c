// The benchmark scenarios. Each returns the body of one JSON report line.
//
//   single       1 worker, sequential acquire+release on its own lock
//   uncontended  C workers, each on its own lock: cycles/s, acquire latency
//   contended    C workers on one lock: hand-offs/s, acquire latency and a
//                client-side mutual-exclusion check (in-process holder count;
//                raftlock also: fencing tokens must increase)
//   memory       S sessions holding L locks in total, created by C workers
//                concurrently and left in place; reports the servers' RSS
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "lock_target.h"
#include "options.h"

namespace raftlock::bench {

boost::asio::awaitable<nlohmann::ordered_json> run_loop_scenario(LockTarget& target,
                                                                 const Options& opts);
boost::asio::awaitable<nlohmann::ordered_json> run_memory_scenario(LockTarget& target,
                                                                   const Options& opts);

// A short random hex id that keeps one run's lock names apart from another's.
std::string random_run_id();

}  // namespace raftlock::bench
