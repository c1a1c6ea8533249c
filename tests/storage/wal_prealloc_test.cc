// preallocate_wal: the WAL grows with zeros to the size asked for; entries
// written over the zeros and past them read back, also from a copy of the
// files taken as a crash would leave them; it never shrinks a WAL and never
// creates one.
#include "storage/wal_prealloc.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/sqlite_log_store.h"
#include "tests/storage/open_store.h"
#include "tests/storage/temp_dir.h"
#include "tests/unit/log_store_conformance.h"

namespace raftlock::storage {
namespace {

namespace fs = std::filesystem;
using raft::Entry;
using raft::log_store_conformance::append_write;
using raft::log_store_conformance::check_contents;
using raft::log_store_conformance::ents;
using raft::log_store_conformance::Expected;
using raft::log_store_conformance::write_ok;
using testing::open_ok;
using testing::TempDir;

// Entries of about 3 KiB each, so a few hundred fill the WAL past 1 MiB.
void append(SqliteLogStore& store, Expected& want, raft::Index first, int n) {
  std::vector<Entry> batch = ents(first, std::vector<raft::Term>(static_cast<std::size_t>(n), 2));
  for (Entry& e : batch)
    e.data = std::string(3000, static_cast<char>('a' + e.index % 26));
  write_ok(store, append_write(batch));
  want.entries.insert(want.entries.end(), batch.begin(), batch.end());
}

bool all_zero_from(const std::string& path, std::uintmax_t from) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  char c;
  while (in.get(c))
    if (c != 0) return false;
  return true;
}

TEST_CASE("preallocated WAL: writes go over the zeros and past them, and survive a crash") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  const std::uintmax_t kBytes = 1 << 20;
  auto store = open_ok(path);
  Expected want;
  append(*store, want, 1, 10);
  const std::uintmax_t before = fs::file_size(path + "-wal");
  REQUIRE(before < kBytes);
  REQUIRE(preallocate_wal(path + "-wal", kBytes).is_ok());
  CHECK(fs::file_size(path + "-wal") == kBytes);
  CHECK(all_zero_from(path + "-wal", before));
  CHECK(preallocate_wal(path + "-wal", kBytes / 2).is_ok());  // never shrinks
  CHECK(fs::file_size(path + "-wal") == kBytes);

  // Within the preallocated size: the file keeps its size.
  for (raft::Index i = 11; i <= 100; i += 10)
    append(*store, want, i, 10);
  CHECK(fs::file_size(path + "-wal") == kBytes);
  check_contents(*store, want);

  // What kill -9 leaves (the database and its WAL, no shared memory): every
  // written entry, none of the zeros taken for frames.
  const std::string crashed = dir.file("crashed.db");
  for (const char* suffix : {"", "-wal"})
    fs::copy_file(path + suffix, crashed + suffix);
  check_contents(*open_ok(crashed), want);

  // Past the preallocated size, and back after a restart.
  for (raft::Index i = 101; i <= 600; i += 50)
    append(*store, want, i, 50);
  CHECK(fs::file_size(path + "-wal") > kBytes);
  store.reset();
  check_contents(*open_ok(path), want);
}

TEST_CASE("preallocated WAL: kept through a clean close, not written again") {
  TempDir dir;
  const std::string path = dir.file("kept.db");
  const std::uintmax_t kBytes = 1 << 20;
  auto store = open_ok(path);
  Expected want;
  append(*store, want, 1, 10);
  REQUIRE(preallocate_wal(path + "-wal", kBytes).is_ok());
  REQUIRE(keep_wal_on_close(store->database()).is_ok());
  const auto written = fs::last_write_time(path + "-wal");
  store.reset();  // the last connection: SQLite checkpoints, and keeps the file
  REQUIRE(fs::exists(path + "-wal"));
  CHECK(fs::file_size(path + "-wal") == kBytes);
  const auto closed = fs::last_write_time(path + "-wal");
  CHECK(closed >= written);
  CHECK(preallocate_wal(path + "-wal", kBytes).is_ok());  // nothing left to write
  CHECK(fs::last_write_time(path + "-wal") == closed);
  store = open_ok(path);
  check_contents(*store, want);
}

TEST_CASE("preallocated WAL: a missing WAL is not created") {
  TempDir dir;
  const std::string path = dir.file("none.db");
  CHECK(preallocate_wal(path + "-wal", 1 << 20).is_ok());
  CHECK(!fs::exists(path + "-wal"));
}

}  // namespace
}  // namespace raftlock::storage
