#include "tests/sim/sim_options.h"

#include <boost/program_options.hpp>
#include <sstream>

namespace raftlock::sim {

namespace po = boost::program_options;

Result<raft::Mutations> mutation_by_name(const std::string& name) {
  raft::Mutations m;
  if (name == "commit_old_term_by_count") {
    m.commit_old_term_by_count = true;
  } else if (name == "grant_two_votes_per_term") {
    m.grant_two_votes_per_term = true;
  } else if (name == "skip_conflict_truncation") {
    m.skip_conflict_truncation = true;
  } else if (name == "ignore_log_up_to_date") {
    m.ignore_log_up_to_date = true;
  } else if (name == "count_unsynced_leader_entries") {
    m.count_unsynced_leader_entries = true;
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "--mutation: unknown '" + name +
                      "' (commit_old_term_by_count, grant_two_votes_per_term, "
                      "skip_conflict_truncation, ignore_log_up_to_date, "
                      "count_unsynced_leader_entries)");
  }
  return m;
}

namespace {

// "A:B" -> [A, B].
Status parse_range(const std::string& s, SimOptions* o) {
  const auto colon = s.find(':');
  const Status bad(ErrorCode::kInvalidArgument, "--seeds: want A:B with A <= B, got '" + s + "'");
  if (colon == std::string::npos) return bad;
  try {
    std::size_t used = 0;
    o->first_seed = std::stoull(s.substr(0, colon), &used);
    if (used != colon) return bad;
    const std::string hi = s.substr(colon + 1);
    o->last_seed = std::stoull(hi, &used);
    if (used != hi.size()) return bad;
  } catch (const std::exception&) {
    return bad;
  }
  return o->first_seed <= o->last_seed ? Status::ok() : bad;
}

}  // namespace

Result<SimOptions> parse_options(int argc, const char* const* argv) {
  SimOptions o;
  po::options_description desc("raft_sim: deterministic simulation of raft::Core");
  desc.add_options()("help,h", "this text")("seed", po::value<std::uint64_t>(), "run one seed")(
      "seeds", po::value<std::string>(), "run seeds A:B (inclusive)")(
      "nodes", po::value<int>(), "cluster size, 3 or 5 (default: chosen per seed)")(
      "steps", po::value<int>(), "workload actions before healing (default 300)")(
      "workload", po::value<std::string>(), "raft (default) or locks: add lock clients")(
      "mutation", po::value<std::string>(),
      "break a rule on purpose: config.h Mutations, or lock_replica_skips_entry, "
      "lock_expiry_ignores_term, lock_campaign_shared, driver_sends_before_sync")(
      "expect-failure", "exit 0 iff some seed fails")(
      "expect-invariant", po::value<std::string>(),
      "like --expect-failure, and the first failure must break this invariant")(
      "trace", "print a per-event trace");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status(ErrorCode::kInvalidArgument, e.what());
  }
  if (vm.count("help")) {
    std::ostringstream out;
    out << desc;
    o.help = true;
    o.usage = out.str();
    return o;
  }
  if (vm.count("seed") && vm.count("seeds")) {
    return Status(ErrorCode::kInvalidArgument, "give --seed or --seeds, not both");
  }
  if (vm.count("seed")) o.first_seed = o.last_seed = vm["seed"].as<std::uint64_t>();
  if (vm.count("seeds")) {
    if (Status s = parse_range(vm["seeds"].as<std::string>(), &o); !s) return s;
  }
  if (vm.count("nodes")) {
    o.nodes = vm["nodes"].as<int>();
    if (o.nodes != 3 && o.nodes != 5) {
      return Status(ErrorCode::kInvalidArgument, "--nodes: want 3 or 5");
    }
  }
  if (vm.count("steps")) {
    o.steps = vm["steps"].as<int>();
    if (o.steps < 1 || o.steps > 1000000) {
      return Status(ErrorCode::kInvalidArgument, "--steps: want 1..1000000");
    }
  }
  if (vm.count("workload")) {
    const std::string w = vm["workload"].as<std::string>();
    if (w != "raft" && w != "locks") {
      return Status(ErrorCode::kInvalidArgument, "--workload: want raft or locks");
    }
    o.locks = w == "locks";
  }
  if (vm.count("mutation")) {
    o.mutation = vm["mutation"].as<std::string>();
    if (o.mutation == "lock_replica_skips_entry") {
      o.lock_mutations.replica_skips_entry = true;
    } else if (o.mutation == "lock_expiry_ignores_term") {
      o.lock_mutations.expiry_ignores_term = true;
    } else if (o.mutation == "lock_campaign_shared") {
      o.lock_mutations.campaign_shared = true;
    } else if (o.mutation == "driver_sends_before_sync") {
      o.driver_sends_before_sync = true;
    } else {
      Result<raft::Mutations> m = mutation_by_name(o.mutation);
      if (!m) return m.status();
      o.mutations = *m;
    }
    if (o.mutation.starts_with("lock_") && !o.locks) {
      return Status(ErrorCode::kInvalidArgument,
                    "--mutation " + o.mutation + " needs --workload locks");
    }
  }
  o.expect_failure = vm.count("expect-failure") > 0 || vm.count("expect-invariant") > 0;
  if (vm.count("expect-invariant")) o.expect_invariant = vm["expect-invariant"].as<std::string>();
  o.trace = vm.count("trace") > 0;
  return o;
}

}  // namespace raftlock::sim
