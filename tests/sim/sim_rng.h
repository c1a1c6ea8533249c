// Rng: the one source of randomness of a simulation run.
//
// Every random choice of a run (delays, drops, faults, workload, per-node Core
// seeds) comes from one std::mt19937_64 seeded with the run's seed, so a seed
// replays the run exactly. Ranges use explicit modulo arithmetic rather than
// std::uniform_*_distribution, whose output is implementation-defined and
// would make a seed mean different runs on different standard libraries. The
// modulo bias is negligible for the small ranges used here.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace raftlock::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}

  std::uint64_t next() { return gen_(); }
  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) { return gen_() % n; }
  // Uniform in [lo, hi], both inclusive. REQUIRES: lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability per_mille / 1000.
  bool chance(std::uint64_t per_mille) { return below(1000) < per_mille; }

  // A uniformly chosen element. REQUIRES: !v.empty().
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  std::mt19937_64 gen_;
};

// A seed for a sub-component (e.g. one node incarnation's Core), derived from
// the run seed with splitmix64 so that nearby inputs give unrelated seeds.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace raftlock::sim
