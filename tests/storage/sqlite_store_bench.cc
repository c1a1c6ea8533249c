// Benchmark of SqliteLogStore writes (not run by ctest: figures, not a
// pass/fail). Each write() is one transaction and one fsync of the WAL, so the
// figures are mostly the disk's fsync latency.
//
// Usage: sqlite_store_bench [directory] [one-entry writes] [64-entry batches]
// The directory defaults to a fresh one under $TMPDIR; pass a directory on the
// disk the node will use to measure that disk.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite_log_store.h"
#include "tests/storage/temp_dir.h"

namespace {

using raftlock::raft::Entry;
using raftlock::raft::EntryType;
using raftlock::raft::HardState;
using raftlock::raft::Index;
using raftlock::raft::StorageWrite;
using raftlock::storage::SqliteLogStore;
using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// p in [0, 1], nearest rank.
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()));
  return v[k];
}

// A Ready's worth of log: `count` entries of 128 bytes after `last`, and the
// hard state that comes with them.
StorageWrite ready(Index last, std::size_t count) {
  StorageWrite w;
  for (std::size_t k = 1; k <= count; ++k) {
    w.entries.push_back(Entry{1, last + k, EntryType::kNormal, std::string(128, 'x')});
  }
  w.hard_state = HardState{1, 1, last};
  return w;
}

struct Figures {
  double seconds;
  std::vector<double> latencies_us;
};

Figures run(SqliteLogStore& store, std::size_t writes, std::size_t entries_per_write) {
  Figures f{0, {}};
  f.latencies_us.reserve(writes);
  const auto start = Clock::now();
  for (std::size_t n = 0; n < writes; ++n) {
    const StorageWrite w = ready(store.last_index(), entries_per_write);
    const auto t0 = Clock::now();
    const raftlock::Status s = store.write(w);
    f.latencies_us.push_back(micros(Clock::now() - t0));
    if (!s.is_ok()) {
      std::fprintf(stderr, "write: %s\n", s.to_string().c_str());
      std::exit(1);
    }
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<raftlock::storage::testing::TempDir> tmp;
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else {
    tmp.emplace();
    dir = tmp->path().string();
  }
  const std::size_t singles = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000;
  const std::size_t batches = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 300;
  const std::string path = dir + "/bench.db";
  std::remove(path.c_str());
  auto opened = SqliteLogStore::open(path);
  if (!opened.is_ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), opened.status().to_string().c_str());
    return 1;
  }
  SqliteLogStore& store = *opened.value();
  std::printf("database: %s\n", path.c_str());

  const Figures one = run(store, singles, 1);
  std::printf(
      "one-entry Readies: %zu writes, %.0f writes/s, p50 %.0f us, p99 %.0f us, max %.0f us\n",
      singles, singles / one.seconds, percentile(one.latencies_us, 0.50),
      percentile(one.latencies_us, 0.99), percentile(one.latencies_us, 1.0));

  const Figures batch = run(store, batches, 64);
  std::printf(
      "64-entry Readies: %zu writes, %.0f entries/s (%.0f writes/s), p50 %.0f us, p99 %.0f us\n",
      batches, batches * 64 / batch.seconds, batches / batch.seconds,
      percentile(batch.latencies_us, 0.50), percentile(batch.latencies_us, 0.99));

  // Reads the core makes after each write: the term of the last entry and
  // the entries just written (served from the in-memory tail).
  const Index last = store.last_index();
  const int reads = 10000;
  auto t0 = Clock::now();
  std::size_t sink = 0;
  for (int k = 0; k < reads; ++k) {
    sink += *store.term(last - k % 64);
    sink += store.entries(last - 63, last + 1, UINT64_MAX)->size();
  }
  const double tail_us = micros(Clock::now() - t0) / reads;
  t0 = Clock::now();
  for (int k = 0; k < reads / 10; ++k)
    sink += store.entries(1, 65, UINT64_MAX)->size();
  const double sqlite_us = micros(Clock::now() - t0) / (reads / 10);
  std::printf(
      "reads: term() + 64 entries from the tail %.1f us; 64 entries from SQLite %.1f us (%zu)\n",
      tail_us, sqlite_us, sink % 10);
  return 0;
}
