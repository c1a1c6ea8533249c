// kill -9 test of SqliteLogStore (tier 4 of STYLE.md, for the storage layer).
//
// A child process (crash_child.cc) writes to the store and reports what it is
// writing and what was acknowledged; the parent kills it with SIGKILL after a
// random 1-50 ms (counted from when the child has opened the store, or from
// spawn in one round of four), reopens the store and requires exactly the acknowledged
// state, or that state plus the one write that was in flight (all of it, never
// part of it). Then the next child continues on the same file. The parent
// models the store with a MemoryLogStore fed the same writes. Every other
// round the child writes as a pipelining node does (write_ordered, then one
// sync for up to four writes): then the store must hold the acknowledged state
// plus a prefix of the writes since (never a later write without an earlier).
//
// This loses the process, not the machine: what it proves is that nothing
// acknowledged stays only in process memory and that a write is atomic.
// Power loss additionally relies on the fdatasync of the WAL after each
// durable write (sqlite_log_store.h, wal_syncer.h).
//
// RAFTLOCK_CRASH_SEED and RAFTLOCK_CRASH_ROUNDS override the defaults.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "raft/memory_log_store.h"
#include "storage/sqlite_log_store.h"
#include "tests/storage/crash_workload.h"
#include "tests/storage/temp_dir.h"

extern char** environ;

namespace raftlock::storage {
namespace {

using raft::Entry;
using raft::Index;
using raft::LogView;
using raft::MemoryLogStore;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child spawn_child(const std::string& db_path, std::uint64_t seed, bool ordered) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO) == 0);
  const std::string seed_arg = std::to_string(seed);
  char* argv[] = {const_cast<char*>(RAFTLOCK_CRASH_CHILD), const_cast<char*>(db_path.c_str()),
                  const_cast<char*>(seed_arg.c_str()),
                  ordered ? const_cast<char*>("ordered") : nullptr, nullptr};
  Child c;
  const int rc = posix_spawn(&c.pid, RAFTLOCK_CRASH_CHILD, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  REQUIRE_MESSAGE(rc == 0, "posix_spawn " RAFTLOCK_CRASH_CHILD);
  c.out_fd = fds[0];
  return c;
}

// Reads what is available from `fd` into `out`, waiting until `deadline` at
// most (forever without one). False on timeout or end of file.
bool read_some(int fd, std::string& out, std::optional<Clock::time_point> deadline) {
  char buf[65536];
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return false;
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;  // timed out
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // end of file: the child is gone
    out.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

// Reads until `deadline`, or until end of file without one.
void read_until(int fd, std::string& out, std::optional<Clock::time_point> deadline) {
  while (read_some(fd, out, deadline)) {
  }
}

std::vector<std::string> complete_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(out.substr(start, nl - start));
  }
  return lines;  // a cut-off last line is dropped: it was never fully written
}

// The log must be well formed whatever it holds: consecutive indexes, terms
// non-decreasing from the snapshot's, and the content the workload derives
// from each index and term.
std::string check_well_formed(const LogView& store) {
  const raft::Snapshot snap = store.snapshot();
  if (snap.meta.index != 0 && snap != crash::make_snapshot(snap.meta.index, snap.meta.term)) {
    return "snapshot content differs";
  }
  const auto all = store.entries(store.first_index(), store.last_index() + 1, UINT64_MAX);
  if (!all.is_ok()) return "entries(): " + all.status().to_string();
  raft::Term prev = snap.meta.term;
  Index want = store.first_index();
  for (const Entry& e : *all) {
    std::ostringstream where;
    where << "entry " << e.index << " (term " << e.term << "): ";
    if (e.index != want) return where.str() + "expected index " + std::to_string(want);
    if (e.term < prev) return where.str() + "term went down";
    if (e != crash::make_entry(e.index, e.term)) return where.str() + "content differs";
    prev = e.term;
    ++want;
  }
  if (want != store.last_index() + 1) return "entries() returned too few entries";
  return "";
}

// "" when `got` holds exactly what `want` holds.
std::string diff(const LogView& got, const LogView& want) {
  if (crash::format_state('S', got) != crash::format_state('S', want)) {
    return "state " + crash::format_state('S', got) + " vs expected " +
           crash::format_state('S', want);
  }
  if (got.snapshot() != want.snapshot()) return "snapshots differ";
  if (got.first_index() != want.first_index()) return "first indexes differ";
  const auto g = got.entries(got.first_index(), got.last_index() + 1, UINT64_MAX);
  const auto w = want.entries(want.first_index(), want.last_index() + 1, UINT64_MAX);
  if (!g.is_ok() || !w.is_ok() || *g != *w) return "entries differ";
  return "";
}

