// raft_sim: runs the deterministic simulation over a range of seeds.
//
// Each seed is one reproducible run (sim_cluster.h). A failing seed prints one
// line with the seed, the invariant and the details, plus the command that
// replays it with a per-event trace. The summary goes to stdout at the end.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "tests/sim/sim_cluster.h"
#include "tests/sim/sim_format.h"
#include "tests/sim/sim_options.h"

namespace {

using raftlock::sim::cat;

// The only mutable global: a RAFTLOCK_ASSERT inside the core aborts the process,
// and the SIGABRT handler can only tell which seed did it through a global.
// The message is formatted before each run so the handler only calls write().
char g_abort_message[512];

extern "C" void on_abort(int) {
  const ssize_t ignored = write(STDERR_FILENO, g_abort_message, std::strlen(g_abort_message));
  (void)ignored;
}

std::string replay_command(const raftlock::sim::SimOptions& o, std::uint64_t seed) {
  std::string cmd = cat("raft_sim --seed ", seed);
  if (o.nodes) cmd += cat(" --nodes ", o.nodes);
  if (o.steps != raftlock::sim::SimOptions{}.steps) cmd += cat(" --steps ", o.steps);
  if (o.locks) cmd += " --workload locks";
  if (!o.mutation.empty()) cmd += " --mutation " + o.mutation;
  return cmd + " --trace";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace raftlock::sim;
  const raftlock::Result<SimOptions> parsed = parse_options(argc, argv);
  if (!parsed) {
    std::cerr << "raft_sim: " << parsed.status().message() << " (see --help)\n";
    return 2;
  }
  const SimOptions& o = *parsed;
  if (o.help) {
    std::cout << o.usage;
    return 0;
  }
  std::signal(SIGABRT, on_abort);

  const auto started = std::chrono::steady_clock::now();  // for the summary only
  RunStats total;
  std::uint64_t wl_requests = 0, wl_refused = 0, wl_answered = 0, wl_sessions = 0,
                wl_keepalives = 0, wl_expiry_proposals = 0, wl_sweeps = 0;
  std::uint64_t runs = 0, failures = 0;
  std::string first_failure;  // the invariant of the first failing seed (--expect-failure)
  constexpr std::uint64_t kMaxReported = 20;
  for (std::uint64_t seed = o.first_seed;; ++seed) {
    std::snprintf(g_abort_message, sizeof(g_abort_message),
                  "raft_sim: FAIL seed=%llu: the process aborted (RAFTLOCK_ASSERT in the core?)"
                  "; replay: %s\n",
                  static_cast<unsigned long long>(seed), replay_command(o, seed).c_str());
    RunConfig rc;
    rc.nodes = o.nodes;
    rc.steps = o.steps;
    rc.mutations = o.mutations;
    rc.locks = o.locks;
    rc.lock_mutations = o.lock_mutations;
    rc.driver_sends_before_sync = o.driver_sends_before_sync;
    rc.trace = o.trace ? &std::cout : nullptr;
    Cluster cluster(seed, rc);
    const RunResult r = cluster.run();
    ++runs;
    total.events += r.stats.events;
    total.proposals_acked += r.stats.proposals_acked;
    total.elections += r.stats.elections;
    total.crashes += r.stats.crashes;
    total.reads_served += r.stats.reads_served;
    total.snapshots_restored += r.stats.snapshots_restored;
    total.conf_changes += r.stats.conf_changes;
    total.virtual_ms += r.stats.virtual_ms;
    total.locks.commands += r.stats.locks.commands;
    total.locks.grants += r.stats.locks.grants;
    total.locks.sessions_ended += r.stats.locks.sessions_ended;
    total.locks.sessions_expired += r.stats.locks.sessions_expired;
    total.locks.stale_expiries += r.stats.locks.stale_expiries;
    total.locks.errors += r.stats.locks.errors;
    wl_requests += r.stats.lock_clients.requests;
    wl_refused += r.stats.lock_clients.refused;
    wl_answered += r.stats.lock_clients.answered;
    wl_sessions += r.stats.lock_clients.sessions_created;
    wl_keepalives += r.stats.lock_clients.keepalives;
    wl_expiry_proposals += r.stats.lock_clients.expiry_proposals;
    wl_sweeps += r.stats.lock_clients.sweep_proposals;
    if (r.failure) {
      if (++failures <= kMaxReported) {
        std::cout << "raft_sim: FAIL seed=" << seed << " invariant=" << r.failure->invariant
                  << " at " << r.failed_at_ms << "ms (" << r.params.nodes
                  << " nodes): " << r.failure->detail << "; replay: " << replay_command(o, seed)
                  << std::endl;
      }
      if (o.expect_failure) {
        first_failure = r.failure->invariant;
        break;  // one failure is the proof asked for
      }
    }
    if (seed == o.last_seed) break;
  }
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << "raft_sim: seeds " << o.first_seed << ".." << o.last_seed << ": " << runs << " run, "
            << failures << " failing" << (o.mutation.empty() ? "" : ", mutation " + o.mutation)
            << "; " << total.events << " events, " << total.proposals_acked
            << " proposals committed and acknowledged, " << total.elections << " elections, "
            << total.crashes << " crashes, " << total.conf_changes << " membership changes, "
            << total.snapshots_restored << " snapshots restored, " << total.reads_served
            << " reads, " << total.virtual_ms / 1000 << " s virtual, " << elapsed_s
            << " s elapsed\n";
  if (o.locks) {
    std::cout << "raft_sim: locks: " << total.locks.commands << " commands applied ("
              << total.locks.errors << " answered with an error), " << total.locks.grants
              << " grants, " << total.locks.sessions_ended << " sessions ended ("
              << total.locks.sessions_expired << " expired), " << total.locks.stale_expiries
              << " stale-term expiry entries; clients: " << wl_requests << " requests proposed ("
              << wl_refused << " more refused), " << wl_answered << " answered, " << wl_sessions
              << " sessions created, " << wl_keepalives
              << " keepalives delivered; leaders: " << wl_expiry_proposals << " expiry and "
              << wl_sweeps << " sweep proposals\n";
  }
  if (o.expect_failure) {
    if (failures == 0) {
      std::cout << "raft_sim: expected a failure (mutation " << o.mutation
                << ") but every seed passed: the checks did not bite\n";
      return 1;
    }
    if (!o.expect_invariant.empty() && first_failure != o.expect_invariant) {
      std::cout << "raft_sim: expected invariant " << o.expect_invariant << " to fail, but "
                << first_failure << " did\n";
      return 1;
    }
    return 0;
  }
  return failures == 0 ? 0 : 1;
}
