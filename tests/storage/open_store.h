// Opens a SqliteLogStore in a test, requiring success (the failure's status
// is shown).
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "storage/sqlite_log_store.h"

namespace raftlock::storage::testing {

inline std::unique_ptr<SqliteLogStore> open_ok(const std::string& path,
                                               const SqliteLogStoreOptions& options = {}) {
  auto store = SqliteLogStore::open(path, options);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

}  // namespace raftlock::storage::testing