TEST_CASE("sqlite log store: kill -9 loses nothing acknowledged and never half a write") {
  const std::uint64_t seed = env_or("RAFTLOCK_CRASH_SEED", std::random_device{}());
  const std::uint64_t rounds = env_or("RAFTLOCK_CRASH_ROUNDS", 120);
  MESSAGE("seed " << seed << " (replay the workload with RAFTLOCK_CRASH_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string db_path = dir.file("node.db");

  MemoryLogStore acked;  // everything acknowledged so far
  // acked + the first k writes without an "A", for k = 1, 2, ...
  std::vector<MemoryLogStore> in_flight;
  std::uint64_t kills = 0, acks = 0, in_flight_landed = 0, in_flight_lost = 0;
  const auto started = Clock::now();

  for (std::uint64_t round = 0; round < rounds; ++round) {
    INFO("round " << round << ", seed " << seed);
    const Child child = spawn_child(db_path, seed * 1000003 + round, round % 2 == 1);
    const auto delay = std::chrono::milliseconds(1 + rng() % 50);
    std::string out;
    // Most rounds start the delay once the child has opened the store (its
    // "R" line), so that they kill it while it writes however slow the
    // machine is; every fourth starts it at spawn, so that some kills land
    // while the store opens and SQLite recovers the WAL.
    if (round % 4 != 0) {
      const auto open_deadline = Clock::now() + std::chrono::seconds(10);
      while (out.find('\n') == std::string::npos && read_some(child.out_fd, out, open_deadline)) {
      }
    }
    read_until(child.out_fd, out, Clock::now() + delay);
    REQUIRE(::kill(child.pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
    read_until(child.out_fd, out, std::nullopt);  // what it wrote before dying
    ::close(child.out_fd);
    INFO("child output:\n" << out);
    REQUIRE_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                    "the child ended on its own, status " << status);
    ++kills;

    for (const std::string& line : complete_lines(out)) {
      if (line[0] == 'R') {
        REQUIRE(line == crash::format_state('R', acked));
      } else if (line[0] == 'W') {
        const std::optional<crash::WriteDesc> d = crash::parse_write(line);
        REQUIRE(d.has_value());
        in_flight.push_back(in_flight.empty() ? acked : in_flight.back());
        const Status s = in_flight.back().write(crash::to_write(*d));
        INFO(line << ": " << s.to_string());
        REQUIRE(s.is_ok());
      } else {
        REQUIRE(line[0] == 'A');
        REQUIRE(!in_flight.empty());
        REQUIRE(line == crash::format_state('A', in_flight.back()));
        acked = std::move(in_flight.back());
        in_flight.clear();
        ++acks;
      }
    }

    auto store = SqliteLogStore::open(db_path);
    INFO(store.status().to_string());
    REQUIRE(store.is_ok());
    const std::string malformed = check_well_formed(*store.value());
    INFO(malformed);
    REQUIRE(malformed.empty());
    const std::string vs_acked = diff(*store.value(), acked);
    if (!vs_acked.empty()) {
      // Not the acknowledged state: then exactly a prefix of the writes in
      // flight landed, each whole.
      INFO("against the acknowledged state: " << vs_acked);
      INFO(in_flight.size() << " writes in flight");
      std::size_t landed = 0;
      for (std::size_t k = 0; k < in_flight.size() && landed == 0; ++k) {
        if (diff(*store.value(), in_flight[k]).empty()) landed = k + 1;
      }
      REQUIRE(landed > 0);
      acked = std::move(in_flight[landed - 1]);
      ++in_flight_landed;
    } else if (!in_flight.empty()) {
      ++in_flight_lost;
    }
    in_flight.clear();
  }

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  MESSAGE(kills << " kills, " << acks << " acknowledged writes, in-flight write found durable "
                << in_flight_landed << " times and absent " << in_flight_lost << " times, final "
                << crash::format_state('S', acked) << ", " << seconds << " s");
  CHECK(kills >= rounds);
  // The workload did run between the kills (a few per round on a fast disk;
  // kept low so that a slow, busy disk does not fail the test).
  CHECK(acks >= 10);
}

}  // namespace
}  // namespace raftlock::storage
