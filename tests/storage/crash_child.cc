// The child of the kill -9 test (crash_test.cc): opens a SqliteLogStore and
// writes to it until it is killed, reporting on stdout what it is about to
// write and what each write() acknowledged (protocol in crash_workload.h).
// With "ordered" it writes as a pipelining node does: one to four
// write_ordered() calls, then one sync of the store's syncer, acknowledged
// with the state after the last of them.
//
// Usage: crash_child <database path> <seed> [ordered]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "storage/sqlite_log_store.h"
#include "storage/wal_prealloc.h"
#include "tests/storage/crash_workload.h"

namespace {

// One line, written and flushed at once: the parent reads the pipe after the
// kill, so a line is either whole or (cut off) ignored.
void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using raftlock::storage::SqliteLogStore;
  namespace crash = raftlock::storage::crash;
  if (argc != 3 && !(argc == 4 && std::string(argv[3]) == "ordered")) {
    std::fprintf(stderr, "usage: %s <database path> <seed> [ordered]\n", argv[0]);
    return 2;
  }
  const bool ordered = argc == 4;
  auto store = SqliteLogStore::open(argv[1]);
  if (!store.is_ok()) {
    std::fprintf(stderr, "crash_child: open %s: %s\n", argv[1], store.status().to_string().c_str());
    return 1;
  }
  // As raftlockd does at startup (smaller): the writes go over the zeros,
  // then past them.
  const raftlock::Status pre =
      raftlock::storage::preallocate_wal(store.value()->database().wal_path(), 256 << 10);
  if (!pre.is_ok()) {
    std::fprintf(stderr, "crash_child: preallocate: %s\n", pre.to_string().c_str());
    return 1;
  }
  std::shared_ptr<raftlock::raft::WriteSyncer> syncer;
  if (ordered && !(syncer = store.value()->syncer())) {
    std::fprintf(stderr, "crash_child: the store has no syncer\n");
    return 1;
  }
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  say(crash::format_state('R', *store.value()));
  // A safety net in case the parent never kills us.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const int writes = ordered ? 1 + static_cast<int>(rng() % 4) : 1;
    for (int k = 0; k < writes; ++k) {
      const crash::WriteDesc d = crash::next_write(*store.value(), rng);
      say(crash::format_write(d));
      const raftlock::raft::StorageWrite w = crash::to_write(d);
      const raftlock::Status s =
          ordered ? store.value()->write_ordered(w) : store.value()->write(w);
      if (!s.is_ok()) {
        std::fprintf(stderr, "crash_child: write: %s\n", s.to_string().c_str());
        return 1;
      }
    }
    if (syncer) {
      const raftlock::Status s = syncer->sync();
      if (!s.is_ok()) {
        std::fprintf(stderr, "crash_child: sync: %s\n", s.to_string().c_str());
        return 1;
      }
    }
    say(crash::format_state('A', *store.value()));
  }
  return 3;
}
